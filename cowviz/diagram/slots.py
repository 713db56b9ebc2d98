"""Objects that are never on screen together share one place in a run's union layout.

layout_run() knows every frame of a run, so it knows when each object is present.
A child that exits before the next one is forked, or a page freed before another
is allocated, would otherwise keep an empty place of its own in every frame.  Such
objects get one slot: Graphviz lays out one node (or one process box) for them and
each takes the slot's geometry.  Objects present in the same frame never share a
slot, so no frame draws two things in one place, and each object still has the
same geometry in every frame it is in (the union-layout guarantee).  The sandbox
cannot know the future, so it shares nothing.

    union.nodes[n]["slot"]      the node that stands for n in the DOT (n itself when alone)
    union.graph["box_slot"]     process box -> the box that stands for it (when not itself)
"""
from __future__ import annotations

from .. import ids
from ..ids import sort_key

ALONE = ("page", "anon_vma", "holder", "memcg")     # kinds drawn outside the process boxes


def lifetimes(graphs) -> dict:
    """Node id -> the frozenset of frame numbers in which it is present."""
    life: dict = {}
    for i, g in enumerate(graphs):
        for n in g.nodes:
            life.setdefault(n, set()).add(i)
    return {n: frozenset(f) for n, f in life.items()}


def share_slots(union, life: dict) -> None:
    """Give objects that never appear together one slot (after assign_sizes: sizes must agree).

    Greedy, in order of first appearance: an object joins the first slot of its kind, column
    and size that is empty whenever the object is present, else opens a new one.
    """
    for n in union.nodes:
        union.nodes[n]["slot"] = n
    union.graph["box_slot"] = {}
    frames = len(frozenset().union(*life.values())) if life else 0
    _share_boxes(union, life)
    groups: dict = {}
    for n, d in union.nodes(data=True):
        if d["kind"] in ALONE and not d["box"] and len(life[n]) < frames:
            groups.setdefault((d["kind"], d["col"], d["size"]), []).append(n)
    for nodes in groups.values():
        slots: list = []                # [rep, frames in which the slot is taken]
        for n in sorted(nodes, key=lambda n: (min(life[n]), sort_key(n))):
            slot = next((s for s in slots if not s[1] & life[n]), None)
            if slot is None:
                slots.append([n, set(life[n])])
            else:
                union.nodes[n]["slot"] = slot[0]
                slot[1] |= life[n]


def _share_boxes(union, life: dict) -> None:
    """Processes on the same side that are never alive together share one box; inside it their
    tasks, mm and VMA tables share places where kind and shape agree (a VMA by name first)."""
    members: dict = {}
    for n, d in union.nodes(data=True):
        if d["box"]:
            members.setdefault(d["box"][0], []).append(n)
    rows: dict = {}
    for n, d in union.nodes(data=True):
        if d["kind"] == "pte":
            rows.setdefault(ids.vma_of(n), []).append(n)
    side, box_life = {}, {}
    for b, ns in members.items():
        mm = [n for n in ns if union.nodes[n]["kind"] == "mm"]
        if mm:
            side[b] = union.nodes[mm[0]]["col"][0]
            box_life[b] = frozenset().union(*(life[n] for n in ns))
    groups: list = []                   # [rep box, side, frames, [(rep node, shape)]]
    for box in sorted(side, key=lambda b: (min(box_life[b]), sort_key(b))):
        own = sorted((n for n in members[box] if union.nodes[n]["kind"] != "pte"), key=sort_key)
        group = next((gr for gr in groups if gr[1] == side[box] and not gr[2] & box_life[box]), None)
        if group is None:
            groups.append([box, side[box], set(box_life[box]), [(n, _shape(union, n, rows)) for n in own]])
            continue
        union.graph["box_slot"][box] = group[0]
        group[2] |= box_life[box]
        taken: set = set()
        for n in own:
            shape = _shape(union, n, rows)
            fits = [rep for rep, s in group[3] if s == shape and rep not in taken]
            # The same VMA name first: the child's `buf` where the last child's `buf` was.
            fits.sort(key=lambda rep: ids.name(rep) != ids.name(n))
            if fits:
                union.nodes[n]["slot"] = fits[0]
                taken.add(fits[0])
            else:
                group[3].append((n, shape))
                taken.add(n)


def _shape(union, n: str, rows: dict) -> tuple:
    """What must agree for two nodes to share a place: kind and size (a VMA: every cell's)."""
    d = union.nodes[n]
    if d["kind"] != "vma":
        return d["kind"], d["size"]
    cells = sorted(rows.get(n, ()), key=lambda m: (union.nodes[m]["seq"], sort_key(m)))
    return ("vma", d["size"]) + tuple((ids.name(m), union.nodes[m]["size"]) for m in cells)


def slot_of(union, n: str) -> str:
    """The node that stands for n in the DOT."""
    return union.nodes[n].get("slot", n)


def box_of(union, box: str) -> str:
    """The process box that stands for `box` in the DOT."""
    return union.graph.get("box_slot", {}).get(box, box)
