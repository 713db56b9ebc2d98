"""Helpers for the live-kernel lab tests: what this machine can do, and probing with the table printed.

The lab runs real processes on the machine the tests run on.  A test is
skipped only where the machine truly cannot do what it needs (not Linux on
x86-64, no readable pagemap, no io_uring, PFNs hidden because the tests do
not run as root), and the skip says which.
"""
from __future__ import annotations

import os

import pytest

from cowviz.lab import capabilities, probe_commands, probe_scenario
from cowviz.scenario import load_scenario, parse_scenario

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LAB_SCENARIOS = os.path.join(HERE, "scenarios")

CAPS = capabilities()
needs_lab = pytest.mark.skipif(not CAPS["available"], reason=f"no live-kernel lab here: {CAPS['reason']}")
needs_frames = pytest.mark.skipif(
    not CAPS["frames"], reason="pagemap hides PFNs from this user (no CAP_SYS_ADMIN); run the tests as root")
needs_io_uring = pytest.mark.skipif(not CAPS["io_uring"], reason=f"no pins here: {CAPS['io_uring_reason']}")


def lab_file(name: str) -> str:
    return os.path.join(LAB_SCENARIOS, name)


def probe_file(path: str, **kwargs):
    """Probe a scenario file and print the agreement table (pytest shows it with -s or on failure)."""
    report = probe_scenario(load_scenario(path), **kwargs)
    print(report.table(140))
    return report


def probe_text(text: str, **kwargs):
    """Probe scenario text given inline."""
    scenario = parse_scenario(text, "<test>")
    report = probe_scenario(scenario, **kwargs)
    print(report.table(140))
    return report


def probe_lines(*lines: str, **kwargs):
    """Probe bare command lines (as the web console would)."""
    from cowviz.scenario import Names, parse_console_line
    names = Names()
    commands = [parse_console_line(line, names) for line in lines]
    report = probe_commands(commands, **kwargs)
    print(report.table(140))
    return report


def row(report, command: str, nth: int = 1):
    """The nth row (1-based) whose command is `command`."""
    return [r for r in report.rows if r.command == command][nth - 1]


def assert_all_agree(report) -> None:
    bad = [f"step {r.index} ({r.command}): {r.verdict}: {'; '.join(r.differences) or r.note or r.kernel}"
           for r in report.rows if r.verdict != "agree"]
    assert report.error is None, report.error
    assert not bad, "\n".join(bad)


def group_members(pgid: int) -> list[str]:
    """The processes still alive or unreaped in a process group ("PID STATE")."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            out.append(f"{entry} {fields[0]}")
    return out
