"""The sandbox's layout as a function of its history, placing what is new without Graphviz.

HistoryLayouter is the sandbox's counterpart of layout_run().  It keeps the union graph of the
states of the current history (the start and the state after each command) and one record per
state (what it added, the side map before it).  Each push is one of two kinds, decided from the
union alone (_needs_full):

  * placed: the new objects are pages, holders, anon_vmas or memcgs in columns that are already
    there, nothing already drawn changed size, and not many objects were placed this way since
    the last full layout.  place.extend() puts them into the last drawing: no Graphviz run, and
    nothing on screen moves.  This is what almost every command is.
  * full: anything else (the first state, a new column, a new process, VMA or PTE row, a node
    or a column that grew, or the drawing has had enough placed into it): the union as it is
    at that state is laid out by Graphviz once, like layout_run() does.

So the drawing of a history is the full layout of its last full state plus the placements of
the states after it, in order, which makes it a function of the history only:

  * the same history typed line by line, restored at once (a reload) or reached by an undo
    lays out the same; a restore or an era switch runs Graphviz once (for the last full state),
    not once per full state on the way, and starts that run while it still runs the commands
    after it (expect(): an era switch, near the full state the drawing before it extended; a
    long restore, at each full state among its last lines);
  * an undo takes its state back out of the union (each push records what it added, and a pop
    removes exactly that), so `command` + `undo` repeated does not grow anything;
  * memory is bounded by the history: one small record per state, the geometry of each full
    state, of every KEEP-th placed one and of the last one, the union and the last two states'
    graphs (kept as their parts until drawn); no frames are kept;
  * a push costs what its command changed: the state's graph comes in parts, one per object
    (graph.graph_parts), and only the parts whose object changed since the state before are
    made and merged into the union (layout.merge_parts).

    h = HistoryLayouter("6.x", legend=False)
    h.push(snapshot, events)                 # many states, e.g. a restore: no layout yet
    frame = h.frame()                        # lay out (if needed) and draw the last state
    h.pop(prev_snapshot, prev_events, before_prev_snapshot_or_None)   # an undo

With the legend (legend=True) the legend's rows are fitted to a measured width, so every change
is a full layout there; the sandbox draws its key in the page (legend=False).
"""
from __future__ import annotations

import threading
from typing import NamedTuple

import networkx as nx

from .dot import ASPECT, GRAPH_ATTRS, dot_text, table_size, tables
from .frame import Frame
from .graph import PartCache, SideMap, assemble, build_graph, graph_parts
from .graphviz import Started
from .layout import assign_sizes, fit_drawing, grow_sizes, layout, merge_parts
from .place import Placer

HARD_KINDS = ("task", "mm", "vma", "pte")     # a process box or a VMA table changes shape: lay out again
MIN_PLACED = 8             # objects placed into a full layout before the drawing is laid out afresh ...
PLACED_SHARE = 0.25        # ... or this share of the objects it had, whichever is more
KEEP = 8                   # every KEEP-th placed state keeps its drawing, so an undo places at most KEEP - 1
EARLY = 16                 # how many states before the expected one a replay's full layout starts at once (expect())


def fit_estimated(union) -> None:
    """fit_drawing() without its measuring run of Graphviz: under rankdir=LR the drawing's width
    is its columns side by side, so it is known from the node sizes; the height to compress
    toward is that width / ASPECT.  ratio=compress only acts on a drawing taller than that, so
    a low drawing is laid out as it would be without it."""
    union.graph.pop("compress", None)
    widest = _widest(union)
    if widest:
        width = sum(widest.values()) + float(GRAPH_ATTRS["ranksep"]) * 72 * (len(widest) - 1)
        union.graph["compress"] = round(width / ASPECT / 72, 3)


def _copy_sides(sides: SideMap) -> SideMap:
    """A copy of a SideMap (its fields are flat dicts, a set and a counter)."""
    other = SideMap.__new__(SideMap)
    other.__dict__ = {k: (v.copy() if isinstance(v, (dict, set, list)) else v) for k, v in sides.__dict__.items()}
    return other


def _widest(union) -> dict:
    """Column -> the width of its widest object (points), VMA tables whole."""
    widest: dict = {}
    for vma, cells in tables(union).items():
        col = union.nodes[vma]["col"]
        widest[col] = max(widest.get(col, 0.0), table_size(cells)[0])
    for n, d in union.nodes(data=True):
        if d["kind"] not in ("vma", "pte"):
            widest[d["col"]] = max(widest.get(d["col"], 0.0), d["size"][0])
    return widest


class _Early(NamedTuple):
    """A full state's Graphviz layout started when the state was pushed (expect())."""
    index: int                     # the state
    union: object                  # the union as it was then, sized and fitted: what _full() lays out
    text: str                      # its DOT text
    run: Started                   # Graphviz on that text


class _Record:
    """One state of the history: what its push added to the union (to take it out again), and how
    it is laid out."""
    __slots__ = ("nodes", "edges", "grown", "sides", "caption", "full", "base", "placed", "widest",
                 "size", "geom")

    def __init__(self, sides, caption=""):
        self.caption = caption
        self.nodes: list = []          # node ids new in the union
        self.edges: list = []          # (u, v, key) new in the union
        self.grown: dict = {}          # node id -> (chars, lines) before this push widened it
        self.sides = sides             # the SideMap as it was before this push
        self.full = True               # laid out by Graphviz (else placed into the full layout `base`)
        self.base = 0                  # the index of the full state this one's drawing extends
        self.placed = 0                # objects placed since that full state, this push's included
        self.widest: dict = {}         # at the full state: each column's widest object (points) ...
        self.size = 0                  # ... and the union's number of nodes
        self.geom = None               # the geometry (kept for full states and every KEEP-th placed one)


class HistoryLayouter:
    """Frames for the last state of a history that grows and shrinks at its end."""

    def __init__(self, era: str, expanded=(), legend: bool = True):
        self.era = era
        self.expanded = tuple(expanded)
        self.legend = legend
        self.sides = SideMap()
        self.union = nx.MultiDiGraph(legend=legend)
        self.records: list[_Record] = []
        self._graph = None             # the last state's graph, or how to make it: (snapshot, parts, events)
        self._prev = None              # the one before (labels that changed flash), likewise
        self._parts = PartCache()      # the last state's graph in parts: the next push makes only what changed
        self._widths = None            # the union's width groups (assign_sizes), while pushes only add
        self._snap = None
        self._caption = ""
        self._last = None              # (record, geometry) of the last state drawn
        self.layouts = 0               # full layouts made (Graphviz runs of the union; tests, benchmark)
        self.placements = 0            # pushes drawn by placing their objects into the drawing
        self._expect = None            # full states from this one on start their layout when pushed (expect())
        self._early = None             # _Early: that layout, started
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.records)

    @property
    def objects(self) -> int:
        """The objects the drawing keeps a place for: every one of any state of the history."""
        return len(self.union)

    def push(self, snapshot, events=(), caption: str = "") -> None:
        """One more state at the end of the history."""
        with self._lock:
            rec = _Record(_copy_sides(self.sides), caption)
            before = self._widths if self._widths is not None else assign_sizes(self.union)
            parts = graph_parts(snapshot, self.expanded, self.sides, cache=self._parts)
            merge_parts(self.union, self._parts.new, rec)
            widths = self._widths = grow_sizes(self.union, before, rec.nodes + list(rec.grown))
            prev = self.records[-1] if self.records else None
            rec.full = self._needs_full(rec, prev, before, widths)
            if rec.full:
                rec.base, rec.widest, rec.size = len(self.records), _widest(self.union), len(self.union)
            else:
                rec.base, rec.widest, rec.size = prev.base, prev.widest, prev.size
                rec.placed = prev.placed + len(rec.nodes)
            self.records.append(rec)
            self._prev, self._graph = self._graph, (snapshot, parts, events)
            self._snap, self._caption = snapshot, caption
            if rec.full and self._expect is not None and len(self.records) - 1 >= self._expect and not self.legend:
                if self._early is not None:
                    self._early.run.discard()
                self._early = self._start_full()

    def expect(self, index: int | None, early: int | None = None) -> None:
        """Many states are about to be pushed at once (an era switch replays the commands, a
        restore runs its lines), and the last one's drawing likely extends a full state near
        `index` (under an era switch, the one it extended under the era before: eras differ in
        the objects a command makes, so not always that one; under a restore, the last state,
        as it is not known).  A full state from `early` states before it on starts its Graphviz
        layout when it is pushed, in a process beside the pushes after it, rather than when
        frame() asks for it; a later full state starts its own, and the earlier one was for
        nothing.  `early` is EARLY if None.  None: states are drawn as they come."""
        self._expect = None if index is None else index - (EARLY if early is None else early)

    def _start_full(self):
        """Start Graphviz on the union as it is now (the state just pushed: what _full() lays out)."""
        union = self.union.copy()
        assign_sizes(union)
        fit_estimated(union)
        text = dot_text(union)
        return _Early(len(self.records) - 1, union, text, Started(text))

    def _needs_full(self, rec: _Record, prev: _Record | None, before: dict, widths: dict) -> bool:
        """Whether this state is laid out by Graphviz (see the module's docstring); from the union only."""
        if prev is None:
            return True
        if not (rec.nodes or rec.edges or rec.grown):
            return False                          # nothing new: the last drawing as it is
        if self.legend:
            return True
        union = self.union
        # The columns before this push: those of the last full state (a new column is a full state).
        cols = prev.widest
        if any(union.nodes[n]["kind"] in HARD_KINDS or union.nodes[n]["col"] not in cols or
               union.nodes[n]["size"][0] > prev.widest.get(union.nodes[n]["col"], 0.0) + 0.5 for n in rec.nodes):
            return True
        if any(union.nodes[n]["lines"] != lines for n, (_, lines) in rec.grown.items()):
            return True                           # a node got taller
        if any(widths.get(group) != w for group, w in before.items()):
            # A width group grew: its nodes are wider, those placed since the last full state too
            # (a group may be younger than that state: compared with the state before, not with it).
            return True
        return prev.placed + len(rec.nodes) > max(MIN_PLACED, PLACED_SHARE * prev.size)

    def pop(self, last=None, before_last=None) -> None:
        """Take the last state out.  `last` and `before_last` are (snapshot, events) of the states
        that are now the last two (None where there is none), to draw the new last state."""
        with self._lock:
            rec = self.records.pop()
            if self._early is not None and self._early.index >= len(self.records):
                self._early.run.discard()
                self._early = None
            _take_out(self.union, rec)
            self.sides = rec.sides
            self._graph = self._prev = self._snap = None
            self._parts, self._widths = PartCache(), None     # the next push starts from whole graphs
            if last is not None:
                if before_last is not None and len(self.records) >= 2:
                    self._prev = self._drawn(before_last, -2)
                self._graph = self._drawn(last, -1)
                self._snap = last[0]
                self._caption = self.records[-1].caption

    def retell(self, last, before_last=None) -> None:
        """The events of the last two states, (snapshot, events) each, put in words after they
        were pushed (a restore pushes its steps untold but the last few, and may drop those):
        the last state is drawn with them."""
        with self._lock:
            self._graph = self._told(self._graph, last, -1)
            self._prev = self._told(self._prev, before_last, -2)

    def _told(self, graph, state, i: int):
        if graph is None or state is None or len(self.records) < -i:
            return graph
        if isinstance(graph, tuple):
            return graph[:2] + (state[1],)        # (snapshot, parts, events): not drawn yet
        return self._drawn(state, i)

    def _drawn(self, state, i: int):
        """The graph of state `i` (-1: the last), (snapshot, events), made again: with the side map
        as it was when the state was pushed (build_graph only reads it for objects already placed)."""
        return build_graph(*state, self.expanded, _copy_sides(self.records[i].sides))

    def frame(self) -> Frame | None:
        """The frame of the last state (None for an empty history), laying it out if it is not yet."""
        with self._lock:
            if self._graph is None:
                return None
            self._graph, self._prev = _made(self._graph), _made(self._prev)
            return Frame(len(self.records) - 1, self._snap.era, self._graph, self._prev, self.union,
                         self._geometry(), self._caption)

    def _geometry(self):
        """The geometry of the last state: its full state's layout with the placements after it."""
        i = len(self.records) - 1
        rec = self.records[i]
        if self._last is not None and self._last[0] is rec:
            return self._last[1]
        assign_sizes(self.union)                  # an undo may have taken a wider label out
        if self._last is not None and i > 0 and self._last[0] is self.records[i - 1] and not rec.full:
            geom = self._place(Placer(self._last[1], self.union), rec, i)
        else:
            base = self.records[rec.base]
            if base.geom is None:
                base.geom = self._full(rec.base)
            # From the nearest state whose drawing is kept: the full one, or a placed one (KEEP).
            start = next(j for j in range(i, rec.base - 1, -1) if self.records[j].geom is not None)
            geom = self.records[start].geom
            placer = Placer(geom, self.union)
            for j in range(start + 1, i + 1):
                geom = self._place(placer, self.records[j], j)
        self._last = (rec, geom)
        return geom

    def _place(self, placer, rec: _Record, index: int):
        if rec.nodes or rec.edges:
            self.placements += 1
            placer.extend(rec.nodes, [k for _, _, k in rec.edges])
        if (index - rec.base) % KEEP == 0:
            rec.geom = placer.geom                # an undo back to here, or to just after, places little
        return placer.geom

    def _full(self, index: int):
        """Graphviz's layout of the union as it was at state `index`."""
        early, self._early = self._early, None
        if early is not None and early.index == index:
            # Started when the state was pushed: the same union, so the same DOT text and layout.
            geom, _ = layout(early.union, early.text, early.run)
            self.layouts += 1
            return geom
        if early is not None:
            early.run.discard()
        union = self.union
        if index < len(self.records) - 1:
            union = union.copy()
            for r in reversed(self.records[index + 1:]):
                _take_out(union, r)
            assign_sizes(union)
        if self.legend:
            fit_drawing(union)                    # the legend's rows need the measured width
        else:
            fit_estimated(union)                  # one Graphviz run per full layout
        geom, _ = layout(union)
        self.layouts += 1
        return geom


def _made(graph):
    """A state's graph, assembled from its parts the first time it is drawn (most states never are)."""
    return assemble(*graph) if isinstance(graph, tuple) else graph


def _take_out(union, rec: _Record) -> None:
    """Undo what one push added to the union."""
    for u, v, k in rec.edges:
        union.remove_edge(u, v, k)
    union.remove_nodes_from(rec.nodes)
    for n, (chars, lines) in rec.grown.items():
        union.nodes[n]["chars"], union.nodes[n]["lines"] = chars, lines


__all__ = ["HistoryLayouter", "dot_text"]
