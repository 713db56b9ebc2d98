"""Without CAP_SYS_ADMIN pagemap hides frames: the lab still compares presence and the exclusive bit.

As root the test really drops the capability, in a child process, the way
pagemap checks it: CAP_SYS_ADMIN is taken out of the bounding set (so the
agents the probe execs cannot get it back) and out of the effective,
permitted and inheritable sets.  Not as root, frames are hidden already.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.lab.labkit import CAPS, ROOT, lab_file, needs_lab

pytestmark = needs_lab

DROP_AND_PROBE = r"""
import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)

class Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

class Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]

CAP_SYS_ADMIN, PR_CAPBSET_DROP, VERSION_3 = 21, 24, 0x20080522
if os.geteuid() == 0:
    assert libc.prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) == 0, ctypes.get_errno()
    header, data = Header(VERSION_3, 0), (Data * 2)()
    assert libc.capget(ctypes.byref(header), data) == 0
    bit = ~(1 << CAP_SYS_ADMIN)
    data[0].effective &= bit
    data[0].permitted &= bit
    data[0].inheritable &= bit
    assert libc.capset(ctypes.byref(header), data) == 0, ctypes.get_errno()

from cowviz.lab import lab_available, probe_scenario
ok, why = lab_available()
report = probe_scenario(sys.argv[1], era="6.x")
print(report.table(140), file=sys.stderr)
print(json.dumps({"available": ok, "why": why, "report": report.to_json()}))
"""


def probe_without_cap_sys_admin(path):
    r = subprocess.run([sys.executable, "-c", DROP_AND_PROBE, path], cwd=ROOT, capture_output=True,
                       text=True, env=dict(os.environ, PYTHONPATH=ROOT))
    print(r.stderr)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_without_cap_sys_admin_frames_are_hidden_but_the_rest_is_compared_and_agrees():
    out = probe_without_cap_sys_admin(lab_file("lab-01-basic-cow.yaml"))
    assert out["available"] and "frames hidden" in out["why"]
    report = out["report"]
    assert report["frames_visible"] is False and report["error"] is None
    assert any("CAP_SYS_ADMIN" in line for line in report["cannot_observe"])
    assert [r["verdict"] for r in report["rows"]] == ["agree"] * len(report["rows"])
    fork = next(r for r in report["rows"] if r["command"] == "fork P C")
    pages = fork["kernel_view"]["pages"]
    # No frame numbers, but presence and pagemap bit 56 are there: after fork
    # the page is mapped twice, so neither side is exclusive.
    assert pages["P buf[0]"] == {"present": True, "frame": None, "exclusive": False}
    assert pages["C buf[0]"] == {"present": True, "frame": None, "exclusive": False}
    write = next(r for r in report["rows"] if r["command"] == "write C buf[0] B")
    assert write["kernel_view"]["pages"]["C buf[0]"]["exclusive"] is True
    assert "C buf[0] excl" in write["kernel"]


def test_the_pinned_fork_without_cap_sys_admin_agrees():
    if not CAPS["io_uring"]:
        import pytest
        pytest.skip(CAPS["io_uring_reason"])
    out = probe_without_cap_sys_admin(lab_file("lab-06-pin-fork.yaml"))
    report = out["report"]
    assert report["frames_visible"] is False
    assert all(r["verdict"] == "agree" for r in report["rows"]), report["rows"]
    fork = next(r for r in report["rows"] if r["command"] == "fork P C")
    # The early copy shows even without frames: each side maps its page alone.
    assert fork["kernel_view"]["pages"]["C buf[0]"]["exclusive"] is True
    assert fork["kernel_view"]["pages"]["P buf[0]"]["exclusive"] is True
