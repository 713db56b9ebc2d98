"""The engine does no I/O and imports nothing of the web or drawing layers."""
import ast
import glob
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..")
ENGINE = [p for d in ("mm", "eras") for p in glob.glob(os.path.join(ROOT, "cowviz", d, "*.py"))]
FORBIDDEN_MODULES = {"flask", "flask_socketio", "socketio", "engineio", "networkx", "pydot", "os", "sys",
                     "io", "subprocess", "socket", "random", "time", "threading", "cowviz.web",
                     "cowviz.diagram", "cowviz.scenario", "cowviz.lab"}
FORBIDDEN_CALLS = {"print", "open", "input", "exec", "eval"}


def test_engine_sources_import_and_call_nothing_forbidden():
    assert len(ENGINE) >= 10
    for path in ENGINE:
        tree = ast.parse(open(path).read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
                if node.level == 2 and "mm" in path.split(os.sep)[-2:-1] and node.module:
                    names = [f"cowviz.{node.module}"]
            else:
                names = []
            for n in names:
                assert n.split(".")[0] not in FORBIDDEN_MODULES and n not in FORBIDDEN_MODULES, (path, n)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in FORBIDDEN_CALLS, (path, node.func.id, node.lineno)


def test_importing_the_engine_loads_no_web_or_drawing_module():
    code = ("import sys, cowviz.mm, cowviz.eras, cowviz.scenario; "
            "bad = [m for m in ('flask', 'flask_socketio', 'networkx', 'pydot', 'socketio') if m in sys.modules]; "
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_the_mm_package_does_not_import_the_eras():
    """The era is handed in: mm <- eras, never mm -> eras."""
    for path in glob.glob(os.path.join(ROOT, "cowviz", "mm", "*.py")):
        for node in ast.walk(ast.parse(open(path).read())):
            if isinstance(node, ast.ImportFrom):
                assert "eras" not in (node.module or ""), path
            if isinstance(node, ast.Import):
                assert not any("eras" in a.name for a in node.names), path
