"""The union graph as DOT text, built with pydot: explicit ids, sorted statements.

The same function writes the layout DOT (no text, nothing hidden) and each
frame's DOT (text and styles of that step, absent objects invisible).  Both
have the same statements in the same order and every node a fixed size, so
Graphviz puts everything exactly where the layout put it.

Columns, left to right: L0 tasks, mm and memcgs, L1 VMA tables and holders,
M pages, A the anon_vma tree, R1 and R0 mirror L1 and L0.  Edges that run
right to left are written head first with dir=back.  A VMA and its PTE rows
are one node, an HTML table, so the rows keep their order under any Graphviz
version; each row is a port the map edges leave from.  Objects that are
never on screen together may share one node (slots.py).
"""
from __future__ import annotations

import math
from html import escape

import pydot

from . import style
from .. import ids
from ..ids import sort_key
from .slots import box_of, slot_of

COLS = ("L0", "L1", "M", "A", "R1", "R0")
# A drawing taller than ASPECT allows (the layout's width / ASPECT, without the legend) is laid
# out with ratio=compress and a `size` of that height: Graphviz then pulls the extent across the
# ranks (the height, under rankdir=LR) toward it, as far as the columns allow, so a column's nodes
# close up instead of spreading out to line up with their neighbours'.  A drawing already low
# enough keeps its straighter edges.  Graphviz also shrinks what it renders to fit `size`;
# Frame.to_svg() replaces that scale and Frame.to_png() raises the dpi to undo it (render_scale).
ASPECT = 3.5
WIDE = 1000               # inches: the width given with `size`, never reached
GRAPH_ATTRS = {"rankdir": "LR", "newrank": "true", "nodesep": "0.15", "ranksep": "0.35",
               "pad": f"{style.PAD / 72:.3f}", "splines": "true", "outputorder": "edgesfirst",
               "bgcolor": style.WHITE, "fontname": style.FONT, "fontsize": str(style.FONT_SIZE),
               "id": "cowviz"}
WEIGHTS = {"map": "4", "pin": "2", "get": "2", "mm_vma": "4", "task_mm": "4", "avc": "1"}
ROW_GAP = 4          # points between the rows of a VMA table (the table's CELLSPACING)


def _q(name: str) -> str:
    return '"' + name + '"'


def render_scale(union, width: float, height: float) -> float:
    """The factor by which Graphviz shrinks its rendering of a drawing this size (points) to `size`."""
    target = union.graph.get("compress")          # inches
    return min(1.0, WIDE * 72 / width, target * 72 / height) if target else 1.0


def _inch(points: float) -> str:
    """Points as inches, rounded up so a label of exactly that size still fits."""
    return f"{math.ceil(points / 72 * 10000) / 10000:.4f}"


def _safe(name: str) -> str:
    """A bare DOT word for a name (pydot prefixes clusters with `cluster_`); one-to-one."""
    return "".join(c if c.isalnum() else f"_{ord(c):02x}" for c in name)


def port(node_id: str) -> str:
    """The port of a PTE row inside its VMA table."""
    return "r" + ids.name(node_id).replace("-", "_")


def tables(union) -> dict:
    """VMA id -> [(node id, width, height)]: the header cell, then every PTE row in index order."""
    out = {n: [(n,) + union.nodes[n]["size"]] for n, d in union.nodes(data=True) if d["kind"] == "vma"}
    rows = sorted(((n, d) for n, d in union.nodes(data=True) if d["kind"] == "pte"),
                  key=lambda nd: (nd[1]["seq"], sort_key(nd[0])))
    for n, d in rows:
        out[ids.vma_of(n)].append((n,) + d["size"])
    return out


def table_size(cells) -> tuple[float, float]:
    """The size of a VMA table node: its cells stacked with ROW_GAP around each."""
    return (max(w for _, w, _ in cells) + 2 * ROW_GAP,
            sum(h for _, _, h in cells) + (len(cells) + 1) * ROW_GAP)


def dot_text(union, frame=None, caption: str | None = None) -> str:
    """DOT for the union graph; with `frame` (one step's graph) styled and labelled for that step."""
    return _dot_text(union, frame, caption, bool(union.graph.get("legend")), union.graph.get("compress"))


def bare_text(union) -> str:
    """The layout DOT without the caption and legend, not compressed (to measure the drawing)."""
    return _dot_text(union, None, None, False, None)


def _dot_text(union, frame, caption, legend: bool, compress: float | None) -> str:
    g = pydot.Dot("cowviz", graph_type="digraph", strict=False)
    for k, v in GRAPH_ATTRS.items():
        g.set(k, _attr(v))
    if compress:
        g.set("ratio", "compress")
        g.set("size", _q(f"{WIDE},{compress}"))
    if legend:
        g.set("label", style.legend_html(caption, union.graph.get("legend_fit", (3, 0)),
                                         union.graph.get("hide", frozenset())))
        g.set("labelloc", "b")
        g.set("labeljust", "l")
    g.set_node_defaults(**{k: _attr(v) for k, v in style.NODE_BASE.items()})
    g.set_edge_defaults(**{k: _attr(v) for k, v in style.EDGE_BASE.items()})
    col_index = {c: i for i, c in enumerate(COLS)}
    tabs = tables(union)
    # Objects never on screen together may share one DOT node (slots.py): the one present
    # in the frame lends it its id, label and style.
    shown = {}                 # DOT node -> the object it draws in this frame
    for n in union.nodes:
        if frame is not None and n in frame:
            shown[slot_of(union, n)] = n
    where = {}                 # node id -> the DOT node and port that draw it
    for n, d in union.nodes(data=True):
        if d["kind"] != "pte":
            where[n] = (slot_of(union, n), "h" if d["kind"] == "vma" else None)
    for vma, cells in tabs.items():
        for n, _, _ in cells[1:]:
            where[n] = (slot_of(union, vma), port(n))

    clusters = {}
    for box in sorted({d["box"][0] for _, d in union.nodes(data=True) if d["box"]}, key=sort_key):
        rep = box_of(union, box)
        if rep != box:
            continue
        present = box
        if frame is not None:
            present = next((d["box"][0] for _, d in frame.nodes(data=True)
                            if d["box"] and box_of(union, d["box"][0]) == box), None)
        sub = pydot.Cluster(_safe(box), id=_q(present or box), label='""', margin="8", penwidth="1.5",
                            color=_q(style.GREY), style=_q("rounded,dashed") if present else "invis")
        if frame is not None:
            sub.set("class", _q("box mm"))
        clusters[box] = sub
        g.add_subgraph(sub)

    for n in sorted(union.nodes, key=sort_key):
        d = union.nodes[n]
        if d["kind"] == "pte" or slot_of(union, n) != n:
            continue
        m = shown.get(n, n)
        parent = clusters[box_of(union, d["box"][0])] if d["box"] else g
        attrs = (_table_attrs(m, tabs[m], frame) if d["kind"] == "vma"
                 else _node_attrs(m, union.nodes[m], frame))
        parent.add_node(pydot.Node(_q(n), **attrs))

    # Columns: one rank each, kept in order by invisible links between their first members.
    firsts = []
    for col in COLS:
        members = sorted((n for n, d in union.nodes(data=True)
                          if d["col"] == col and d["kind"] != "pte" and slot_of(union, n) == n), key=sort_key)
        if members:
            rank = pydot.Subgraph(_safe("rank_" + col), rank="same")
            for n in members:
                rank.add_node(pydot.Node(_q(n), id=_q(shown.get(n, n))))
            g.add_subgraph(rank)
            firsts.append(members[0])
    for i, (a, b) in enumerate(zip(firsts, firsts[1:])):
        g.add_edge(pydot.Edge(_q(a), _q(b), style="invis", id=_q(f"~layout{i}"), weight="0"))

    for u, v, k in sorted(union.edges(keys=True), key=lambda e: e[2]):
        d = union.edges[u, v, k]
        cu, cv = col_index[union.nodes[u]["col"]], col_index[union.nodes[v]["col"]]
        # Right-to-left edges are written backwards, so every rank runs left to right.  Edges
        # inside a column are written head first too: it tends to put the mm under its tasks
        # and a parent anon_vma above its children (Graphviz promises no order in a rank).
        back = cu > cv or (cu == cv and d["kind"] in ("task_mm", "parent", "root"))
        attrs = {"id": _q(k)}
        if d["kind"] in WEIGHTS:
            attrs["weight"] = WEIGHTS[d["kind"]]
        if d["label"]:
            attrs["label"] = _q(d["label"])
        if back:
            attrs["dir"] = "back"
        if frame is not None and frame.has_edge(u, v, k):
            fd = frame.edges[u, v, k]
            attrs["class"] = _q(" ".join(fd.get("classes", fd["cls"])))
            attrs.update({a: _attr(x) for a, x in style.edge_attrs(fd["kind"], fd["cls"], fd["hl"]).items()})
        elif frame is not None:
            attrs["style"] = "invis"
        # Ports: a PTE row leaves its table on the side facing the pages.  The other end (a page,
        # a holder) takes no compass side: in a compressed drawing an edge that must arrive
        # sideways hooks round in the narrow gap between columns, while one that may arrive at a
        # corner stays a plain curve.
        out, into = ("w", "e") if back else ("e", "w")
        tport, hport = _port(u, where, out), _port(v, where, into)
        tail, head = _q(where[u][0]), _q(where[v][0])
        if back:
            tail, head, tport, hport = head, tail, hport, tport
        if tport:
            attrs["tailport"] = _q(tport)
        if hport:
            attrs["headport"] = _q(hport)
        g.add_edge(pydot.Edge(tail, head, **attrs))
    return g.to_string()


def _port(n: str, where: dict, side: str) -> str | None:
    """The port (and compass side) an edge uses at node n, or None for the node itself."""
    p = where[n][1]
    if p is None:
        return None
    return p if p == "h" else f"{p}:{side}"


def _attr(v: str) -> str:
    if v.startswith("<") or (v.startswith('"') and v.endswith('"')):
        return v
    return _q(v) if any(c in v for c in " ,#:;=.") else v


def _node_attrs(n: str, d, frame) -> dict:
    w, h = d["size"]
    attrs = {"id": _q(n), "width": _inch(w), "height": _inch(h)}
    if frame is None:
        attrs["label"] = '""'
        return attrs
    if n not in frame:
        attrs.update(style="invis", label='""')
        return attrs
    fd = frame.nodes[n]
    attrs.update({a: _attr(v) for a, v in style.node_attrs(fd["kind"], fd["cls"], fd["hl"]).items()})
    attrs["class"] = _q(" ".join(fd.get("classes", fd["cls"])))
    attrs["label"] = style.label_html(fd["kind"], fd["label"], w, fd.get("badge"), fd["hl"])
    return attrs


def _table_attrs(vma: str, cells, frame) -> dict:
    """A VMA table: the VMA's header cell, then one cell per PTE row (blank when absent)."""
    w, h = table_size(cells)
    attrs = {"id": _q(vma), "width": _inch(w), "height": _inch(h), "shape": "none"}
    rows = []
    for i, (n, cw, ch) in enumerate(cells):
        cell = f'WIDTH="{cw:.0f}" HEIGHT="{ch:.0f}" FIXEDSIZE="TRUE" PORT="{"h" if i == 0 else port(n)}"'
        fd = frame.nodes[n] if frame is not None and n in frame else None
        if fd is None:
            rows.append(f'<TR><TD {cell} BORDER="0"> </TD></TR>')
            continue
        a = style.cell_attrs(fd["kind"], fd["cls"], fd["hl"])
        text = style.cell_text(fd["kind"], fd["label"])
        ident = "" if i == 0 else f' ID="{escape(n)}" HREF="#"'
        rows.append(f'<TR><TD {cell}{ident} {a}>{text}</TD></TR>')
    if frame is not None and vma in frame:
        attrs["class"] = _q(" ".join(frame.nodes[vma].get("classes", frame.nodes[vma]["cls"])))
    elif frame is not None:
        attrs["style"] = "invis"
    attrs["label"] = (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="{ROW_GAP}" CELLPADDING="0">'
                      + "".join(rows) + "</TABLE>>")
    return attrs
