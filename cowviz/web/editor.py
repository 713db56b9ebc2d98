"""The scenario editor: /edit and /edit/NAME, the ES modules it loads from node_modules, and Save.

The page's code editor is CodeMirror 6 from npm (package.json + package-lock.json).  Its packages
are served from node_modules as they are, as ES modules: the page's import map sends each bare
specifier (`@codemirror/view`) to the package's own module file under /npm/.  Only the packages the
editor needs (the ones it imports and their dependencies, read from their package.json files) are
served, and only their .js files.  The import map is the one inline script of the app; the
Content-Security-Policy allows it by its SHA-256 hash (importmap_hash(), docs/authoring.md).

Save writes into the folder given with `--author DIR` (COWVIZ_AUTHOR): a name inside that folder
only, written to a temporary file and renamed over the old one (atomic).  Without the flag nothing
is written on the server; the page downloads the file instead.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import re
import tempfile

import yaml
from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_from_directory

from ..eras import ALIASES, ERAS
from ..scenario.command import grammar_json
from ..scenario.loader import ASK_KEYS, STEP_KEYS, TOP_KEYS
from .library import MAX_DRAFT_BYTES, WebError

bp = Blueprint("cowviz_editor", __name__)

# What the editor imports; everything they depend on is found from their package.json files.
ROOTS = ("codemirror", "@codemirror/view", "@codemirror/state", "@codemirror/language", "@codemirror/lang-yaml",
         "@codemirror/autocomplete", "@codemirror/lint", "@codemirror/commands")
SAVE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,80}\Z")

NEW_FILE = """\
# A new scenario: see docs/authoring.md.  Completion: Ctrl-Space.
title: My scenario
summary: What this walkthrough shows.
eras: [5.9-rc, 5.9]
steps:
  - do: mmap P buf 1
    say: P maps one page.
  - do: write P buf[0] A
    say: The first write faults a page in.
  - do: fork P C
    say: The child shares the page, write-protected.
  - do: write P buf[0] B
    say: The parent writes and copy-on-write gives it a copy.
  - do: read C buf[0]
    expect: A
"""


@functools.lru_cache(maxsize=4)
def _packages(node_modules: str) -> dict:
    """name -> (folder, module file) for the ROOTS and their dependencies."""
    out, todo = {}, list(ROOTS)
    while todo:
        name = todo.pop()
        if name in out:
            continue
        folder = os.path.join(node_modules, *name.split("/"))
        try:
            with open(os.path.join(folder, "package.json"), encoding="utf-8") as f:
                meta = json.load(f)
        except (OSError, ValueError):
            continue                      # not installed: the page says so (see editor())
        exports = meta.get("exports", {})
        entry = exports.get(".", exports) if isinstance(exports, dict) else {}
        module = entry.get("import") if isinstance(entry, dict) else None
        module = module or meta.get("module") or meta.get("main") or "index.js"
        out[name] = (folder, os.path.normpath(module).replace(os.sep, "/"))
        todo += list(meta.get("dependencies", {}))
    return out


def importmap_text(node_modules: str) -> str:
    """The import map, as the exact text put in the page (its hash goes into the CSP)."""
    imports = {name: f"/npm/{name}/{module}" for name, (_, module) in sorted(_packages(node_modules).items())}
    return json.dumps({"imports": imports}, sort_keys=True, separators=(",", ":"))


def importmap_hash(node_modules: str) -> str:
    """The CSP source that allows the import map and nothing else: 'sha256-...'."""
    digest = hashlib.sha256(importmap_text(node_modules).encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _node_modules() -> str:
    return current_app.config["COWVIZ_NODE_MODULES"]


@bp.route("/npm/<path:filename>")
def npm(filename):
    """A module file of one of the editor's packages (and nothing else from node_modules)."""
    packages = _packages(_node_modules())
    parts = filename.split("/")
    name = "/".join(parts[:2]) if parts[0].startswith("@") else parts[0]
    rest = filename[len(name) + 1:]
    if name not in packages or not rest.endswith(".js") or ".." in rest.split("/"):
        abort(404)
    return send_from_directory(packages[name][0], rest, mimetype="text/javascript")


def _library():
    return current_app.extensions["cowviz"]["library"]


def _boot(name: str | None, text: str, mode: str) -> dict:
    author = current_app.config.get("COWVIZ_AUTHOR")
    return {"page": mode, "name": name, "text": text, "grammar": grammar_json(),
            "stamp": _library().stamp(name) if name else None,
            "keys": {"top": list(TOP_KEYS), "step": list(STEP_KEYS), "ask": list(ASK_KEYS)},
            "all_eras": [{"id": e.id, "title": e.title, "kernels": e.kernels, "summary": e.summary}
                         for e in ERAS.values()],
            "aliases": dict(ALIASES), "author": bool(author), "max_bytes": MAX_DRAFT_BYTES,
            "save_name": (name or "my-scenario").split("/")[-1] + ".yaml"}


def _page(name: str | None, text: str, mode: str):
    missing = [n for n in ROOTS if n not in _packages(_node_modules())]
    if missing:
        return render_template("error.html", page="error",
                               message=f"the editor needs {', '.join(missing)} from npm: run scripts/setup.sh "
                                       "(npm ci) to install them"), 503
    from flask import make_response
    from .security import policy
    response = make_response(render_template("edit.html", page=mode, boot=_boot(name, text, mode),
                                             importmap=importmap_text(_node_modules())))
    # The same policy as every page, plus the hash of this page's import map (its one inline script).
    response.headers["Content-Security-Policy"] = policy(current_app.config.get("COWVIZ_FRAME_ANCESTORS", ()),
                                                         (importmap_hash(_node_modules()),))
    return response


@bp.route("/edit")
def edit_new():
    return _page(None, NEW_FILE, "edit")


@bp.route("/edit/<path:name>")
def edit(name):
    try:
        entry = _library().entry(name)
        with open(entry.path, encoding="utf-8") as f:
            text = f.read()
    except (WebError, OSError, UnicodeDecodeError) as e:
        return render_template("error.html", page="error", message=str(e)), 404
    return _page(name, text, "edit")


@bp.route("/view")
def view_shared():
    """The player for a scenario carried in the link's fragment (#s=...): the editor page, editor hidden."""
    return _page(None, "", "view")


def step_lines(text: str) -> list[int]:
    """The first line (1-based) of each step item in the file, for "the step under the cursor"."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for k, v in root.value:
        if isinstance(k, yaml.ScalarNode) and k.value == "steps" and isinstance(v, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in v.value]
    return []


@bp.route("/edit/save", methods=["POST"])
def save():
    """Write a scenario into the --author folder: {name, text} -> {ok, path} or {ok: false, error}."""
    folder = current_app.config.get("COWVIZ_AUTHOR")
    if not folder:
        return jsonify(ok=False, error="this server saves nothing (start it with --author DIR to save into DIR); "
                                       "the file was downloaded instead"), 403
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not isinstance(data.get("text"), str):
        return jsonify(ok=False, error="save: send {name, text} as JSON"), 400
    try:
        path = save_into(folder, data["name"], data["text"])
    except WebError as e:
        return jsonify(ok=False, error=str(e)), 400
    return jsonify(ok=True, path=os.path.basename(path))


def save_into(folder: str, name: str, text: str) -> str:
    """Atomically write `text` as folder/name(.yaml).  WebError for a name outside the folder or too much text."""
    base = name[:-5] if name.endswith(".yaml") else name
    if not SAVE_NAME.match(base) or base.startswith(".") or ".." in base:
        raise WebError(f"cannot save as {name!r}: a file name in the author folder (letters, digits, '_', '.', '-'), "
                       "no folders")
    if len(text.encode("utf-8")) > MAX_DRAFT_BYTES:
        raise WebError(f"cannot save: more than {MAX_DRAFT_BYTES // 1024} KiB")
    folder = os.path.realpath(folder)
    path = os.path.join(folder, base + ".yaml")
    if os.path.dirname(os.path.realpath(path)) != folder:
        raise WebError(f"cannot save as {name!r}: it is outside the author folder")
    fd, tmp = tempfile.mkstemp(prefix=".saving-", suffix=".yaml", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
