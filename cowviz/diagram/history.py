"""The sandbox's layout as a function of its history: the union of every state in it, laid out once.

HistoryLayouter is the sandbox's counterpart of layout_run(): it keeps the union graph of the
states of the current history (the start and the state after each command), so

  * the same history typed line by line, restored at once (a reload) or reached by an undo
    lays out the same: the layout depends on the states, not on the way they came;
  * an undo takes its state back out of the union (each push records what it added, and a pop
    removes exactly that), so `command` + `undo` repeated does not grow anything;
  * memory is bounded by the history: one small record per state (what it added, the side map
    before it), the union, and the last two states' graphs; no frames are kept;
  * Graphviz runs only when the union changes, and then once (the width that decides how far a
    tall drawing is compressed for a projector is estimated, fit_estimated); otherwise the last
    layout is reused.

    h = HistoryLayouter("6.x", legend=False)
    h.push(snapshot, events, layout=False)   # many states, e.g. a restore: no layout yet
    frame = h.frame()                        # lay out (if needed) and draw the last state
    h.pop(prev_snapshot, prev_events, before_prev_snapshot_or_None)   # an undo
"""
from __future__ import annotations

import threading

import networkx as nx

from .dot import ASPECT, GRAPH_ATTRS, dot_text, table_size, tables
from .frame import Frame
from .graph import SideMap, build_graph
from .layout import assign_sizes, fit_drawing, layout


def fit_estimated(union) -> None:
    """fit_drawing() without its measuring run of Graphviz: under rankdir=LR the drawing's width
    is its columns side by side, so it is known from the node sizes; the height to compress
    toward is that width / ASPECT.  ratio=compress only acts on a drawing taller than that, so
    a low drawing is laid out as it would be without it."""
    union.graph.pop("compress", None)
    widest: dict = {}
    for vma, cells in tables(union).items():
        col = union.nodes[vma]["col"]
        widest[col] = max(widest.get(col, 0.0), table_size(cells)[0])
    for n, d in union.nodes(data=True):
        if d["kind"] not in ("vma", "pte"):
            widest[d["col"]] = max(widest.get(d["col"], 0.0), d["size"][0])
    if widest:
        width = sum(widest.values()) + float(GRAPH_ATTRS["ranksep"]) * 72 * (len(widest) - 1)
        union.graph["compress"] = round(width / ASPECT / 72, 3)


def _copy_sides(sides: SideMap) -> SideMap:
    """A copy of a SideMap (its fields are flat dicts, a set and a counter)."""
    other = SideMap.__new__(SideMap)
    other.__dict__ = {k: (v.copy() if isinstance(v, (dict, set, list)) else v) for k, v in sides.__dict__.items()}
    return other


class _Record:
    """What one push added to the union, to take it out again."""
    __slots__ = ("nodes", "edges", "grown", "sides", "caption")

    def __init__(self, sides, caption=""):
        self.caption = caption
        self.nodes: list = []          # node ids new in the union
        self.edges: list = []          # (u, v, key) new in the union
        self.grown: dict = {}          # node id -> (chars, lines) before this push widened it
        self.sides = sides             # the SideMap as it was before this push


def _merge(union: nx.MultiDiGraph, g: nx.MultiDiGraph, rec: _Record) -> None:
    """layout.merge_into(), recording what changed."""
    for n, d in g.nodes(data=True):
        chars = max((len(line) for line in d["label"]), default=0)
        lines = len(d["label"])
        if n in union:
            u = union.nodes[n]
            if chars > u["chars"] or lines > u["lines"]:
                rec.grown.setdefault(n, (u["chars"], u["lines"]))
                u["chars"] = max(u["chars"], chars)
                u["lines"] = max(u["lines"], lines)
        else:
            union.add_node(n, kind=d["kind"], col=d["col"], box=d["box"], seq=d["seq"], chars=chars,
                           lines=lines, cls=d["cls"])
            rec.nodes.append(n)
    for u, v, k, d in g.edges(keys=True, data=True):
        if not union.has_edge(u, v, k):
            union.add_edge(u, v, key=k, kind=d["kind"], label=d["label"], cls=d["cls"])
            rec.edges.append((u, v, k))


class HistoryLayouter:
    """Frames for the last state of a history that grows and shrinks at its end."""

    def __init__(self, era: str, expanded=(), legend: bool = True):
        self.era = era
        self.expanded = tuple(expanded)
        self.legend = legend
        self.sides = SideMap()
        self.union = nx.MultiDiGraph(legend=legend)
        self.records: list[_Record] = []
        self._graph = None             # the last state's graph
        self._prev = None              # the one before (labels that changed flash)
        self._snap = None
        self._caption = ""
        self._dirty = True             # the union changed since the last layout
        self._geom = None
        self.layouts = 0               # how many times the union was laid out (tests, benchmark)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.records)

    def push(self, snapshot, events=(), caption: str = "") -> None:
        """One more state at the end of the history."""
        with self._lock:
            rec = _Record(_copy_sides(self.sides), caption)
            g = build_graph(snapshot, events, self.expanded, self.sides)
            _merge(self.union, g, rec)
            self._dirty = self._dirty or bool(rec.nodes or rec.edges or rec.grown)
            self.records.append(rec)
            self._prev, self._graph, self._snap, self._caption = self._graph, g, snapshot, caption

    def pop(self, last=None, before_last=None) -> None:
        """Take the last state out.  `last` and `before_last` are (snapshot, events) of the states
        that are now the last two (None where there is none), to draw the new last state."""
        with self._lock:
            rec = self.records.pop()
            for u, v, k in rec.edges:
                self.union.remove_edge(u, v, k)
            self.union.remove_nodes_from(rec.nodes)
            for n, (chars, lines) in rec.grown.items():
                self.union.nodes[n]["chars"], self.union.nodes[n]["lines"] = chars, lines
            self._dirty = self._dirty or bool(rec.nodes or rec.edges or rec.grown)
            # Draw the new last state with the side map as it was when it was pushed (build_graph
            # only reads it for objects it has already placed), the one before likewise.
            self.sides = rec.sides
            self._graph = self._prev = self._snap = None
            if last is not None:
                sides = self.records[-1].sides if self.records else SideMap()
                if before_last is not None and len(self.records) >= 2:
                    self._prev = build_graph(*before_last, self.expanded, _copy_sides(self.records[-2].sides))
                self._graph = build_graph(*last, self.expanded, _copy_sides(sides))
                self._snap = last[0]
                self._caption = self.records[-1].caption

    def frame(self) -> Frame | None:
        """The frame of the last state (None for an empty history), laying the union out if it changed."""
        with self._lock:
            if self._graph is None:
                return None
            if self._dirty or self._geom is None:
                assign_sizes(self.union)
                if self.legend:
                    fit_drawing(self.union)          # the legend's rows need the measured width
                else:
                    fit_estimated(self.union)        # one Graphviz run per re-layout
                self._geom, _ = layout(self.union)
                self.layouts += 1
                self._dirty = False
            return Frame(len(self.records) - 1, self._snap.era, self._graph, self._prev, self.union, self._geom,
                         self._caption)


__all__ = ["HistoryLayouter", "dot_text"]
