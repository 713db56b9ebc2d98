"""The union graph as DOT text, built with pydot: explicit ids, sorted statements.

The same function writes the layout DOT (no text, nothing hidden) and each
frame's DOT (text and styles of that step, absent objects invisible).  Both
have the same statements in the same order and every node a fixed size, so
Graphviz puts everything exactly where the layout put it.

Columns, left to right: L0 tasks and mm, L1 VMA tables and holders, M pages
with the anon_vma tree and memcgs, R1 and R0 mirror L1 and L0.  Edges
that run right to left are written head first with dir=back.  A VMA and its
PTE rows are one node, an HTML table, so the rows keep their order under
any Graphviz version; each row is a port the map edges leave from.
"""
from __future__ import annotations

import math
from html import escape

import pydot

from . import style
from .ids import sort_key

COLS = ("L0", "L1", "M", "R1", "R0")
GRAPH_ATTRS = {"rankdir": "LR", "newrank": "true", "nodesep": "0.2", "ranksep": "0.8",
               "pad": f"{style.PAD / 72:.3f}", "splines": "true", "outputorder": "edgesfirst",
               "bgcolor": style.WHITE, "fontname": style.FONT, "fontsize": str(style.FONT_SIZE),
               "id": "cowviz"}
PORTED = ("map", "pin", "get")
WEIGHTS = {"map": "4", "pin": "2", "get": "2", "mm_vma": "4", "task_mm": "4", "avc": "1"}
ROW_GAP = 4          # points between the rows of a VMA table (the table's CELLSPACING)


def _q(name: str) -> str:
    return '"' + name + '"'


def _inch(points: float) -> str:
    """Points as inches, rounded up so a label of exactly that size still fits."""
    return f"{math.ceil(points / 72 * 10000) / 10000:.4f}"


def _safe(name: str) -> str:
    """A bare DOT word for a name (pydot prefixes clusters with `cluster_`); one-to-one."""
    return "".join(c if c.isalnum() else f"_{ord(c):02x}" for c in name)


def port(node_id: str) -> str:
    """The port of a PTE row inside its VMA table."""
    return "r" + node_id.rsplit(":", 1)[1].replace("-", "_")


def tables(union) -> dict:
    """VMA id -> [(node id, width, height)]: the header cell, then every PTE row in index order."""
    out = {n: [(n,) + union.nodes[n]["size"]] for n, d in union.nodes(data=True) if d["kind"] == "vma"}
    rows = sorted(((n, d) for n, d in union.nodes(data=True) if d["kind"] == "pte"),
                  key=lambda nd: (nd[1]["seq"], sort_key(nd[0])))
    for n, d in rows:
        out["vma:" + n.split(":", 1)[1].rsplit(":", 1)[0]].append((n,) + d["size"])
    return out


def table_size(cells) -> tuple[float, float]:
    """The size of a VMA table node: its cells stacked with ROW_GAP around each."""
    return (max(w for _, w, _ in cells) + 2 * ROW_GAP,
            sum(h for _, _, h in cells) + (len(cells) + 1) * ROW_GAP)


def dot_text(union, frame=None, caption: str | None = None) -> str:
    """DOT for the union graph; with `frame` (one step's graph) styled and labelled for that step."""
    g = pydot.Dot("cowviz", graph_type="digraph", strict=False)
    for k, v in GRAPH_ATTRS.items():
        g.set(k, _attr(v))
    if union.graph.get("legend"):
        g.set("label", style.legend_html(caption))
        g.set("labelloc", "b")
        g.set("labeljust", "l")
    g.set_node_defaults(**{k: _attr(v) for k, v in style.NODE_BASE.items()})
    g.set_edge_defaults(**{k: _attr(v) for k, v in style.EDGE_BASE.items()})
    col_index = {c: i for i, c in enumerate(COLS)}
    tabs = tables(union)
    where = {}                 # node id -> the DOT node (and port) that draws it
    for vma, cells in tabs.items():
        for n, _, _ in cells[1:]:
            where[n] = (vma, port(n))
        where[vma] = (vma, "h")

    clusters = {}
    for box in sorted({d["box"][0] for _, d in union.nodes(data=True) if d["box"]}, key=sort_key):
        visible = frame is None or any(d["box"][:1] == (box,) for _, d in frame.nodes(data=True))
        sub = pydot.Cluster(_safe(box), id=_q(box), label='""', margin="12", penwidth="1.5",
                            color=_q(style.GREY), style=_q("rounded,dashed") if visible else "invis")
        if frame is not None:
            sub.set("class", _q("box mm"))
        clusters[box] = sub
        g.add_subgraph(sub)

    for n in sorted(union.nodes, key=sort_key):
        d = union.nodes[n]
        if d["kind"] == "pte":
            continue
        parent = clusters[d["box"][0]] if d["box"] else g
        attrs = _table_attrs(n, tabs[n], frame) if d["kind"] == "vma" else _node_attrs(n, d, frame)
        parent.add_node(pydot.Node(_q(n), **attrs))

    # Columns: one rank each, kept in order by invisible links between their first members.
    firsts = []
    for col in COLS:
        members = sorted((n for n, d in union.nodes(data=True) if d["col"] == col and d["kind"] != "pte"),
                         key=sort_key)
        if members:
            rank = pydot.Subgraph(_safe("rank_" + col), rank="same")
            for n in members:
                rank.add_node(pydot.Node(_q(n), id=_q(n)))
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
        # Ports: a PTE row leaves its table on the side facing the pages.
        out, into = ("w", "e") if back else ("e", "w")
        tport, hport = _port(u, where, out, d["kind"]), _port(v, where, into, d["kind"])
        tail, head = _q(where.get(u, (u,))[0]), _q(where.get(v, (v,))[0])
        if back:
            tail, head, tport, hport = head, tail, hport, tport
        if tport:
            attrs["tailport"] = _q(tport)
        if hport:
            attrs["headport"] = _q(hport)
        g.add_edge(pydot.Edge(tail, head, **attrs))
    return g.to_string()


def _port(n: str, where: dict, side: str, kind: str) -> str | None:
    """The port (and compass side) an edge uses at node n, or None for the node itself."""
    if n in where:
        p = where[n][1]
        return p if p == "h" else f"{p}:{side}"
    return side if kind in PORTED else None


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
