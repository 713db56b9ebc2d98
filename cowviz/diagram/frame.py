"""Frames: one step's objects placed by the run's layout, as JSON, SVG, PNG or DOT.

Wire format: docs/diagram.md ("Frame JSON").  Coordinates are points in the
layout's world space (origin top left, y down), the same in the JSON and in
the SVG, so a browser can morph between frames by id.
"""
from __future__ import annotations

import re
from html import escape, unescape
from typing import NamedTuple

from . import graph as _graph
from .dot import dot_text, render_scale
from .graphviz import run_dot
from .. import ids
from ..ids import sort_key

VERSION = 1


class NodeBox(NamedTuple):
    id: str
    kind: str
    x: float
    y: float
    w: float
    h: float
    label: tuple
    badge: str | None
    cls: str
    hl: tuple
    attrs: dict


class EdgePath(NamedTuple):
    id: str
    kind: str
    tail: str
    head: str
    points: tuple        # (x, y) bezier points from the tail's side: start, then 3 per segment
    tip: tuple | None    # the arrow's point at the head
    label: str | None
    lp: tuple | None
    cls: str
    hl: tuple

    @property
    def d(self) -> str:
        """The path as SVG path data."""
        p = self.points
        if not p:
            return ""
        out = [f"M{_r(p[0][0])} {_r(p[0][1])}"]
        for i in range(1, len(p) - 2, 3):
            out.append("C" + " ".join(f"{_r(x)} {_r(y)}" for x, y in p[i:i + 3]))
        return "".join(out)


class BoxRect(NamedTuple):
    id: str
    kind: str
    x: float
    y: float
    w: float
    h: float


def _differs(a: dict, b: dict) -> bool:
    """Did a node's text or kernel facts change between two frames?"""
    return (a["label"], a["attrs"]) != (b["label"], b["attrs"])


def _r(v: float):
    v = round(v, 1)
    return int(v) if v == int(v) else v


class Frame:
    """The drawing after one step (step 0: the initial state)."""

    def __init__(self, step: int, era: str, graph, prev, union, geom, caption: str = ""):
        self.step = step
        self.era = era
        self.caption = caption
        self.tags = tuple(graph.graph.get("tags", ()))
        self._graph = graph
        self._union = union
        self._geom = geom
        self._dot = None
        nodes = []
        for n in sorted(graph.nodes, key=sort_key):
            d = graph.nodes[n]
            classes = list(d["cls"])
            if d["hl"]:
                classes += ["hl"] + ["hl-" + t for t in d["hl"]]
            new = prev is not None and n not in prev
            if new:
                classes.append("new")
            elif prev is not None and _differs(prev.nodes[n], d):
                classes.append("changed")
            d["classes"] = tuple(classes)
            d["badge"] = _graph.badge(graph, n, new)
            x, y, w, h = geom.nodes[n]
            nodes.append(NodeBox(n, d["kind"], x, y, w, h, d["label"], d["badge"], " ".join(classes),
                                 d["hl"], d["attrs"]))
        edges = []
        for u, v, k, d in sorted(graph.edges(keys=True, data=True), key=lambda e: e[2]):
            classes = list(d["cls"])
            if d["hl"]:
                classes += ["hl"] + ["hl-" + t for t in d["hl"]]
            if prev is not None and not prev.has_edge(u, v, k):
                classes.append("new")
            d["classes"] = tuple(classes)
            points, tip, lp = geom.edges[k]
            edges.append(EdgePath(k, d["kind"], u, v, points, tip, d["label"], lp, " ".join(classes),
                                  d["hl"]))
        self.nodes = tuple(nodes)
        self.edges = tuple(edges)
        self._by_id = {n.id: n for n in nodes}
        self.boxes = tuple(BoxRect(b, ids.kind(ids.boxed(b)), *geom.boxes[b]) for b in sorted(geom.boxes)
                           if any(b in graph.nodes[n]["box"] for n in graph.nodes))
        self.vb = geom.vb

    def node(self, node_id: str) -> NodeBox | None:
        """The node with this id, or None when the object is absent in this frame."""
        return self._by_id.get(node_id)

    def to_json(self) -> dict:
        """The frame as compact JSON-ready data (docs/diagram.md)."""
        nodes = []
        for n in self.nodes:
            o = {"id": n.id, "kind": n.kind, "x": _r(n.x), "y": _r(n.y), "w": _r(n.w), "h": _r(n.h),
                 "label": list(n.label), "cls": n.cls}
            if n.badge:
                o["badge"] = n.badge
            if n.hl:
                o["hl"] = list(n.hl)
            if n.attrs:
                o["attrs"] = n.attrs
            nodes.append(o)
        edges = []
        for e in self.edges:
            o = {"id": e.id, "kind": e.kind, "tail": e.tail, "head": e.head, "d": e.d, "cls": e.cls}
            if e.tip:
                o["tip"] = [_r(e.tip[0]), _r(e.tip[1])]
            if e.label:
                o["label"] = e.label
                if e.lp:
                    o["lp"] = [_r(e.lp[0]), _r(e.lp[1])]
            if e.hl:
                o["hl"] = list(e.hl)
            edges.append(o)
        out = {"v": VERSION, "step": self.step, "era": self.era, "vb": [_r(v) for v in self.vb],
               "nodes": nodes, "edges": edges}
        if self.caption:
            out["caption"] = self.caption
        if self.tags:
            out["tags"] = list(self.tags)
        if self._geom.legend:
            out["legend"] = [_r(v) for v in self._geom.legend]
        if self.boxes:
            out["boxes"] = [{"id": b.id, "kind": b.kind, "x": _r(b.x), "y": _r(b.y), "w": _r(b.w),
                             "h": _r(b.h)} for b in self.boxes]
        return out

    def to_dot(self) -> str:
        """The DOT text Graphviz lays out for this frame (absent objects invisible)."""
        if self._dot is None:
            self._dot = dot_text(self._union, self._graph, f"Linux {self.era} — {self.caption}")
        return self._dot

    def to_svg(self) -> str:
        """A standalone SVG in the layout's world coordinates, with the JSON's ids and classes."""
        svg = run_dot(self.to_dot(), "svg").decode("utf-8")
        rows = {n.id: n.cls for n in self.nodes if n.kind == "pte"}
        return _name_rows(_place_svg(svg, self.vb, self._geom.origin), rows)

    def to_png(self, dpi: int = 96) -> bytes:
        """The frame as a PNG image."""
        # Graphviz shrinks the rendering to the graph's `size` (dot.py); a higher dpi undoes that.
        scale = render_scale(self._union, self.vb[2], self.vb[3])
        return run_dot(self.to_dot(), "png", f"-Gdpi={int(dpi) / scale:.4f}")


_SVG_TAG = re.compile(r"<svg\b[^>]*>", re.S)
_TOP_G = re.compile(r'(<g id="cowviz" class="graph" )transform="[^"]*"')


_ROW = re.compile(r'<g id="a_([^"]*)"><a xlink:href="#" xlink:title="[^"]*">\n?(.*?)</a>\n</g>', re.S)


def _name_rows(svg: str, rows: dict) -> str:
    """Give each PTE row of a VMA table its own id and classes (Graphviz wraps it in a link)."""
    def named(m):
        row = unescape(m.group(1))
        return f'<g id="{escape(row)}" class="row {escape(rows.get(row, "pte"))}">\n{m.group(2)}</g>'
    return _ROW.sub(named, svg)


def _place_svg(svg: str, vb, origin) -> str:
    """Make the SVG's user space the layout's world space: same viewBox for the whole run."""
    x, y, w, h = vb
    head = _SVG_TAG.search(svg)
    tag = head.group(0)
    tag = re.sub(r'width="[^"]*"', f'width="{_r(w)}pt"', tag, count=1)
    tag = re.sub(r'height="[^"]*"', f'height="{_r(h)}pt"', tag, count=1)
    tag = re.sub(r'viewBox="[^"]*"', f'viewBox="{_r(x)} {_r(y)} {_r(w)} {_r(h)}"', tag, count=1)
    svg = svg[:head.start()] + tag + svg[head.end():]
    svg, n = _TOP_G.subn(rf'\1transform="translate({_r(origin[0])} {_r(origin[1])})"', svg, count=1)
    if n != 1:
        raise ValueError("unexpected SVG from Graphviz: no top-level graph group")
    return svg
