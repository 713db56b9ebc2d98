"""`python -m cowviz render`: files written, and one-line errors with exit status 2."""
import json
import os
import subprocess
import sys

import pytest

from cowviz.cli import main
from cowviz.diagram import GraphvizMissing, find_dot

from .conftest import HERE, ROOT

EARLY = os.path.join(HERE, "scenarios", "early_copy.yaml")


def render(*args, env=None):
    """Run the command in a fresh interpreter, as a user would."""
    return subprocess.run([sys.executable, "-m", "cowviz", "render", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)


@pytest.mark.parametrize("fmt, magic", [("svg", b"<?xml"), ("png", b"\x89PNG"), ("dot", b"digraph"),
                                        ("json", b'{"v":1')])
def test_one_frame_in_each_format(tmp_path, fmt, magic):
    out = tmp_path / f"f.{fmt}"
    assert main(["render", EARLY, "--kernel", "5.9", "--step", "5", "-f", fmt, "-o", str(out)]) == 0
    assert out.read_bytes().startswith(magic)


def test_json_is_the_layout(tmp_path):
    out = tmp_path / "f.json"
    assert main(["render", EARLY, "-f", "json", "-o", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["step"] == 8 and all({"id", "x", "y"} <= set(n) for n in data["nodes"])
    assert all({"id", "d"} <= set(e) for e in data["edges"])


def test_all_steps_into_a_directory_and_a_pattern(tmp_path):
    assert main(["render", EARLY, "--all-steps", "-f", "svg", "-o", str(tmp_path / "d")]) == 0
    assert sorted(os.listdir(tmp_path / "d")) == [f"step-{i:02d}.svg" for i in range(9)]
    assert main(["render", EARLY, "--all-steps", "-f", "dot", "-o", str(tmp_path / "s{step:02d}.dot")]) == 0
    assert (tmp_path / "s00.dot").exists() and (tmp_path / "s08.dot").exists()


def test_bad_scenario_says_where(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\nsteps:\n  - do: frok P C\n")
    r = render(str(bad), "-f", "svg", "-o", str(tmp_path / "x.svg"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"{bad}:3:9: unknown command 'frok'")


@pytest.mark.parametrize("args, words", [
    (["--step", "99"], "out of range"),
    (["--kernel", "4.19"], "unknown era"),
    (["--expand", "nonsense"], "cannot expand"),
    (["-o", "/nonexistent-dir/x.svg"], "cannot write"),
])
def test_bad_options_are_one_line(tmp_path, args, words):
    argv = [EARLY, "-f", "svg"] + (["-o", str(tmp_path / "x.svg")] if "-o" not in args else []) + args
    r = render(*argv)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and words in r.stderr


def test_missing_graphviz_is_one_line_saying_how_to_install(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path), COWVIZ_DOT="")
    r = render(EARLY, "-f", "png", "-o", str(tmp_path / "x.png"), env=env)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "apt-get install graphviz" in lines[0] and "brew install graphviz" in lines[0]
    assert not (tmp_path / "x.png").exists()


def test_cowviz_dot_chooses_the_program(monkeypatch, tmp_path):
    monkeypatch.setenv("COWVIZ_DOT", str(tmp_path / "no-such-dot"))
    with pytest.raises(GraphvizMissing) as e:
        find_dot()
    assert "COWVIZ_DOT" in str(e.value) and "\n" not in str(e.value)
    monkeypatch.delenv("COWVIZ_DOT")
    assert os.path.basename(find_dot()) == "dot"
