"""python -m cowviz as a user runs it: exit codes, the trace, --json, check, eras."""
import json
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..")
REF = os.path.join(ROOT, "scenarios", "reference")


def cowviz(*args):
    return subprocess.run([sys.executable, "-m", "cowviz", *args], cwd=ROOT, capture_output=True, text=True)


def test_eras_lists_the_six_eras():
    r = cowviz("eras")
    assert r.returncode == 0
    assert [line.split()[0] for line in r.stdout.splitlines()] == ["5.7", "5.8", "5.9-rc", "5.9", "5.19", "6.x"]


def test_run_prints_a_trace_and_exits_0_when_expectations_hold():
    r = cowviz("run", os.path.join(REF, "s03-vmsplice-leak.yaml"), "--kernel", "5.7")
    assert r.returncode == 0, r.stderr
    assert "pipe-read pipe" in r.stdout and "SECRET" in r.stdout and "pipe_read" in r.stdout
    assert "expect SECRET: ok" in r.stdout


def test_run_all_eras_json(tmp_path):
    r = cowviz("run", os.path.join(REF, "s04-pin-fork-child-exits.yaml"), "--kernel", "all", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["scenario"].endswith("s04-pin-fork-child-exits.yaml")
    assert [run["kernel"] for run in data["runs"]] == ["5.7", "5.8", "5.9-rc", "5.9", "5.19", "6.x"]
    step = data["runs"][3]["steps"][3]
    assert set(step) >= {"index", "command", "output", "error", "ok", "events"}
    assert step["command"] == "fork P C" and step["ok"] is True
    assert {"fn": "copy_present_page"}.items() <= step["events"][-2].items() or \
        any(e["fn"] == "copy_present_page" for e in step["events"])
    read = data["runs"][2]["steps"][7]
    assert read["output"] == "B" and read["error"] is None


def test_run_exits_1_and_says_where_when_an_expectation_fails(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("title: t\nsteps:\n  - do: mmap P b 1\n  - do: read P b[0]\n    expect: A\n")
    r = cowviz("run", str(p))
    assert r.returncode == 1
    assert f"{p}:4:9: step 2 (read P b[0]) under 6.x: expected A, got 0" in r.stderr


def test_bad_file_and_bad_arguments_exit_2_without_a_traceback(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("title: t\nsteps:\n  - do: read P b[0]\n")
    for args in (("run", str(p)), ("check", str(p)), ("run", os.path.join(REF, "s01-fork-parent-writes.yaml"),
                                                      "--kernel", "4.19"), ("run",), ("frobnicate",)):
        r = cowviz(*args)
        assert r.returncode == 2, args
        assert "Traceback" not in r.stderr
    assert f"{p}:3:14: unknown task 'P'" in cowviz("check", str(p)).stderr


def test_check_validates_every_given_file():
    files = [os.path.join(REF, f) for f in sorted(os.listdir(REF))]
    r = cowviz("check", *files)
    assert r.returncode == 0 and r.stdout.count(": ok (") == len(files)
