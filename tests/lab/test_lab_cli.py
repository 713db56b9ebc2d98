"""python -m cowviz probe as a user runs it: the table, --json, exit codes."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.lab.labkit import ROOT, lab_file, needs_frames, needs_io_uring, needs_lab

pytestmark = needs_lab


def cowviz(*args):
    return subprocess.run([sys.executable, "-m", "cowviz", *args], cwd=ROOT, capture_output=True, text=True)


@needs_frames
def test_probe_prints_the_agreement_table_and_exits_0():
    r = cowviz("probe", lab_file("lab-01-basic-cow.yaml"))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Lab: basic copy-on-write: model 6.x vs Linux ")
    assert lines[2].split() == ["step", "command", "model", "kernel", "verdict"]
    fork = next(line for line in lines if " fork P C " in line)
    assert fork.count("P buf[0]=C buf[0]") == 2 and fork.endswith("agree")
    assert lines[-1] == "9 agree, 0 differ, 0 skipped"


@needs_frames
def test_probe_json():
    r = cowviz("probe", lab_file("lab-02-zero-page.yaml"), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["era"] == "6.x" and data["ok"] is True and data["frames_visible"] is True
    read = data["rows"][3]
    assert read["command"] == "read P b[0]" and read["verdict"] == "agree" and read["agree"] is True
    assert read["kernel_view"]["zero"] == ["P a[0]", "P b[0]"]
    assert read["kernel_view"]["result"] == "0"
    frames = {p["frame"] for row in data["rows"] for p in row["kernel_view"]["pages"].values()}
    assert not any(f and f.startswith("pfn") for f in frames)


@needs_frames
@needs_io_uring
def test_probe_against_an_older_era_exits_1_and_names_the_differing_step():
    r = cowviz("probe", lab_file("lab-06-pin-fork.yaml"), "--kernel", "5.8")
    assert r.returncode == 1
    assert "differ" in r.stdout
    assert "lab-06-pin-fork.yaml:" in r.stderr and "(fork P C): the kernel differs from the 5.8 model" in r.stderr


def test_probe_of_a_bad_file_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\nsteps:\n  - do: frob P\n")
    r = cowviz("probe", str(bad))
    assert r.returncode == 2 and r.stderr.startswith(f"{bad}:3:")


def test_probe_of_a_too_large_scenario_exits_2_with_the_limit(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("title: big\nsteps:\n  - do: mmap P buf 2048\n  - do: write P buf[0] A\n")
    r = cowviz("probe", str(big))
    assert r.returncode == 2
    assert "maps 2048 pages (8 MiB) in all; the lab maps at most 1024 pages (4 MiB)" in r.stderr


def test_probe_with_an_unknown_era_exits_2():
    r = cowviz("probe", lab_file("lab-01-basic-cow.yaml"), "--kernel", "4.4")
    assert r.returncode == 2 and "unknown era" in r.stderr
