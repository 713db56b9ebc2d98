"""Level of detail: alike PTEs collapse into runs, so a 1 GiB mm draws in a handful of nodes."""
import pytest

from cowviz.diagram import build_graph, layout_run
from cowviz.ids import parse_page, parse_pte
from cowviz.eras import get_era
from cowviz.mm import Kernel, take_snapshot

from .conftest import run_commands_text

GIB_PAGES = 262144


@pytest.fixture(scope="module")
def gib():
    """A 1 GiB mapping written page by page, one page pinned, forked, and 16 child writes."""
    k = Kernel(get_era("6.x"))
    k.mmap("P", "buf", GIB_PAGES)
    for i in range(GIB_PAGES):
        k.access("P", "buf", i, True, "A")
    k.gup("P", "buf", 5, "nic", write=True, pin=True, longterm=True)
    k.fork("P", "C")
    k.take_events()
    for i in range(0, GIB_PAGES, GIB_PAGES // 16):
        k.access("C", "buf", i + 7, True, "X")
    return take_snapshot(k), tuple(k.take_events())


def test_one_gib_mm_collapses_to_at_most_150_nodes(gib):
    snap, events = gib
    g = build_graph(snap, events)
    assert g.number_of_nodes() <= 150
    # Every PTE and every page is still accounted for, exactly once.
    for owner in ("P", "C"):
        rows = sorted(parse_pte(n) for n in g if n.startswith(f"pte:{owner}:"))
        assert rows[0].first == 0 and rows[-1].last == GIB_PAGES - 1
        assert all(a.last + 1 == b.first for a, b in zip(rows, rows[1:]))
    pages = sorted(parse_page(n) for n, d in g.nodes(data=True) if d["kind"] == "page")
    assert sum(b - a + 1 for a, b in pages) == len(snap.pages)


def test_runs_map_whole_page_runs(gib):
    snap, events = gib
    g = build_graph(snap, events)
    for u, v, k, d in g.edges(keys=True, data=True):
        if d["kind"] == "map" and not g.nodes[u]["attrs"]["special"]:
            row, (a, b) = parse_pte(u), parse_page(v)
            assert row.last - row.first == b - a, k
    # The pinned page is a node of its own, so the FOLL_PIN edge lands on it.
    pinned = [n for n, d in g.nodes(data=True) if d["kind"] == "page" and d["attrs"]["maybe_pinned"]]
    assert pinned == ["page:6"]
    assert any(k == "holder:nic>page:6:pin" for _, _, k in g.edges(keys=True))


def test_collapsed_rows_carry_counts_in_their_label(gib):
    g = build_graph(*gib)
    runs = [d for n, d in g.nodes(data=True) if d["kind"] == "pte" and "run" in d["cls"]]
    assert runs and all("×" in d["label"][0] for d in runs)
    big = max(runs, key=lambda d: d["attrs"]["count"])
    assert big["attrs"]["count"] > 10000


def test_expanded_rows_are_drawn_in_full(gib):
    snap, events = gib
    g = build_graph(snap, events, expanded=("pte:P:buf:0-9",))
    assert all(f"pte:P:buf:{i}" in g for i in range(10))
    assert "page:1" in g and "page:10" in g
    with pytest.raises(ValueError):
        build_graph(snap, events, expanded=("bogus",))


def test_small_vmas_are_never_collapsed():
    run = run_commands_text("mmap P buf 16\nwrite P buf[0] A\nwrite P buf[1] A", "6.x")
    g = build_graph(run.steps[-1].snapshot)
    assert all(f"pte:P:buf:{i}" in g for i in range(16)) and "page:1" in g and "page:2" in g


def test_a_64_page_vma_collapses_and_keeps_distinct_pages_apart():
    run = run_commands_text("""
        mmap P big 64
        write P big[0] A
        write P big[1] A
        write P big[2] B
        read P big[40]
        read P big[41]
    """, "6.x")
    g = build_graph(run.steps[-1].snapshot)
    rows = sorted(n for n, d in g.nodes(data=True) if d["kind"] == "pte")
    assert "pte:P:big:0-2" in rows and "pte:P:big:3-39" in rows and "pte:P:big:40-41" in rows
    assert g.nodes["pte:P:big:40-41"]["label"] == ("[40-41] RO zero page ×2",)
    assert "page:1-3" in g and g.nodes["page:1-3"]["label"][0] == "pages 1-3 ×3"
    whole = build_graph(run.steps[-1].snapshot, expanded=("vma:P:big",))
    assert all(f"pte:P:big:{i}" in whole for i in range(64)) and "page:3" in whole


def test_layout_of_the_collapsed_gib_case(gib):
    snap, events = gib

    class OneStep:
        era = "6.x"
        initial = snap
        steps = ()
    frame = layout_run(OneStep).frames[0]
    assert len(frame.nodes) <= 150
