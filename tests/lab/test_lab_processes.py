"""A probe leaves nothing behind: every task process is killed and reaped, however the run ends."""
from __future__ import annotations

import os
import signal

import pytest

from cowviz.lab import LabLimitError, probe_commands
from cowviz.scenario import parse_command

from tests.lab.labkit import group_members, lab_file, needs_lab, probe_file, probe_lines

pytestmark = needs_lab


def stat_of(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def our_keeper() -> int:
    """The pid of the keeper process this test process started."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
            ppid = int(stat_of(int(entry))[1])
        except (OSError, IndexError):
            continue
        if ppid == os.getpid() and b"cowviz.lab.agent" in cmdline and b"--keeper" in cmdline:
            return int(entry)
    raise AssertionError("no keeper process found")


def test_a_finished_probe_leaves_no_process():
    report = probe_file(lab_file("lab-01-basic-cow.yaml"))
    assert report.process_group is not None
    assert group_members(report.process_group) == []


def test_a_task_killed_mid_run_ends_the_probe_with_an_error_and_everything_is_reaped():
    def kill_the_child(row):
        if row.command == "fork P C":
            keeper = our_keeper()
            members = [int(m.split()[0]) for m in group_members(keeper)]
            # C is the one whose parent is not the keeper: it was forked by P.
            child = next(pid for pid in members if pid != keeper and int(stat_of(pid)[1]) != keeper)
            os.kill(child, signal.SIGKILL)

    report = probe_file(lab_file("lab-01-basic-cow.yaml"), on_row=kill_the_child)
    assert report.error is not None and "task C" in report.error
    assert report.rows[-1].verdict == "error" and report.rows[-1].index == 4
    assert not report.ok
    assert group_members(report.process_group) == []


class Stop(Exception):
    pass


def test_an_exception_from_the_caller_still_kills_and_reaps_the_tasks():
    seen = {}

    def stop(row):
        if row.index == 3:
            seen["keeper"] = our_keeper()
            raise Stop()

    with pytest.raises(Stop):
        probe_lines("mmap P buf 1", "write P buf[0] A", "fork P C", "fork C D", on_row=stop)
    assert group_members(seen["keeper"]) == []


def test_the_time_limit_ends_the_run():
    report = probe_lines("mmap P buf 1", "write P buf[0] A", timeout=1e-6)
    assert report.error is not None and "time limit" in report.error
    assert not report.ok
    if report.process_group is not None:
        assert group_members(report.process_group) == []


def test_an_oversized_scenario_is_refused_before_anything_runs():
    with pytest.raises(LabLimitError, match="maps at most 1024 pages"):
        probe_commands([parse_command("mmap P huge 4096")])
