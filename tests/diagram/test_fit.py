"""Compact layouts: shared slots, sides, columns, the compressed height and the legend's fit.

A projector shows the whole layout of a run in one pane, so room kept for objects of other
steps costs every frame.  These tests pin down what keeps the layouts low and wide without
letting two things be drawn in one place.
"""
import glob
import os
import struct

import pytest

from cowviz.diagram import SandboxLayouter, SideMap, build_graph, layout_run, style
from cowviz.diagram.dot import bare_text
from cowviz.diagram.graphviz import run_dot
from cowviz.diagram.layout import _bb
from cowviz.scenario import load_scenario, run_scenario

from .conftest import OWN, ROOT, SHARED, run_commands_text, scenario_eras
from .test_render import svg_boxes

TUTORIAL = sorted(glob.glob(os.path.join(ROOT, "scenarios", "[0-9][0-9]-*.yaml")))

# The child C exits before D is forked: C and D, and the pages only each of them wrote, are
# never on screen together.
ONE_CHILD_AT_A_TIME = """
mmap P buf 2
write P buf[0] A
fork P C
write C buf[0] X
exit C
fork P D
write D buf[0] Y
"""


def overlap(a, b) -> bool:
    """Do two boxes (centre x, y, width, height) overlap by more than half a point?"""
    return (abs(a[0] - b[0]) < (a[2] + b[2]) / 2 - 0.5) and (abs(a[1] - b[1]) < (a[3] + b[3]) / 2 - 0.5)


def box(n):
    return (n.x, n.y, n.w, n.h)


@pytest.mark.parametrize("path, era", scenario_eras(SHARED + OWN))
def test_no_two_objects_share_a_place_in_any_frame(path, era):
    """Slots are shared only by objects never on screen together (and no node lies in another)."""
    frames = layout_run(run_scenario(load_scenario(path), era)).frames
    for f in frames:
        nodes = f.nodes
        for i, a in enumerate(nodes):
            for b in nodes[i + 1:]:
                assert not overlap(box(a), box(b)), (f.step, a.id, b.id)
        for i, a in enumerate(f.boxes):
            for b in f.boxes[i + 1:]:
                assert not overlap(box(a), box(b)), (f.step, a.id, b.id)


def test_objects_never_on_screen_together_share_a_slot():
    run = run_commands_text(ONE_CHILD_AT_A_TIME, "6.x")
    frames = layout_run(run).frames
    at = lambda n: next(box(f.node(n)) for f in frames if f.node(n))
    assert not any(f.node("mm:C") and f.node("mm:D") for f in frames)
    assert at("mm:C") == at("mm:D") and at("task:C") == at("task:D")
    assert at("pte:C:buf:0") == at("pte:D:buf:0")
    boxes = {b.id: box(b) for f in frames for b in f.boxes}
    assert boxes["box:mm:C"] == boxes["box:mm:D"]
    # C's copy of buf[0] was freed with C; D's copy takes its place.
    mapped = {e.tail: e.head for f in frames for e in f.edges if e.kind == "map"}
    c_page, d_page = mapped["pte:C:buf:0"], mapped["pte:D:buf:0"]
    assert c_page != d_page and at(c_page) == at(d_page)


def test_objects_on_screen_together_keep_their_own_places():
    run = run_commands_text("mmap P buf 1\nwrite P buf[0] A\nfork P C\nfork P D\nwrite D buf[0] Y", "6.x")
    last = layout_run(run).frames[-1]
    assert box(last.node("mm:C")) != box(last.node("mm:D"))
    assert not overlap(*(box(b) for b in last.boxes if b.id in ("box:mm:C", "box:mm:D")))


def test_the_sandbox_shares_no_slot():
    """The console cannot know that C will not come back, so D gets a place of its own."""
    run = run_commands_text(ONE_CHILD_AT_A_TIME, "6.x")
    sb = SandboxLayouter(run.era)
    frames = [sb.add(run.initial)] + [sb.add(s.snapshot, s.events) for s in run.steps]
    c = next(f.node("mm:C") for f in frames if f.node("mm:C"))
    d = frames[-1].node("mm:D")
    assert (c.x, c.y) != (d.x, d.y)
    assert all(d.get("slot", n) == n for n, d in sb.union.nodes(data=True))


def test_a_child_forked_after_the_last_one_exited_takes_its_side():
    run = run_commands_text(ONE_CHILD_AT_A_TIME, "6.x")
    sides = SideMap()
    graphs = [build_graph(s.snapshot, s.events, sides=sides) for s in run.steps]
    assert graphs[2].nodes["mm:C"]["col"] == "R0" and graphs[-1].nodes["mm:D"]["col"] == "R0"


def test_a_second_live_child_goes_to_the_side_with_less_to_show():
    run = run_commands_text("mmap P buf 4\nwrite P buf[0] A\npin P buf[0] as nic write longterm\n"
                            "fork P C\nfork P D", "6.x")
    sides = SideMap()
    g = [build_graph(s.snapshot, s.events, sides=sides) for s in run.steps][-1]
    # P and its device fill the left, so D joins C on the right.
    assert g.nodes["holder:nic"]["col"] == "L1" and g.nodes["mm:D"]["col"] == "R0"


def test_anon_vma_tree_sits_between_the_pages_and_the_child():
    run = run_commands_text("mmap P buf 2\nwrite P buf[0] A\nwrite P buf[1] B\nfork P C\nwrite C buf[0] X",
                            "6.x")
    f = layout_run(run).frames[-1]
    right = lambda n: n.x + n.w / 2
    left = lambda n: n.x - n.w / 2
    pages = [n for n in f.nodes if n.kind == "page"]
    avs = [n for n in f.nodes if n.kind == "anon_vma"]
    assert pages and avs
    assert max(right(n) for n in f.nodes if n.id.startswith(("pte:P:", "vma:P:"))) < min(left(p) for p in pages)
    assert max(right(p) for p in pages) < min(left(a) for a in avs)
    assert max(right(a) for a in avs) < min(left(n) for n in f.nodes if n.id.startswith(("pte:C:", "vma:C:")))


def test_a_tall_drawing_is_compressed_and_renders_at_full_size():
    run = run_scenario(load_scenario(os.path.join(ROOT, "scenarios", "08-rdma-regression.yaml")), "6.x")
    rl = layout_run(run)
    union = rl.frames[0]._union
    _, y0, _, y1 = _bb(run_dot(bare_text(union), "json"))
    legend_h = rl.frames[0]._geom.legend[3]
    assert union.graph.get("compress") and rl.height - legend_h < y1 - y0
    png = rl.frames[-1].to_png()
    w, h = struct.unpack(">II", png[16:24])
    assert abs(w - rl.width * 96 / 72) < 4 and abs(h - rl.height * 96 / 72) < 4
    # The SVG is not shrunk either: its pages and PTE rows are where the JSON says.
    boxes, _, _ = svg_boxes(rl.frames[-1].to_svg())
    for n in rl.frames[-1].nodes:
        if n.kind in ("page", "pte"):
            x, y, bw, bh = boxes[n.id]
            assert abs(x - n.x) <= 1.5 and abs(y - n.y) <= 1.5 and abs(bw - n.w) <= 2.5, n.id


@pytest.mark.parametrize("path", TUTORIAL, ids=[os.path.basename(p) for p in TUTORIAL])
def test_tutorial_layouts_are_low_and_wide(path):
    """Every tutorial run fits a 930x330 px comparison pane at 0.4 px per pt or more (16 pt text
    at 6.4 px or more; the first union layouts drew it at 3.2-8.1 px).  Graphviz 2.43 figures."""
    s = load_scenario(path)
    for era in s.eras:
        rl = layout_run(run_scenario(s, era))
        assert min(930 / rl.width, 330 / rl.height) >= 0.4, (era, rl.width, rl.height)


@pytest.mark.parametrize("width, table_rows", [(900, 5), (1200, 5), (1500, 3), (2600, 2)])
def test_legend_fits_under_the_drawing(width, table_rows):
    """Narrow: caption, three rows of entries, the note.  Wide: the note beside the caption and
    two rows of entries, or one."""
    columns, legend_w = style.legend_fit(width)
    rows = style.legend_rows(columns)
    assert sorted(e for r in rows for e in r) == sorted(style.LEGEND)
    if columns > 3:
        assert legend_w <= width - 2 * style.PAD
    # The pairs stay together in a column: RW above RO for PTEs and for map edges.
    if columns == 5:
        assert [r[0][2] for r in rows] == ["PTE writable", "PTE write-protected"]
        assert [r[1][2] for r in rows] == ["maps page (RW)", "maps page (RO)"]
    html = style.legend_html("Linux 6.x — step 5: fork P C", (columns, legend_w))
    assert html.count("<TR>") == table_rows and style.LEGEND_NOTE in html
