"""The graph built from one snapshot: its nodes, edges and attributes, in kernel terms."""
import pytest

from cowviz.diagram import SideMap, build_graph
from cowviz.diagram.style import edge_attrs, node_attrs
from cowviz.mm.events import Event

from .conftest import run_commands_text

FORK_PINNED = """
mmap P buf 4
write P buf[0] A
write P buf[1] B
pin P buf[0] as nic write longterm
fork P C
"""


def after(run, n=None):
    step = run.steps[-1 if n is None else n - 1]
    return build_graph(step.snapshot, step.events)


def edges(g, kind=None):
    return {k: d for _, _, k, d in g.edges(keys=True, data=True) if kind is None or d["kind"] == kind}


@pytest.mark.parametrize("era", ["5.9", "6.x"])
def test_fork_copies_the_pinned_page_early(era):
    g = after(run_commands_text(FORK_PINNED, era))
    for n in ("task:P", "task:C", "mm:P", "mm:C", "vma:P:buf", "vma:C:buf", "pte:P:buf:0",
              "pte:C:buf:3", "page:1", "page:2", "page:3", "anon_vma:1", "anon_vma:2", "holder:nic",
              "memcg:P"):
        assert n in g, n
    maps = edges(g, "map")
    # The pinned page stays with the parent; the child maps a fresh copy, both writable.
    assert "pte:P:buf:0>page:1" in maps and "rw" in maps["pte:P:buf:0>page:1"]["cls"]
    assert "pte:C:buf:0>page:3" in maps and "rw" in maps["pte:C:buf:0>page:3"]["cls"]
    # The unpinned page is shared, write-protected on both sides.
    assert "ro" in maps["pte:P:buf:1>page:2"]["cls"] and "ro" in maps["pte:C:buf:1>page:2"]["cls"]
    page1, page2, page3 = (g.nodes[f"page:{i}"]["attrs"] for i in (1, 2, 3))
    assert page1["refcount"] == 1025 and page1["mapcount"] == 1 and page1["pins"] == 1
    assert page1["maybe_pinned"] and page2["mapcount"] == 2 and page3["data"] == "A"
    assert "page:3" in g and "early_copy" in g.nodes["page:3"]["hl"]
    assert "early_copy" in g.nodes["pte:C:buf:0"]["hl"]
    assert "early_copy" in edges(g)["pte:C:buf:0>page:3"]["hl"]
    assert "wrprotect" in g.nodes["pte:P:buf:1"]["hl"] and "wrprotect" in g.nodes["pte:C:buf:1"]["hl"]


def test_fork_shares_the_pinned_page_before_5_9():
    g = after(run_commands_text(FORK_PINNED, "5.8"))
    maps = edges(g, "map")
    assert "pte:C:buf:0>page:1" in maps and "ro" in maps["pte:C:buf:0>page:1"]["cls"]
    assert g.nodes["page:1"]["attrs"]["mapcount"] == 2
    assert not any("early_copy" in d["hl"] for _, d in g.nodes(data=True))


@pytest.mark.parametrize("era, name, label", [("5.7", None, None), ("5.8", None, None),
                                              ("5.9-rc", None, None),
                                              ("5.9", "has_pinned", "has_pinned: set"),
                                              ("6.x", "MMF_HAS_PINNED", "MMF_HAS_PINNED: set")])
def test_mm_shows_the_pinned_flag_by_its_era_name(era, name, label):
    g = after(run_commands_text(FORK_PINNED, era), 4)
    mm = g.nodes["mm:P"]
    assert mm["attrs"]["has_pinned_name"] == name
    assert mm["attrs"]["map_count"] == 1 and "map_count 1" in mm["label"]
    if label is None:
        assert mm["attrs"]["has_pinned"] is None
        assert not any("pinned" in line.lower() for line in mm["label"])
    else:
        assert mm["attrs"]["has_pinned"] is True and label in mm["label"]


@pytest.mark.parametrize("era", ["5.7", "5.8", "5.9-rc", "5.9", "6.x"])
def test_exclusive_is_known_only_in_6x(era):
    g = after(run_commands_text(FORK_PINNED, era))
    page = g.nodes["page:2"]
    if era == "6.x":
        assert page["attrs"]["exclusive"] is False and "exclusive: no" in page["label"]
        assert g.nodes["page:1"]["attrs"]["exclusive"] is True
    else:
        assert page["attrs"]["exclusive"] is None
        assert not any(line.startswith("exclusive") for line in page["label"])


def test_pin_and_get_references_are_different_edges():
    g = after(run_commands_text("""
        mmap P buf 2
        write P buf[0] A
        write P buf[1] B
        pin P buf[0] as nic write longterm
        gup P buf[1] as dev x2
    """, "6.x"))
    refs = edges(g)
    pin, get = refs["holder:nic>page:1:pin"], refs["holder:dev>page:2:get"]
    assert pin["kind"] == "pin" and pin["label"] == "FOLL_PIN" and "longterm" in pin["cls"]
    assert get["kind"] == "get" and get["label"] == "FOLL_GET"
    assert g.nodes["page:2"]["attrs"]["refcount"] == 3 and g.nodes["page:2"]["attrs"]["pins"] == 0
    assert "get page 2 ×2" in g.nodes["holder:dev"]["label"]
    # Never colour alone: line style and arrowhead differ, not only the colour.
    a, b = edge_attrs("pin", (), ()), edge_attrs("get", (), ())
    assert a.get("style", "solid") != b.get("style", "solid")
    assert a.get("arrowhead") != b.get("arrowhead")


def test_pte_rows_show_present_absent_writable_and_zero_page():
    g = after(run_commands_text("""
        mmap P buf 4
        write P buf[0] A
        read P buf[1]
        mprotect P buf ro
    """, "6.x"))
    rows = {n: g.nodes[n] for n in g if n.startswith("pte:P:buf:")}
    assert set(rows) == {f"pte:P:buf:{i}" for i in range(4)}
    assert rows["pte:P:buf:0"]["label"] == ("[0] RO pfn 1",) and "ro" in rows["pte:P:buf:0"]["cls"]
    assert rows["pte:P:buf:1"]["label"] == ("[1] RO zero page",)
    assert rows["pte:P:buf:2"]["label"] == ("[2] none",) and "none" in rows["pte:P:buf:2"]["cls"]
    assert not rows["pte:P:buf:2"]["attrs"]["present"]
    assert "pte:P:buf:1>page:0" in edges(g, "map")
    assert g.nodes["page:0"]["attrs"]["kind"] == "zero" and g.nodes["page:0"]["attrs"]["refcount"] is None
    g2 = after(run_commands_text("mmap P buf 2\nwrite P buf[1] A", "6.x"))
    assert g2.nodes["pte:P:buf:1"]["label"] == ("[1] RW pfn 1",) and "rw" in g2.nodes["pte:P:buf:1"]["cls"]


def test_anon_vma_tree_and_chain():
    g = after(run_commands_text("mmap P buf 1\nwrite P buf[0] A\nfork P C\nfork C G\nwrite G buf[0] B",
                                "5.9"))
    e = edges(g)
    assert e["anon_vma:2>anon_vma:1:parent"]["kind"] == "parent"
    avc = edges(g, "avc")
    # The child's VMA is linked into its parent's anon_vma and owns its own.
    assert "vma:C:buf>anon_vma:1" in avc and "own" not in avc["vma:C:buf>anon_vma:1"]["cls"]
    assert "own" in avc["vma:C:buf>anon_vma:2"]["cls"] and "own" in avc["vma:P:buf>anon_vma:1"]["cls"]
    grand = [k for k, d in e.items() if d["kind"] == "root"]
    assert grand and all(k.endswith("anon_vma:1:root") for k in grand)
    assert g.nodes["anon_vma:1"]["attrs"]["root"] == "anon_vma:1"


def test_task_mm_vma_and_sides():
    g = after(run_commands_text("mmap P buf 1\nthread P T\nfork P C", "6.x"))
    e = edges(g)
    assert {"task:P>mm:P", "task:T>mm:P", "task:C>mm:C", "mm:P>vma:P:buf", "mm:C>vma:C:buf"} <= set(e)
    # Parent on the left, child on the right, pages between them.
    assert g.nodes["mm:P"]["col"] == "L0" and g.nodes["vma:P:buf"]["col"] == "L1"
    assert g.nodes["mm:C"]["col"] == "R0" and g.nodes["pte:C:buf:0"]["col"] == "R1"
    assert g.nodes["task:T"]["label"] == ("task T", "thread of P")


def test_sides_stay_fixed_across_snapshots():
    run = run_commands_text("mmap P buf 1\nfork P C\nexit P\nfork C D", "6.x")
    sides = SideMap()
    graphs = [build_graph(s.snapshot, s.events, sides=sides) for s in run.steps]
    assert graphs[1].nodes["mm:C"]["col"] == "R0" and graphs[3].nodes["mm:C"]["col"] == "R0"
    assert graphs[3].nodes["mm:D"]["col"] == "L0"


def test_holder_and_page_styles_are_not_colour_alone():
    ro, rw, none = (node_attrs("pte", (c,), ()) for c in ("ro", "rw", "none"))
    assert len({ro.get("style"), rw.get("style"), none.get("style")}) == 3
    hl = node_attrs("page", ("anon",), ("cow_copy",))
    assert float(hl["penwidth"]) > float(node_attrs("page", ("anon",), ()).get("penwidth", "1.5"))


def test_event_pte_runs_highlight_overlapping_rows():
    run = run_commands_text("mmap P buf 8\nwrite P buf[3] A", "6.x")
    snap = run.steps[-1].snapshot
    g = build_graph(snap, [Event("test", "x", "wrprotect", ("pte:P:buf:2-5", "page:1"))])
    marked = {n for n, d in g.nodes(data=True) if "wrprotect" in d["hl"]}
    assert marked == {"pte:P:buf:2", "pte:P:buf:3", "pte:P:buf:4", "pte:P:buf:5", "page:1"}
    assert "wrprotect" in edges(g)["pte:P:buf:3>page:1"]["hl"]


def test_pipe_holder_and_shmem_pages():
    g = after(run_commands_text("""
        mmap P shm 2 shared
        write P shm[0] S
        mmap P buf 1
        write P buf[0] A
        vmsplice P buf[0] pipe
    """, "5.7"))
    assert g.nodes["holder:pipe"]["attrs"]["kind"] == "pipe" and "pipe" in g.nodes["holder:pipe"]["cls"]
    shm = [d for n, d in g.nodes(data=True) if d["kind"] == "page" and d["attrs"]["kind"] == "shmem"]
    assert len(shm) == 1 and "mapcount 1 shmem" in shm[0]["label"]
    assert "shared" in g.nodes["vma:P:shm"]["label"][2]


def test_a_holder_with_many_pages_stays_small():
    cmds = "mmap P buf 8\n" + "\n".join(f"write P buf[{i}] A\ngup P buf[{i}] as dev" for i in range(8))
    g = after(run_commands_text(cmds, "5.7"))
    label = g.nodes["holder:dev"]["label"]
    assert len(label) == 7 and label[-1] == "... 3 more"
    assert len([k for k in edges(g, "get") if k.startswith("holder:dev>")]) == 8
