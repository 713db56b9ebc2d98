"""Layouts that hold still: one Graphviz run per scenario run, and an incremental sandbox.

layout_run() lays out the union of every node and edge of every step once,
so an object that persists never moves.  SandboxLayouter lays out the union
of everything seen so far whenever something new appears, then shifts the
result so that what was already on screen moves as little as possible.
"""
from __future__ import annotations

import json
import statistics
import threading
from typing import NamedTuple

import networkx as nx

from . import style
from .dot import ASPECT, ROW_GAP, bare_text, dot_text, tables
from .frame import Frame
from ..scenario.detail import hidden_details
from .graph import SideMap, build_graph
from .graphviz import run_dot
from .slots import lifetimes, share_slots, slot_of


class Geometry(NamedTuple):
    """Where Graphviz put everything, in world coordinates (points, y down)."""
    vb: tuple            # x, y, width, height of the drawing including its margin
    nodes: dict          # id -> (x, y, w, h), centre and size
    edges: dict          # id -> (points, tip, label position), oriented tail to head
    boxes: dict          # cluster id -> (x, y, w, h)
    origin: tuple        # world = (x_graphviz + origin[0], origin[1] - y_graphviz)
    legend: tuple | None = None      # centre x, y, width, height of the caption and legend block

    def shifted(self, dx: float, dy: float) -> "Geometry":
        """The same geometry moved by (dx, dy)."""
        mv = lambda p: (p[0] + dx, p[1] + dy) if p is not None else None
        return Geometry((self.vb[0] + dx, self.vb[1] + dy, self.vb[2], self.vb[3]),
                        {k: (x + dx, y + dy, w, h) for k, (x, y, w, h) in self.nodes.items()},
                        {k: (tuple(mv(p) for p in pts), mv(tip), mv(lp))
                         for k, (pts, tip, lp) in self.edges.items()},
                        {k: (x + dx, y + dy, w, h) for k, (x, y, w, h) in self.boxes.items()},
                        (self.origin[0] + dx, self.origin[1] + dy),
                        (self.legend[0] + dx, self.legend[1] + dy) + self.legend[2:] if self.legend else None)


class RunLayout:
    """Frames of a whole scenario run, all drawn from one layout."""

    def __init__(self, era: str, frames: tuple, geom: Geometry, dot: str):
        self.era = era
        self.frames = frames
        self.width = geom.vb[2]
        self.height = geom.vb[3]
        self.dot = dot

    def to_json(self) -> dict:
        """Every frame's JSON in one object: {"v", "era", "frames": [...]}."""
        return {"v": 1, "era": self.era, "frames": [f.to_json() for f in self.frames]}


def merge_into(union: nx.MultiDiGraph, g: nx.MultiDiGraph, added=None) -> None:
    """Add one step's nodes and edges to the union, keeping the largest label seen.

    `added` (history.py's record of a push), when given, is told what changed: the new node ids
    (.nodes), the new edges (.edges, as (u, v, key)) and, per node that grew, its (chars, lines)
    before (.grown), so that exactly this can be taken out again."""
    for n, d in g.nodes(data=True):
        (_grow_node if n in union else _new_node)(union, n, d, added)
    for u, v, k, d in g.edges(keys=True, data=True):
        _new_edge(union, u, v, k, d, added)


def merge_parts(union: nx.MultiDiGraph, parts, added=None) -> None:
    """merge_into() of a graph given as the parts (graph.graph_parts) that were made afresh for
    it: every other part is one an earlier state of the union already had, so it adds nothing.
    New nodes join the union in the order the whole graph would name them."""
    labels: dict = {}                     # node id -> its attributes, from its part
    named: dict = {}                      # nodes not in the union yet, in the order they are first named
    edges = []
    for part in parts:
        for tail, head, key, attrs in part.ops:
            if head is None:
                labels[tail] = attrs
                if tail not in union:
                    named.setdefault(tail)
            else:
                for n in (tail, head):
                    if n not in union:
                        named.setdefault(n)
                edges.append((tail, head, key, attrs))
    for n, d in labels.items():
        if n in union:
            _grow_node(union, n, d, added)
    for n in named:
        _new_node(union, n, labels[n], added)     # a node new to the union is in a new part (see above)
    for u, v, k, d in edges:
        _new_edge(union, u, v, k, d, added)


def _label_size(d: dict) -> tuple[int, int]:
    return max((len(line) for line in d["label"]), default=0), len(d["label"])


def _grow_node(union, n, d: dict, added) -> None:
    """A node the union has: keep its largest label."""
    chars, lines = _label_size(d)
    u = union.nodes[n]
    if chars > u["chars"] or lines > u["lines"]:
        if added is not None:
            added.grown.setdefault(n, (u["chars"], u["lines"]))
        u["chars"] = max(u["chars"], chars)
        u["lines"] = max(u["lines"], lines)


def _new_node(union, n, d: dict, added) -> None:
    chars, lines = _label_size(d)
    union.add_node(n, kind=d["kind"], col=d["col"], box=d["box"], seq=d["seq"], chars=chars, lines=lines,
                   cls=d["cls"])
    if added is not None:
        added.nodes.append(n)


def _new_edge(union, u, v, k, d: dict, added) -> None:
    if not union.has_edge(u, v, k):
        union.add_edge(u, v, key=k, kind=d["kind"], label=d["label"], cls=d["cls"])
        if added is not None:
            added.edges.append((u, v, k))


def assign_sizes(union: nx.MultiDiGraph) -> dict:
    """Give every node its fixed size: one width per column group, height by its most lines.
    Returns the width of each group (characters)."""
    widths: dict = {}
    for n, d in union.nodes(data=True):
        _widen(widths, d)
    for n, d in union.nodes(data=True):
        _size(d, widths)
    return widths


def grow_sizes(union: nx.MultiDiGraph, widths: dict, nodes) -> dict:
    """assign_sizes() after `nodes` were added to the union or grew, given the widths it had
    before: only they are sized again, unless they widened their group."""
    grown = dict(widths)
    for n in nodes:
        _widen(grown, union.nodes[n])
    if grown != widths:
        return assign_sizes(union)
    for n in nodes:
        _size(union.nodes[n], widths)
    return widths


def _widen(widths: dict, d: dict) -> None:
    """Widen the node's width group to hold it (and a badge, for kinds that get one)."""
    group = style.WIDTH_GROUP[d["kind"]]
    chars = max(d["chars"], _BADGE_CHARS) if d["kind"] in style.BADGE_KINDS else d["chars"]
    widths[group] = max(widths.get(group, style.MIN_CHARS[group]), chars)


def _size(d: dict, widths: dict) -> None:
    lines = d["lines"] + (1 if d["kind"] in style.BADGE_KINDS else 0)
    size = style.cell_size if d["kind"] in ("vma", "pte") else style.node_size
    d["size"] = size(widths[style.WIDTH_GROUP[d["kind"]]], lines)


_BADGE_CHARS = max(len(b) for b in style.BADGES.values()) + 2


def fit_drawing(union) -> None:
    """Fit the legend and the height to the drawing's width (one more Graphviz run, of the
    drawing alone, cached like the others): as many legend entries to a row as the width holds,
    and a drawing taller than width / ASPECT compressed toward that height (dot.py)."""
    union.graph.pop("compress", None)
    x0, y0, x1, y1 = _bb(run_dot(bare_text(union), "json0"))
    width = x1 - x0 + 2 * style.PAD
    if y1 - y0 > (x1 - x0) / ASPECT:
        union.graph["compress"] = round((x1 - x0) / ASPECT / 72, 3)      # inches
    if union.graph.get("legend"):
        union.graph["legend_fit"] = style.legend_fit(width, union.graph.get("hide", frozenset()))


def _bb(data: bytes) -> tuple:
    doc = json.loads(data.replace(b"-nan", b"null").replace(b"nan", b"null"))
    return tuple(float(v) for v in doc["bb"].split(","))


def parse_layout(data: bytes, union) -> Geometry:
    """Read `dot -Tjson0` output (JSON without the drawing operations) into world coordinates."""
    # Graphviz writes `-nan` for the corners of shapes it does not draw; those are not needed.
    doc = json.loads(data.replace(b"-nan", b"null").replace(b"nan", b"null"))
    x0, y0, x1, y1 = (float(v) for v in doc["bb"].split(","))
    pad = style.PAD
    ox, oy = pad - x0, pad + y1
    nodes, boxes, edges = {}, {}, {}
    for o in doc.get("objects", ()):
        if "nodes" in o or "edges" in o or o.get("name", "").startswith("cluster_"):
            if "bb" in o and o.get("id"):
                a, b, c, e = (float(v) for v in o["bb"].split(","))
                boxes[o["id"]] = ((a + c) / 2 + ox, oy - (b + e) / 2, c - a, e - b)
            continue
        if "pos" not in o or o.get("id") is None or o["id"] not in union:
            continue
        x, y = (float(v) for v in o["pos"].split(","))
        nodes[o["id"]] = (x + ox, oy - y, float(o["width"]) * 72, float(o["height"]) * 72)
    # Objects that share a slot (slots.py) share its place, and so do process boxes.
    for n, d in union.nodes(data=True):
        if d["kind"] != "pte" and slot_of(union, n) in nodes:
            nodes[n] = nodes[slot_of(union, n)]
    for box, rep in union.graph.get("box_slot", {}).items():
        if rep in boxes:
            boxes[box] = boxes[rep]
    # A VMA and its PTE rows are one table node: place the cells inside it.
    for vma, cells in tables(union).items():
        if vma not in nodes:
            continue
        cx, cy, tw, th = nodes[vma]
        top = cy - th / 2 + ROW_GAP
        for n, w, h in cells:
            nodes[n] = (cx, top + h / 2, w, h)
            top += h + ROW_GAP
    keys = {k for _, _, k in union.edges(keys=True)}
    for e in doc.get("edges", ()):
        k = e.get("id")
        if k not in keys:
            continue
        start = end = None
        pts = []
        for tok in e["pos"].split():
            if tok.startswith("e,"):
                end = _pt(tok[2:], ox, oy)
            elif tok.startswith("s,"):
                start = _pt(tok[2:], ox, oy)
            else:
                pts.append(_pt(tok, ox, oy))
        if e.get("dir") == "back":
            pts, tip = tuple(reversed(pts)), start
        else:
            pts, tip = tuple(pts), end
        lp = _pt(e["lp"], ox, oy) if "lp" in e else None
        edges[k] = (pts, tip, lp)
    vb = (0.0, 0.0, x1 - x0 + 2 * pad, y1 - y0 + 2 * pad)
    legend = None
    if "lp" in doc and "lwidth" in doc:
        lx, ly = _pt(doc["lp"], ox, oy)
        legend = (lx, ly, float(doc["lwidth"]) * 72, float(doc["lheight"]) * 72)
    return Geometry(vb, nodes, edges, boxes, (ox, oy), legend)


def _pt(text: str, ox: float, oy: float) -> tuple:
    x, y = (float(v) for v in text.split(","))
    return (x + ox, oy - y)


_geometry_cache: dict = {}
_geometry_lock = threading.Lock()
GEOMETRY_BYTES = 32 << 20     # the parsed layouts kept, by the size of their DOT texts (a fair measure)
_geometry_bytes = [0]


def layout(union, text: str | None = None, started=None) -> tuple[Geometry, str]:
    """Lay out the union graph with Graphviz (cached by its DOT text).  `text`: that text, made
    already; `started`: its Graphviz run, started already (graphviz.Started)."""
    text = dot_text(union) if text is None else text
    data = run_dot(text, "json0", started=started)
    with _geometry_lock:
        geom = _geometry_cache.get(text)
    if geom is None:
        geom = parse_layout(data, union)
        with _geometry_lock:
            if len(_geometry_cache) > 256 or _geometry_bytes[0] + 2 * len(text) > GEOMETRY_BYTES:
                _geometry_cache.clear()
                _geometry_bytes[0] = 0
            if text not in _geometry_cache:
                _geometry_bytes[0] += 2 * len(text)
            _geometry_cache[text] = geom
    return geom, text


def layout_run(run, expanded=(), legend: bool = True) -> RunLayout:
    """Frames for the initial state and after every step of a scenario run, on one layout.

    A walkthrough that declares `shows:` gets diagrams without the details it has not taught.
    """
    sides = SideMap()
    hide = hidden_details(getattr(run, "scenario", None))
    states = [(run.initial, ())] + [(s.snapshot, s.events) for s in run.steps]
    graphs = [build_graph(snap, events, expanded, sides, hide) for snap, events in states]
    union = nx.MultiDiGraph(legend=legend, hide=hide)
    for g in graphs:
        merge_into(union, g)
    assign_sizes(union)
    share_slots(union, lifetimes(graphs))
    fit_drawing(union)
    geom, text = layout(union)
    captions = ["initial state"] + [f"step {s.index}: {s.command}" for s in run.steps]
    frames = tuple(Frame(i, run.era, g, graphs[i - 1] if i else None, union, geom, captions[i])
                   for i, g in enumerate(graphs))
    return RunLayout(run.era, frames, geom, text)


class SandboxLayouter:
    """Frames for commands typed one at a time: the future is unknown, so new objects may re-layout."""

    def __init__(self, era: str, expanded=(), legend: bool = True):
        self.era = era
        self.expanded = tuple(expanded)
        self.legend = legend
        self.sides = SideMap()
        self.union = nx.MultiDiGraph(legend=legend)
        self.frames: list[Frame] = []
        self.stats: list[dict] = []
        self._geom: Geometry | None = None
        self._text: str | None = None
        self._prev = None
        self._lock = threading.Lock()

    def add(self, snapshot, events=(), caption: str = "") -> Frame:
        """The frame for the next state; re-lays out only when something new appears."""
        with self._lock:
            g = build_graph(snapshot, events, self.expanded, self.sides)
            union = self.union.copy()
            merge_into(union, g)
            assign_sizes(union)
            fit_drawing(union)
            text = dot_text(union)
            stat = {"relayout": False, "moved": 0, "median": 0.0, "max": 0.0}
            if text != self._text:
                geom, _ = layout(union)
                if self._geom is not None:
                    geom, moves = _align(self._geom, geom)
                    stat.update(relayout=True, moved=sum(1 for m in moves if m > 0.5),
                                median=statistics.median(moves) if moves else 0.0,
                                max=max(moves, default=0.0))
                else:
                    stat["relayout"] = True
                self._geom, self._text, self.union = geom, text, union
            frame = Frame(len(self.frames), snapshot.era, g, self._prev, self.union, self._geom, caption)
            self._prev = g
            self.frames.append(frame)
            self.stats.append(stat)
            return frame


def _align(old: Geometry, new: Geometry) -> tuple[Geometry, list]:
    """Shift `new` so nodes in both move least (median offset); returns it and each one's move."""
    common = [k for k in new.nodes if k in old.nodes]
    if not common:
        return new, []
    dx = statistics.median(old.nodes[k][0] - new.nodes[k][0] for k in common)
    dy = statistics.median(old.nodes[k][1] - new.nodes[k][1] for k in common)
    moved = new.shifted(dx, dy)
    x0 = min(old.vb[0], moved.vb[0])
    y0 = min(old.vb[1], moved.vb[1])
    x1 = max(old.vb[0] + old.vb[2], moved.vb[0] + moved.vb[2])
    y1 = max(old.vb[1] + old.vb[3], moved.vb[1] + moved.vb[3])
    moved = moved._replace(vb=(x0, y0, x1 - x0, y1 - y0))
    moves = [((old.nodes[k][0] - moved.nodes[k][0]) ** 2 + (old.nodes[k][1] - moved.nodes[k][1]) ** 2) ** 0.5
             for k in common]
    return moved, moves
