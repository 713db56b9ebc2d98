"""Object ids: cowviz/ids.py builds and parses every one, static/js/ids.js reads them alike,
and nothing else in cowviz/ or static/js/ builds an id by hand or takes one apart."""
import ast
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from cowviz import ids
from cowviz.scenario.loader import load_scenario
from cowviz.scenario.runner import run_scenario

ROOT = os.path.join(os.path.dirname(__file__), "..")

_KIND = "|".join(ids.KINDS + ("box",))
# A literal that starts an id: "page:", f"task:{...}", `vma:${...}`.  "mm: ..." (a commit title) is prose.
_PREFIX = re.compile(rf"^(?:{_KIND}):(?! )")
# The lengths of the prefixes: x[5:] strips "page:" or "task:".
_PREFIX_LENGTHS = {len(k) + 1 for k in ids.KINDS}

# Colon splits that take apart something other than an object id.
NOT_IDS = {
    ("cowviz/pseudocode.py", "raw.partition(':')"),        # `key: value` lines of a pseudocode file
    ("cowviz/web/security.py", "value.partition(':')"),    # host:port
    ("cowviz/web/markdown.py", "style.split(':', 1)"),     # text-align: left
    ("cowviz/web/classroom.py", "key.split(':')"),         # STEP:ERA keys of revealed answers
}


def _docstrings(tree) -> set:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def python_hand_built(root: str) -> list:
    """(file, line, what) for each id built or taken apart outside cowviz/ids.py."""
    found = []
    for path in sorted(glob.glob(os.path.join(root, "cowviz", "**", "*.py"), recursive=True)):
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        if rel == "cowviz/ids.py":
            continue
        tree = ast.parse(open(path, encoding="utf-8").read(), path)
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
                head = node.values[0]
                docs.add(id(head))
                if _PREFIX.match(str(head.value)):
                    found.append((rel, node.lineno, f"builds {ast.unparse(node)}"))
            elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
                  and _PREFIX.match(node.value)):
                found.append((rel, node.lineno, f"spells {node.value!r}"))
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in ("split", "rsplit", "partition", "rpartition") and node.args
                  and isinstance(node.args[0], ast.Constant) and node.args[0].value == ":"
                  and (rel, ast.unparse(node)) not in NOT_IDS):
                found.append((rel, node.lineno, f"splits {ast.unparse(node)}"))
            elif (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice)
                  and node.slice.upper is None and node.slice.step is None
                  and isinstance(node.slice.lower, ast.Constant) and node.slice.lower.value in _PREFIX_LENGTHS):
                found.append((rel, node.lineno, f"slices {ast.unparse(node)}"))
    return sorted(found)


_JS_RULES = (
    (re.compile(rf"""["'`](?:{_KIND}):(?! )"""), "spells an id"),
    (re.compile(r"""\.split\(\s*["'`]:["'`]"""), "splits on ':'"),
    (re.compile(r"""\.indexOf\(\s*["'`]:["'`]"""), "looks for ':'"),
    (re.compile(r"\.(?:slice|substring|substr)\(\s*(?:%s)\s*\)" % "|".join(map(str, sorted(_PREFIX_LENGTHS)))),
     "slices a prefix off"),
)


def js_hand_built(root: str) -> list:
    found = []
    for path in sorted(glob.glob(os.path.join(root, "static", "js", "*.js"))):
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        if rel == "static/js/ids.js":
            continue
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            code = line.split("//", 1)[0] if not line.lstrip().startswith("//") else ""
            for rule, what in _JS_RULES:
                if rule.search(code):
                    found.append((rel, n, f"{what}: {line.strip()[:100]}"))
    return found


def test_no_id_is_built_or_taken_apart_outside_the_id_modules():
    found = python_hand_built(ROOT) + js_hand_built(ROOT)
    assert not found, "use cowviz/ids.py (static/js/ids.js in the page):\n" + "\n".join(
        f"  {f}:{n}: {what}" for f, n, what in found)


def test_the_scan_catches_each_way_of_building_an_id(tmp_path):
    """The scan is not vacuous: each hand-built form it should catch, it catches."""
    (tmp_path / "cowviz").mkdir()
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "cowviz" / "bad.py").write_text(
        '"""Docstrings may show page:7."""\n'
        'a = f"page:{pfn}"\n'
        'b = "vma:" + owner\n'
        'c = ident.split(":")[1]\n'
        'd = task[5:]\n'
        'e = "mm: a commit title"\n')
    (tmp_path / "static" / "js" / "bad.js").write_text(
        '// a comment may say "page:7"\n'
        'const a = `vma:${p[1]}:${p[2]}`;\n'
        'const b = id.split(":");\n'
        'const c = choice.slice(5);\n'
        'const d = words.slice(1);\n')
    py = [(n, what.split()[0]) for _, n, what in python_hand_built(str(tmp_path))]
    js = [n for _, n, _ in js_hand_built(str(tmp_path))]
    assert py == [(2, "builds"), (3, "spells"), (4, "splits"), (5, "slices")]
    assert js == [2, 3, 4]


# -- the grammar ------------------------------------------------------------------------------

def test_builders_and_parsers_agree():
    assert ids.task("P") == "task:P" and ids.parse("task:P") == ids.ObjId("task", "P", "P")
    assert ids.mm("P") == "mm:P" and ids.owner("mm:P") == "P"
    assert ids.vma("P", "buf") == "vma:P:buf" and ids.parse_vma("vma:P:buf") == ("P", "buf")
    assert ids.pte("C", "buf", 3) == "pte:C:buf:3" and ids.pte("C", "buf", 0, 7) == "pte:C:buf:0-7"
    assert ids.pte_in("vma:C:buf", 4, 4) == "pte:C:buf:4"
    assert ids.parse_pte("pte:C:buf:0-7") == ids.PteRange("C", "buf", 0, 7)
    assert ids.vma_of("pte:C:my.buf-2:0-7") == "vma:C:my.buf-2"
    assert ids.page(7) == "page:7" and ids.page(8, 15) == "page:8-15"
    assert ids.pfn("page:7") == 7 and ids.pfn("page:8-15") is None and ids.pfn("task:P") is None
    assert ids.parse_page("page:8-15") == (8, 15)
    assert ids.anon_vma(2) == "anon_vma:2" and ids.name("anon_vma:2") == "2"
    assert ids.holder("nic") == "holder:nic" and ids.name("holder:nic") == "nic"
    assert ids.owner("holder:nic") is None
    assert ids.memcg("P") == "memcg:P" and ids.name("memcg:P") == "P"
    assert ids.boxed(ids.box("vma:P:buf")) == "vma:P:buf"
    assert ids.edge("pte:P:buf:0", "page:1") == "pte:P:buf:0>page:1"
    assert ids.edge("vma:P:buf", "anon_vma:1", "avc") == "vma:P:buf>anon_vma:1:avc"
    assert [ids.name(i) for i in ("task:P", "mm:P", "vma:P:buf", "pte:P:buf:0-7", "page:7")] == \
        ["P", "P", "buf", "0-7", "7"]


@pytest.mark.parametrize("bad", ["", "page", "page:", "page:x", "page:1-", "pte:P:buf", "vma:P",
                                 "task:", "anon_vma:x", "box:mm:P", "nothing:1", "page:" + "9" * 5000,
                                 "page:\u0663"])
def test_what_is_not_an_id_parses_to_none(bad):
    assert ids.parse(bad) is None and ids.pfn(bad) is None and ids.parse_pte(bad) is None


def test_sort_key_orders_by_kind_then_naturally():
    order = ["task:P", "mm:P", "vma:P:buf", "pte:P:buf:2", "pte:P:buf:10", "holder:nic", "page:9",
             "page:10", "anon_vma:1", "memcg:P"]
    assert sorted(reversed(order), key=ids.sort_key) == order


def _corpus() -> list:
    """Every id a shipped scenario's snapshots and events hold, and some that are not ids."""
    out = set()
    for path in sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml")))[:6]:
        run = run_scenario(load_scenario(path))
        for s in run.steps:
            snap = s.snapshot.to_json()
            for group in ("tasks", "mms", "vmas", "pages", "anon_vmas", "holders", "memcgs"):
                out.update(snap.get(group, {}))
            for ev in s.events:
                out.update(ev.objs)
    out.update(["pte:P:buf:0-7", "page:8-15", "x", "page:", "page:a", "pte:P:buf", "box:mm:P", "vma:P",
                "anon_vma:x", "task:"])
    return sorted(out)


def test_the_page_parses_ids_as_the_server_does(tmp_path):
    node = shutil.which("node")
    if node is None:                                   # pragma: no cover - setup.sh installs node
        pytest.skip("node is not installed")
    corpus = _corpus()
    assert len(corpus) > 40
    script = tmp_path / "parse.mjs"
    script.write_text(
        f'import {{ parseId, idName, vmaOf }} from {json.dumps("file://" + os.path.abspath(os.path.join(ROOT, "static/js/ids.js")))};\n'
        f'const ids = {json.dumps(corpus)};\n'
        'console.log(JSON.stringify(ids.map((i) => [parseId(i), idName(i), vmaOf(i)])));\n')
    out = subprocess.run([node, str(script)], capture_output=True, text=True, check=True)
    for ident, (js, js_name, js_vma) in zip(corpus, json.loads(out.stdout)):
        p = ids.parse(ident)
        if p is None:
            assert js is None and js_name == "" and js_vma == "", ident
            continue
        want = {**p._asdict(), "span": p.span if p.first is not None else None}
        assert js == want, ident
        assert js_name == ids.name(ident), ident
        assert js_vma == (ids.vma_of(ident) if p.kind == "pte" else ""), ident
