"""Incremental placement: new objects put into an existing layout without running Graphviz.

The sandbox's drawing grows one command at a time.  Most commands add a page, a holder or an
anon_vma to columns that are already there; laying the whole union out again for that costs a
Graphviz run of the whole graph and moves what the learner was looking at.  extend() instead
keeps every placed object where it is and

  * puts each new node in its column (columns share one x under rankdir=LR), in the free gap
    nearest the mean height of the neighbours it is linked to, clear of the nodes, process boxes
    and edges already drawn there (below the drawing when no gap is tall enough);
  * routes each new edge from the side of its tail that faces its head to the side of its head
    that faces its tail (an arrow's length short of it, as Graphviz leaves room for the arrow),
    through a free gap of every column it crosses, as cubic curves with level tangents.

What cannot be placed this way (a new column, a new process box or VMA table row, a node that
grew) is for a full layout; history.py decides that from the union alone (docs/diagram.md).
extend() is a pure function of the geometry and what is added, so the same history always
gives the same drawing.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from functools import lru_cache

from . import style
from .dot import GRAPH_ATTRS, ROW_GAP, tables
from ..ids import sort_key
from .layout import Geometry

SEP = float(GRAPH_ATTRS["nodesep"]) * 72          # the gap Graphviz keeps between nodes of a column
ARROW = 10 * float(style.EDGE_BASE["arrowsize"])  # the arrowhead's length: the path stops that short
CLEAR = 6.0                                       # room kept around an edge that crosses a column
INF = float("inf")
BULGE = 36.0                                      # how far an edge between two nodes of one column bows out


def _rects(geom: Geometry, union, tabs: dict) -> dict:
    """Node id -> (x0, y0, x1, y1) of what is drawn for it: a VMA's whole table, other nodes themselves."""
    out = {}
    for n, d in union.nodes(data=True):
        if d["kind"] in ("pte", "vma") or n not in geom.nodes:
            continue
        x, y, w, h = geom.nodes[n]
        out[n] = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    for vma, cells in tabs.items():
        placed = [geom.nodes[c] for c, _, _ in cells if c in geom.nodes]
        if placed:
            x, _, w, _ = placed[0]
            out[vma] = (x - w / 2 - ROW_GAP, min(y - h / 2 for _, y, _, h in placed) - ROW_GAP,
                        x + w / 2 + ROW_GAP, max(y + h / 2 for _, y, _, h in placed) + ROW_GAP)
    return out


@lru_cache(maxsize=2048)     # about 2 KB a path: a few MB at most, shared by every session
def _samples(points: tuple) -> tuple:
    """Points along a path of cubic segments (5 per segment), to keep new nodes off old edges.
    Made once per path: every placement after it looks at the same paths again."""
    out = list(points[:1])
    for i in range(0, len(points) - 3, 3):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points[i:i + 4]
        out += [(a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3) for a, b, c, d in _BERNSTEIN]
    return tuple(out)


# The cubic Bezier's weights at t = 1/4, 1/2, 3/4 and 1 (s = 1 - t): s^3, 3 s^2 t, 3 s t^2, t^3.
_BERNSTEIN = tuple((s ** 3, 3 * s * s * t, 3 * s * t * t, t ** 3) for t, s in ((t, 1 - t) for t in (0.25, 0.5, 0.75, 1.0)))


class _Space:
    """What is taken in the drawing: node rectangles, process boxes and points of edges."""

    def __init__(self, geom: Geometry, union, tabs: dict):
        self._spans: dict = {}         # (left, right) -> the (top, bottom) of the rectangles with those sides
        for r in _rects(geom, union, tabs).values():
            self.take(r)
        self.boxes = [(x - w / 2, y - h / 2, x + w / 2, y + h / 2) for x, y, w, h in geom.boxes.values()]
        self.points = [p for pts, tip, _ in geom.edges.values() for p in _samples(pts) + ((tip,) if tip else ())]
        self._by_x: list = []          # the points in x order, to find those between two x quickly

    def take(self, rect: tuple) -> None:
        """A node's rectangle (x0, y0, x1, y1) is taken.  The nodes of a column mostly share their
        sides, so a look between two x goes through a few sides, not through every node."""
        self._spans.setdefault((rect[0], rect[2]), []).append((rect[1], rect[3]))

    def taken(self, x0: float, x1: float) -> list:
        """The (top, bottom) spans taken between x0 and x1, merged, in order."""
        spans = [span for (left, right), spans in self._spans.items() if left < x1 and right > x0 for span in spans]
        spans += [(b[1], b[3]) for b in self.boxes if b[0] < x1 and b[2] > x0]
        by_x = self._by_x
        if len(by_x) != len(self.points):          # points are only ever added: sort in the new ones
            by_x += self.points[len(by_x):]
            by_x.sort()                            # a sorted run and a short one: merged in one pass
        spans += [(y - CLEAR, y + CLEAR) for x, y in
                  by_x[bisect_left(by_x, (x0, -INF)):bisect_right(by_x, (x1, INF))]]
        spans.sort()
        merged: list = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        return merged

    def nearest(self, x0: float, x1: float, h: float, want: float | None, gap: float) -> float:
        """The centre height nearest `want` (None: the bottom) of a free span of height h between x0 and x1,
        `gap` clear of what is taken there; below everything when no span between is tall enough."""
        taken = self.taken(x0, x1)
        top = style.PAD
        best = None
        for a, b in taken:
            lo, hi = top + (gap if top > style.PAD else 0), a - gap
            if hi - lo >= h:
                y = lo + h / 2 if want is None else min(max(want, lo + h / 2), hi - h / 2)
                cost = float("inf") if want is None else abs(y - want)
                if best is None or cost < best[0]:
                    best = (cost, y)
            top = max(top, b)
        lo = top + gap if taken else style.PAD
        y = lo + h / 2 if want is None else max(want, lo + h / 2)
        cost = 0.0 if want is None else abs(y - want)
        if best is None or cost < best[0]:
            best = (cost, y)
        return best[1]


def _columns(geom: Geometry, union) -> dict:
    """Column -> (x, half of its widest object), from what is placed."""
    out: dict = {}
    for n, d in union.nodes(data=True):
        if d["kind"] != "pte" and n in geom.nodes:
            _widen(out, geom, d, n)
    return out


def _widen(cols: dict, geom: Geometry, d: dict, n: str) -> None:
    """Count node n (union data d) into its column's x and half width."""
    x, _, w, _ = geom.nodes[n]
    half = w / 2 + (ROW_GAP if d["kind"] == "vma" else 0)
    if d["col"] not in cols or half > cols[d["col"]][1]:
        cols[d["col"]] = (x, half)


def extend(geom: Geometry, union, nodes, edges) -> Geometry:
    """`geom` with `nodes` placed and `edges` routed (ids of the union; every other node and edge of
    them must be placed already).  Nothing placed before moves."""
    return Placer(geom, union).extend(nodes, edges)


class Placer:
    """extend(), again and again: the states of a history placed one after another into one union.
    What is taken in the drawing, the columns and the links are worked out once and kept up to
    date, not found again each time (each time as a fresh extend() would find them)."""

    def __init__(self, geom: Geometry, union, tabs: dict | None = None):
        self.geom, self.union = geom, union
        self.space = _Space(geom, union, tabs if tabs is not None else tables(union))
        self.cols = _columns(geom, union)
        self.ends = {k: (u, v) for u, v, k in union.edges(keys=True)}
        self.links: dict = {}
        self._link(geom.edges)

    def _link(self, edges) -> None:
        for k in edges:
            u, v = self.ends[k]
            self.links.setdefault(u, []).append(v)
            self.links.setdefault(v, []).append(u)

    def extend(self, nodes, edges) -> Geometry:
        self._link(edges)               # the edges that exist at this point of the history
        self.geom = _extend(self.geom, self.union, nodes, edges, self.space, self.cols, self.ends, self.links)
        for n in nodes:                 # what _columns() of the new drawing finds
            _widen(self.cols, self.geom, self.union.nodes[n], n)
        return self.geom


def _extend(geom: Geometry, union, nodes, edges, space: _Space, cols: dict, ends: dict, links: dict) -> Geometry:
    placed = dict(geom.nodes)
    routed = dict(geom.edges)

    todo = sorted(nodes, key=sort_key)
    while todo:
        # Nodes linked to something placed first (a new page before the new holder that pins it).
        n = next((m for m in todo if any(o in placed for o in links.get(m, ()))), todo[0])
        todo.remove(n)
        d = union.nodes[n]
        w, h = d["size"]
        x, half = cols[d["col"]]
        ys = [placed[o][1] for o in links.get(n, ()) if o in placed and o != n]
        want = sum(ys) / len(ys) if ys else None
        y = space.nearest(x - max(half, w / 2), x + max(half, w / 2), h, want, SEP)
        placed[n] = (x, y, w, h)
        space.take((x - w / 2, y - h / 2, x + w / 2, y + h / 2))

    for k in sorted(edges):
        u, v = ends[k]
        pts, tip, lp = _route(placed[u], placed[v], union.nodes[u]["col"], union.nodes[v]["col"], cols, space,
                              labelled=bool(union.edges[u, v, k]["label"]))
        routed[k] = (pts, tip, lp)
        space.points += [p for p in _samples(pts)]
    # The next placement sees these edges as a fresh _Space would: their tips taken too.
    space.points += [routed[k][1] for k in sorted(edges) if routed[k][1]]

    x1 = max([geom.vb[0] + geom.vb[2]] + [x + w / 2 + style.PAD for x, _, w, _ in placed.values()])
    y1 = max([geom.vb[1] + geom.vb[3]] + [y + h / 2 + style.PAD for _, y, _, h in placed.values()] +
             [p[1] + style.PAD for pts, _, _ in routed.values() for p in pts])
    vb = (geom.vb[0], geom.vb[1], x1 - geom.vb[0], y1 - geom.vb[1])
    return Geometry(vb, placed, routed, geom.boxes, geom.origin, geom.legend)


def _route(tail, head, tcol: str, hcol: str, cols: dict, space: _Space, labelled: bool):
    """A path from tail to head (x, y, w, h each): points, tip and label position."""
    (tx, ty, tw, _), (hx, hy, hw, _) = tail, head
    if abs(tx - hx) < 1:
        # Both in one column: out of the right sides, bowing away from the column.
        s, tip = (tx + tw / 2, ty), (hx + hw / 2, hy)
        e = (tip[0] + ARROW, hy)
        pts = (s, (s[0] + BULGE, ty), (e[0] + BULGE - ARROW, hy), e)
        return pts, tip, ((s[0] + e[0]) / 2 + BULGE * 0.75, (ty + hy) / 2) if labelled else None
    right = hx > tx
    sign = 1 if right else -1
    s = (tx + sign * tw / 2, ty)
    tip = (hx - sign * hw / 2, hy)
    e = (tip[0] - sign * ARROW, hy)
    # The columns strictly between tail and head: pass each through its free gap nearest the line.
    way = [s]
    between = sorted((x, half) for c, (x, half) in cols.items()
                     if min(tx, hx) + 1 < x < max(tx, hx) - 1 and c not in (tcol, hcol))
    if not right:
        between.reverse()
    for x, half in between:
        t = (x - s[0]) / (e[0] - s[0]) if e[0] != s[0] else 0.5
        want = s[1] + t * (e[1] - s[1])
        y = space.nearest(x - half, x + half, 0.0, want, CLEAR + 2)
        way += [(x - sign * (half + 2), y), (x + sign * (half + 2), y)]
    way.append(e)
    pts = [way[0]]
    for i, (a, b) in enumerate(zip(way, way[1:])):
        if i % 2 == 1:                           # across a column: straight
            pts += [(a[0] + (b[0] - a[0]) / 3, a[1]), (a[0] + 2 * (b[0] - a[0]) / 3, b[1]), b]
        else:                                    # between columns: an S with level ends
            mid = (a[0] + b[0]) / 2
            pts += [(mid, a[1]), (mid, b[1]), b]
    lp = None
    if labelled:
        a, b = way[0], way[1]
        lp = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 - 8)
    return tuple(pts), tip, lp
