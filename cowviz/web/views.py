"""The HTTP side: the library, the tutorial, the player and sandbox pages, and the socket.io client file."""
from __future__ import annotations

import os

from flask import Blueprint, abort, current_app, render_template, send_from_directory

from ..eras import ERAS
from ..limits import MAX_DIGITS, LimitError, ascii_int
from ..scenario.command import USAGE
from .library import WebError
from .glossary import render_narration
from .markdown import render_markdown

bp = Blueprint("cowviz", __name__)

# The only files served out of node_modules: the socket.io browser client (npm, package-lock.json).
VENDOR = {"socket.io.esm.min.js": "socket.io-client/dist",
          "socket.io.esm.min.js.map": "socket.io-client/dist"}


def _library():
    return current_app.extensions["cowviz"]["library"]


def _eras_info() -> list:
    return [{"id": e.id, "title": e.title, "kernels": e.kernels, "summary": e.summary} for e in ERAS.values()]


def _card(entry) -> dict:
    s = entry.scenario
    if s is None:
        return {"name": entry.name, "error": _library().error_text(entry), "edit": f"/edit/{entry.name}"}
    return {"name": entry.name, "title": s.title, "summary": render_narration(s.summary), "eras": list(s.eras),
            "level": s.level, "tags": list(s.tags), "steps": len(s.steps), "compare": list(s.compare),
            "asks": sum(1 for st in s.steps if st.ask is not None), "series": entry.in_series,
            "number": s.order if s.series else None, "edit": f"/edit/{entry.name}",
            "url": _play_url(entry.name, s)}


def _play_url(name: str, s) -> str:
    # A walkthrough about the difference between eras opens in the comparison view.
    if s.compare:
        return f"/play/{name}?compare={','.join(s.compare)}"
    return f"/play/{name}"


@bp.route("/")
def library():
    sections = [{"label": s["label"], "groups": [{"title": _group_title(s["label"], g), "cards": [_card(e) for e in es]}
                                                 for g, es in s["groups"]]}
                for s in _library().sections()]
    cards = [c for s in sections for g in s["groups"] for c in g["cards"]]
    return render_template("library.html", page="library", cards=cards, sections=sections, eras=_eras_info())


def _group_title(section: str, series: str | None) -> str:
    if series == "tutorial" and not section:
        return "Tutorial walkthroughs"
    if series is None:
        return "Reference scenarios" if not section else "Scenarios"
    return series


@bp.route("/stamp")
def stamp():
    """For pages that refresh when files change: the library's stamp, or one file's (with its text: ?text=1)."""
    from flask import jsonify, request
    name = request.args.get("name")
    library = _library()
    if name is None:
        return jsonify(stamp=library.stamp())
    try:
        entry = library.entry(name)
    except WebError as e:
        return jsonify(error=str(e)), 404
    out = {"stamp": library.stamp(name)}
    if request.args.get("text") == "1":
        try:
            with open(entry.path, encoding="utf-8") as f:
                out["text"] = f.read()
        except (OSError, UnicodeDecodeError):
            pass
    return jsonify(out)


@bp.route("/glossary")
def glossary():
    from .glossary import entries
    return render_template("glossary.html", page="glossary", entries=entries())


@bp.route("/tutorial")
def tutorial():
    series = [_card(e) for e in _library().series()]
    for here, nxt in zip(series, series[1:] + [None]):
        here["next"] = nxt["name"] if nxt else None
        here["next_title"] = nxt["title"] if nxt else None
    return render_template("tutorial.html", page="tutorial", series=series)


@bp.route("/play/<path:name>")
def play(name):
    try:
        scenario = _library().scenario(name)
    except WebError as e:
        return render_template("error.html", page="error", message=str(e)), 404
    series = [e.name for e in _library().series(name)]
    nxt = series[series.index(name) + 1] if name in series and series.index(name) + 1 < len(series) else None
    boot = {"page": "play", "name": name, "title": scenario.title, "eras": list(scenario.eras),
            "kernel": scenario.kernel, "compare": list(scenario.compare), "next": nxt,
            "lab": current_app.config["COWVIZ_LAB"], "all_eras": _eras_info()}
    return render_template("play.html", page="play", boot=boot, title=scenario.title)


@bp.route("/sandbox")
def sandbox():
    boot = {"page": "sandbox", "all_eras": _eras_info(), "limits": current_app.config["COWVIZ_LIMITS"],
            "usage": list(USAGE.values()), "default_era": "5.9", "lab": current_app.config["COWVIZ_LAB"]}
    return render_template("sandbox.html", page="sandbox", boot=boot)


@bp.route("/export/<path:name>.<any(svg, png):fmt>")
def export(name, fmt):
    """One step's diagram as a standalone SVG or PNG (for slides): ?era=5.9&step=7."""
    from flask import request
    library = _library()
    try:
        scenario = library.scenario(name)
        era = request.args.get("era", scenario.kernel)
        prepared = library.prepared(name, era)
        total = len(prepared.run.steps)
        try:
            step = ascii_int(request.args.get("step", "0"), "step", 0, 10 ** MAX_DIGITS)
        except LimitError as e:           # not a plain number: a bad request
            return (f"{e} (this walkthrough has steps 0-{total})\n", 400,
                    {"Content-Type": "text/plain; charset=utf-8"})
        if step > total:
            raise WebError(f"step {step} is out of range: this walkthrough has steps 0-{total}")
        frame = current_app.extensions["cowviz"]["frames"].frame_object(prepared, step)
    except WebError as e:
        return str(e) + "\n", 404, {"Content-Type": "text/plain; charset=utf-8"}
    filename = f"{name.replace('/', '-')}-{era}-step{step:02d}.{fmt}"
    headers = {"Content-Disposition": f'inline; filename="{filename}"'}
    if fmt == "svg":
        return frame.to_svg(), 200, {**headers, "Content-Type": "image/svg+xml; charset=utf-8"}
    return frame.to_png(dpi=144), 200, {**headers, "Content-Type": "image/png"}


@bp.route("/vendor/<path:filename>")
def vendor(filename):
    where = VENDOR.get(filename)
    if where is None:
        abort(404)
    folder = os.path.join(current_app.config["COWVIZ_NODE_MODULES"], where)
    if not os.path.isfile(os.path.join(folder, filename)):
        return (f"{filename} is not installed: run scripts/setup.sh (npm ci) to install the socket.io client.\n",
                503, {"Content-Type": "text/plain; charset=utf-8"})
    return send_from_directory(folder, filename, mimetype="text/javascript" if filename.endswith(".js") else None)
