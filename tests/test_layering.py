"""The layering the README states, as allowed imports between the packages of cowviz.

    web -> diagram, scenario, lab, eras, mm        nothing imports web; all may use cowviz/ids.py
    scenario -> eras, mm                           (it builds a kernel of an era and runs it)
    lab -> scenario, eras, mm
    diagram -> mm, scenario                        reads snapshots; never asks an era
    eras -> mm                                     policy objects at the kernel's decision points
    mm -> nothing of ours                          the engine: no I/O (tests/test_engine_purity.py)
"""
import ast
import glob
import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..")

# package -> the other parts of cowviz it may import (modules at the top: limits, pseudocode, cli);
# the id module (cowviz/ids.py) is a vocabulary every layer may use.
BASE = {"ids"}
ALLOWED = {
    "mm": BASE,
    "eras": BASE | {"mm"},
    "scenario": BASE | {"mm", "eras", "limits"},
    "diagram": BASE | {"mm", "scenario"},
    "lab": BASE | {"mm", "eras", "scenario", "limits"},
    "web": BASE | {"mm", "eras", "scenario", "diagram", "lab", "limits", "pseudocode"},
    "pseudocode": BASE,
    "limits": BASE,
    "ids": set(),
    "cli": BASE | {"mm", "eras", "scenario", "diagram", "lab", "limits"},
    "__main__": {"cli"},
    "__init__": set(),
}


def imports_of(path: str) -> set:
    """The parts of cowviz (first name under cowviz/) that the file imports."""
    rel = os.path.relpath(path, os.path.join(ROOT, "cowviz")).split(os.sep)
    out = set()
    for node in ast.walk(ast.parse(open(path).read(), path)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names = [node.module or ""] if (node.module or "").startswith("cowviz") else []
                parts = [n.split(".")[1:] for n in names]
            else:
                base = ["cowviz"] + rel[:-1]
                base = base[:len(base) - (node.level - 1)]
                mod = (node.module or "").split(".") if node.module else []
                full = base + mod
                parts = [full[1:]] if len(full) > 1 else [[a.name] for a in node.names]
            out.update(p[0] for p in parts if p)
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names
                       if a.name.startswith("cowviz.") and "." in a.name)
    return out


def package_of(path: str) -> str:
    rel = os.path.relpath(path, os.path.join(ROOT, "cowviz")).split(os.sep)
    return rel[0] if len(rel) > 1 else rel[0][:-3]


def test_each_package_imports_only_what_the_layering_allows():
    files = glob.glob(os.path.join(ROOT, "cowviz", "**", "*.py"), recursive=True)
    assert len(files) > 50
    bad = []
    for path in files:
        pkg = package_of(path)
        assert pkg in ALLOWED, f"{pkg}: a new part of cowviz; say in ALLOWED what it may import"
        for target in imports_of(path) - {pkg}:
            if target not in ALLOWED[pkg]:
                bad.append(f"{os.path.relpath(path, ROOT)} imports cowviz.{target}")
    assert not bad, bad


def test_the_checker_sees_relative_and_absolute_imports(tmp_path):
    d = tmp_path / "cowviz" / "diagram"
    d.mkdir(parents=True)
    f = d / "x.py"
    f.write_text("from ..eras import get_era\nfrom . import style\nimport cowviz.web.views\n"
                 "from .. import lab\nfrom cowviz.mm.types import Pte\n")
    global ROOT
    old, ROOT = ROOT, str(tmp_path)
    try:
        assert imports_of(str(f)) == {"eras", "diagram", "web", "lab", "mm"}
    finally:
        ROOT = old


def test_the_diagram_never_imports_the_eras():
    """Era facts travel on the snapshot (Snapshot.facts): the drawing has no era to ask."""
    for path in glob.glob(os.path.join(ROOT, "cowviz", "diagram", "*.py")):
        assert "eras" not in imports_of(path), path


def test_socket_handlers_are_thin():
    """Each on_<event> of the main namespace hands off to the session in a line or two."""
    path = os.path.join(ROOT, "cowviz", "web", "namespace.py")
    tree = ast.parse(open(path).read())
    handlers = [f for c in ast.walk(tree) if isinstance(c, ast.ClassDef)
                for f in c.body if isinstance(f, ast.FunctionDef) and f.name.startswith("on_")]
    assert len(handlers) >= 10
    for f in handlers:
        body = [s for s in f.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        assert len(body) <= 3, (f.name, len(body))


def test_the_readme_states_this_layering():
    text = open(os.path.join(ROOT, "README.md")).read()
    assert re.search(r"nothing imports `?web", text)
    assert "diagram` never imports the eras" in text or "diagram` never asks an era" in text
