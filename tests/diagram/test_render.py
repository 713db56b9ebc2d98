"""Rendering with the real Graphviz: SVG, PNG and JSON frames agree on where everything is."""
import json
import re
import xml.etree.ElementTree as ET

import pytest

from cowviz.diagram import layout_run

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def layout(early_copy_runs):
    return layout_run(early_copy_runs["6.x"])


def svg_boxes(svg: str) -> tuple[dict, dict, str]:
    """id -> (x, y, w, h) of every node group and PTE row, in the SVG's user space; and the viewBox."""
    root = ET.fromstring(svg)
    top = root.find(f"{SVG}g")
    tx, ty = (float(v) for v in re.match(r"translate\(([-\d.]+) ([-\d.]+)\)", top.get("transform")).groups())
    boxes, classes = {}, {}
    for g in root.iter(f"{SVG}g"):
        cls = g.get("class", "")
        if not (cls.startswith("node") or cls.startswith("row")):
            continue
        classes[g.get("id")] = cls
        poly = g.find(f"{SVG}polygon")
        if poly is None:
            continue
        pts = [tuple(float(v) for v in p.split(",")) for p in poly.get("points").split()]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        boxes[g.get("id")] = ((min(xs) + max(xs)) / 2 + tx, (min(ys) + max(ys)) / 2 + ty,
                              max(xs) - min(xs), max(ys) - min(ys))
    return boxes, classes, root.get("viewBox")


def test_svg_has_every_visible_object_by_id_and_nothing_else(layout):
    for frame in layout.frames:
        svg = frame.to_svg()
        ids = set(re.findall(r'<g id="([^"]+)" class="(?:node|edge|row|cluster)', svg))
        ids = {i.replace("&gt;", ">").replace("&#45;", "-") for i in ids}
        want = {n.id for n in frame.nodes} | {e.id for e in frame.edges} | {b.id for b in frame.boxes}
        assert want - ids == set(), frame.step
        assert ids - want - {b for b in ids if b.startswith("box:")} == set(), frame.step


def test_svg_positions_match_the_json_in_every_frame(layout):
    viewboxes = set()
    for frame in layout.frames:
        boxes, classes, vb = svg_boxes(frame.to_svg())
        viewboxes.add(vb)
        for n in frame.nodes:
            if n.kind in ("page", "pte", "mm"):
                x, y, w, h = boxes[n.id]
                assert abs(x - n.x) <= 1.5 and abs(y - n.y) <= 1.5, (frame.step, n.id)
                assert abs(w - n.w) <= 2.5 and abs(h - n.h) <= 2.5, (frame.step, n.id)
        assert "hl-early_copy" in classes.get("page:3", "") or frame.step != 5
    assert len(viewboxes) == 1


def test_rows_carry_their_classes_in_svg(layout):
    frame = layout.frames[5]
    _, classes, _ = svg_boxes(frame.to_svg())
    assert classes["pte:C:buf:0"].split() == ["row"] + frame.node("pte:C:buf:0").cls.split()
    assert "ro" in classes["pte:P:buf:1"].split() and "hl-wrprotect" in classes["pte:P:buf:1"]


def test_png_renders(layout):
    png = layout.frames[5].to_png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    assert abs(width - layout.width * 96 / 72) < 4
    assert len(layout.frames[5].to_png(dpi=48)) < len(png)


def test_frame_json_shape(layout):
    frame = layout.frames[5]
    data = json.loads(json.dumps(frame.to_json()))
    assert data["v"] == 1 and data["step"] == 5 and data["era"] == "6.x"
    assert data["vb"] == [0, 0, pytest.approx(layout.width), pytest.approx(layout.height)]
    assert "early_copy" in data["tags"]
    nodes = {n["id"]: n for n in data["nodes"]}
    page = nodes["page:3"]
    assert {"id", "kind", "x", "y", "w", "h", "label", "cls", "attrs"} <= set(page)
    assert page["kind"] == "page" and page["badge"] == "EARLY COPY" and "new" in page["cls"].split()
    assert nodes["page:1"]["badge"] == "ORIGINAL"
    assert page["hl"][0] == "early_copy" and page["label"][0] == "page 3 = A"
    for e in data["edges"]:
        assert e["tail"] in nodes and e["head"] in nodes and e["d"].startswith("M")
    pin = next(e for e in data["edges"] if e["id"] == "holder:nic>page:1:pin")
    assert pin["label"] == "FOLL_PIN" and len(pin["lp"]) == 2
    # The child's edge runs from the child's PTE to the page: its tip is at the page.
    child = next(e for e in data["edges"] if e["id"] == "pte:C:buf:0>page:3")
    p3 = nodes["page:3"]
    assert abs(child["tip"][0] - (p3["x"] + p3["w"] / 2)) < 3
    assert {b["id"] for b in data["boxes"]} == {"box:mm:P", "box:mm:C"}
    assert len(json.dumps(data, separators=(",", ":"))) < 30000


def test_run_layout_json_has_every_frame(layout, early_copy_runs):
    data = layout.to_json()
    assert len(data["frames"]) == len(early_copy_runs["6.x"].steps) + 1
    assert [f["step"] for f in data["frames"]] == list(range(len(data["frames"])))


def test_sandbox_svg_uses_the_same_world_coordinates_as_its_json(early_copy_runs):
    from cowviz.diagram import SandboxLayouter
    run = early_copy_runs["5.9"]
    sb = SandboxLayouter(run.era)
    frames = [sb.add(run.initial)] + [sb.add(s.snapshot, s.events, caption=s.command) for s in run.steps]
    shifted = [f for f in frames if f.vb[:2] != (0.0, 0.0)] or frames
    for frame in (shifted[0], frames[-1]):
        boxes, _, vb = svg_boxes(frame.to_svg())
        assert [float(v) for v in vb.split()] == pytest.approx(list(frame.vb), abs=0.1)
        for n in frame.nodes:
            if n.kind in ("page", "pte"):
                x, y, _, _ = boxes[n.id]
                assert abs(x - n.x) <= 1.5 and abs(y - n.y) <= 1.5, (frame.step, n.id)
    assert frames[-1].caption == run.steps[-1].command
