"""The inspector's entries, computed from snapshots: counters, PTE bits, pinned flag, rmap walk."""
from __future__ import annotations

from cowviz.scenario import parse_command, run_commands
from cowviz.web.inspector import Inspector


def run(lines, era="5.9"):
    return run_commands([parse_command(line) for line in lines], era)


def fields(entry):
    return {f[0]: f[1] for f in entry["fields"]}


FORKED = ["mmap P buf 2", "write P buf[0] A", "fork P C"]


def test_a_shared_page_is_found_by_the_rmap_walk_in_parent_and_child():
    snap = run(FORKED).steps[-1].snapshot
    entry = Inspector(snap).describe("page:1")
    assert fields(entry)["page_count()"] == 2 and fields(entry)["page_mapcount()"] == 2
    rmap = entry["rmap"]
    assert rmap["anon_vma"] == "anon_vma:1"
    assert [(m["pte"], m["write"], m["found"]) for m in rmap["mappings"]] == [
        ("pte:P:buf:0", False, True), ("pte:C:buf:0", False, True)]
    assert {v["vma"] for v in rmap["visited"]} == {"vma:P:buf", "vma:C:buf"}
    assert "finds 2 of the 2 PTEs" in rmap["note"]


def test_a_cow_copy_is_filed_under_the_writers_anon_vma():
    snap = run(FORKED + ["write C buf[0] B"]).steps[-1].snapshot
    rmap = Inspector(snap).describe("page:2")["rmap"]
    assert rmap["anon_vma"] == "anon_vma:2"
    assert [m["pte"] for m in rmap["mappings"]] == ["pte:C:buf:0"]
    # The child's anon_vma has only the child's VMA: the walk never visits the parent.
    assert [v["vma"] for v in rmap["visited"]] == ["vma:C:buf"]


def test_a_mapping_outside_the_anon_vma_tree_is_reported_as_not_found():
    snap = run(FORKED).steps[-1].snapshot
    # Unlink the child's VMA from anon_vma 1, as a broken early copy would leave it.
    av = next(a for a in snap.anon_vmas if a.id == "anon_vma:1")
    broken = av._replace(vmas=tuple(v for v in av.vmas if v != "vma:C:buf"))
    snap = snap._replace(anon_vmas=tuple(broken if a is av else a for a in snap.anon_vmas))
    rmap = Inspector(snap).describe("page:1")["rmap"]
    assert {m["pte"]: m["found"] for m in rmap["mappings"]} == {"pte:P:buf:0": True, "pte:C:buf:0": False}
    assert "invisible to rmap" in rmap["note"]


def test_a_pte_shows_its_bits_and_an_absent_one_says_so():
    snap = run(FORKED).steps[-1].snapshot
    ins = Inspector(snap)
    pte = fields(ins.describe("pte:C:buf:0"))
    assert pte["present"] == "yes" and pte["pfn"] == 1 and pte["write"] == "write-protected"
    assert pte["address"] == "0x10000000"
    assert fields(ins.describe("pte:C:buf:1"))["present"] == "no"
    run_entry = ins.describe("pte:P:buf:0-1")
    assert [r["index"] for r in run_entry["rows"]] == [0, 1]
    assert ins.describe("pte:P:buf:5") is None and ins.describe("pte:Q:buf:0") is None
    assert ins.describe("pte:P:buf:x") is None and ins.describe("nonsense") is None


def test_an_mm_shows_its_pinned_flag_by_the_eras_name():
    lines = ["mmap P buf 1", "write P buf[0] A", "pin P buf[0] as nic write longterm"]
    assert fields(Inspector(run(lines, "5.9").steps[-1].snapshot).describe("mm:P"))["has_pinned"] == "yes"
    older = fields(Inspector(run(lines, "5.8").steps[-1].snapshot).describe("mm:P"))
    assert older["pinned flag"] == "none in this era"


def test_a_pinned_page_shows_the_bias_and_its_holder():
    lines = ["mmap P buf 1", "write P buf[0] A", "pin P buf[0] as nic write longterm"]
    entry = Inspector(run(lines).steps[-1].snapshot).describe("page:1")
    f = fields(entry)
    assert f["page_count()"] == 1025 and f["pins (refcount / 1024)"] == 1 and f["page_maybe_dma_pinned()"] == "yes"
    assert f["held by nic"] == "FOLL_PIN pin, write, longterm"
    # The test is named as each era's kernel spells it: v6.18 has only the folio form.
    assert "page_maybe_dma_pinned()" in fields(Inspector(run(lines, "5.19").steps[-1].snapshot).describe("page:1"))
    latest = fields(Inspector(run(lines, "6.x").steps[-1].snapshot).describe("page:1"))
    assert latest["folio_maybe_dma_pinned()"] == "yes" and "page_maybe_dma_pinned()" not in latest
    assert ["device nic", "holder:nic"] in entry["links"]
    holder = fields(Inspector(run(lines).steps[-1].snapshot).describe("holder:nic"))
    assert holder["page 1"] == "FOLL_PIN|FOLL_WRITE|FOLL_LONGTERM"


def test_the_zero_page_is_not_in_the_rmap():
    snap = run(["mmap P buf 1", "read P buf[0]"]).steps[-1].snapshot
    entry = Inspector(snap).describe("page:0")
    assert entry["title"] == "the zero page"
    assert entry["rmap"]["mappings"][0]["found"] is None and "never tracks" in entry["rmap"]["note"]


def test_all_covers_every_object_and_present_pte():
    snap = run(FORKED).steps[-1].snapshot
    ids = set(Inspector(snap).all())
    assert {"task:P", "task:C", "mm:P", "mm:C", "vma:P:buf", "vma:C:buf", "page:1", "anon_vma:1",
            "anon_vma:2", "pte:P:buf:0", "pte:C:buf:0", "memcg:P"} <= ids
    assert "pte:P:buf:1" not in ids          # not present: described on request only


def test_many_equal_references_are_one_line():
    lines = ["mmap P buf 1", "write P buf[0] A", "gup P buf[0] as cache x1023"]
    ins = Inspector(run(lines).steps[-1].snapshot)
    holder = ins.describe("holder:cache")
    assert holder["fields"][1:] == [["page 1", "FOLL_GET × 1023", "taken through P buf[0]"]]
    page = fields(ins.describe("page:1"))
    assert page["held by cache"] == "FOLL_GET reference (not a pin) × 1023" and page["page_count()"] == 1024


def test_collapsed_runs_have_entries():
    snap = run(["mmap P buf 20", *[f"write P buf[{i}] A" for i in range(20)]]).steps[-1].snapshot
    ins = Inspector(snap)
    entry = ins.describe("page:3-6")
    assert entry["title"] == "pages 3-6 (4 alike pages)" and [r["index"] for r in entry["rows"]] == [3, 4, 5, 6]
    assert ins.describe("page:90-99") is None and ins.describe("page:x-y") is None
    assert [r["index"] for r in ins.describe("pte:P:buf:0-19")["rows"]] == list(range(20))


def test_a_pane_describes_the_run_ids_its_frame_draws(sock):
    sock.call("sandbox", {})
    sock.call("command", {"text": "mmap P big 16"})
    r = sock.call("command", {"text": "read P big[3]"})
    pane = r["panes"][0]
    for node in pane["frame"]["nodes"]:
        assert node["id"] in pane["objects"], node["id"]
