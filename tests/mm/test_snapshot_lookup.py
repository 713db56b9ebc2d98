"""Snapshot lookups by id: page() by bisection over the pfn-ordered pages, task() and mm() by an
index made once per snapshot (issue 14: linear in the state's size, not a scan per lookup)."""
from __future__ import annotations

from cowviz.mm import snapshot as snap_mod
from cowviz.web.sandbox import Sandbox


def _snapshot():
    box = Sandbox("5.9")
    for line in ["mmap P buf 16", "fork P C", "read P buf[15]"] + [f"write C buf[{i}] V{i}" for i in range(0, 16, 2)] + \
            ["mmap P sh 4 shared", "write P sh[1] S", "thread P T"]:
        box.apply(line)
    return box.live.steps[-1].snapshot


def test_lookups_find_what_a_scan_finds():
    s = _snapshot()
    assert [p.pfn for p in s.pages] == sorted(p.pfn for p in s.pages) and s.pages[0].kind == "zero"
    for pfn in range(-1, max(p.pfn for p in s.pages) + 3):
        assert s.page(pfn) == next((p for p in s.pages if p.pfn == pfn), None)
    for name in ["P", "C", "T", "X", ""]:
        assert s.task(name) == next((t for t in s.tasks if t.name == name), None)
    for m in s.mms:
        assert s.mm(m.id) is m
    assert s.mm("mm:X") is None
    assert s.page_at("C", "buf", 2).data == "V2" and s.page_at("P", "sh", 1).kind == "shmem"


def test_the_index_is_made_once_per_snapshot_and_is_its_own():
    s, other = _snapshot(), _snapshot()
    s.task("P")
    made = snap_mod._by_name._made[id(s.tasks)]
    s.task("C"), s.mm("mm:P")
    assert snap_mod._by_name._made[id(s.tasks)] is made
    assert other.task("P") == s.task("P") and other.task("P") is not s.task("P")
