"""A snapshot as a typed networkx graph of kernel objects (ids of cowviz/ids.py).

Nodes carry `kind`, `col` (which column of the drawing), `box` (the groups
drawn around them), `label` (text lines, title first), `attrs` (kernel facts),
`cls` (state classes) and `hl` (highlight tags from the step's events).
Edges are keyed by their id and carry `kind`, `cls`, `label` and `hl`.
The graph says what is there; style.py and dot.py decide how it looks.
"""
from __future__ import annotations

from bisect import bisect_right
from typing import NamedTuple

import networkx as nx

from .. import ids
from ..mm.snapshot import MmSnap
from . import lod
from .style import BADGES, COPY_SOURCE, COPY_TAGS, MIN_CHARS, TAG_PRIORITY

DATA_CHARS = 12           # longer page data is cut, so one long value cannot widen every page
HOLDER_LINES = 6          # kinds of reference a holder lists before "... N more"


class SideMap:
    """Which side of the pages each process is drawn on, fixed when it is first seen.

    A new process goes to the side where the processes and holders alive now need less height:
    a child forked after the last one exited takes its place, so the union layout can give both
    one box (slots.py), and two live children go to different sides.  On a tie the side with
    less of everything seen so far (the union layout keeps room for all of it) wins, then the
    sides alternate: the first process goes left, its first child right.
    """

    def __init__(self):
        self.sides: dict[str, str] = {}
        self._height: dict[str, float] = {}      # mm or holder id -> the most height it needed
        self._alive: set = set()
        self._mms = 0

    def see(self, heights: dict) -> None:
        """The processes and holders of the snapshot being drawn: id -> height (points, roughly)."""
        self._alive = set(heights)
        for obj_id, height in heights.items():
            self._height[obj_id] = max(self._height.get(obj_id, 0.0), height)

    def load(self, side: str, alive_only: bool = False) -> float:
        """The height the processes and holders on that side need (all seen, or those alive)."""
        return sum(h for o, h in self._height.items()
                   if self.sides.get(o) == side and (o in self._alive or not alive_only))

    def of_mm(self, mm_id: str) -> str:
        """L or R: the side with less to show (see the class), alternating on a tie."""
        if mm_id not in self.sides:
            loads = [(self.load(s, True), self.load(s), s) for s in "LR"]
            if loads[0][:2] == loads[1][:2]:
                self.sides[mm_id] = "LR"[self._mms % 2]
            else:
                self.sides[mm_id] = min(loads)[2]
            self._mms += 1
        return self.sides[mm_id]

    def of_holder(self, holder_id: str, mm_id: str | None) -> str:
        """A holder sits on the side of the process it first took a reference from."""
        if holder_id not in self.sides:
            self.sides[holder_id] = self.sides.get(mm_id, "L") if mm_id else "L"
        return self.sides[holder_id]


def _mm_height(mm, plan) -> float:
    """About how tall a process is drawn: its VMA tables beside its tasks and mm (points)."""
    tables = sum(90 + 34 * len(plan.rows[v.id]) for v in mm.vmas)
    return max(tables, 40 * len(mm.users) + 80)


def _holder_height(h) -> float:
    """About how tall a holder is drawn (points)."""
    return 40 + 20 * min(len(h.refs), HOLDER_LINES + 1)


if MmSnap._fields[-1] != "vmas":
    raise ImportError("cowviz.diagram.graph expects MmSnap(..., vmas) with the VMAs last")


class Part(NamedTuple):
    """What one kernel object adds to the graph (an mm with its tasks, a VMA with its PTE rows, a
    page or run of pages, an anon_vma, a holder, a memcg), made from `key` alone.  `ops` are the
    add_node (tail, None, None, attrs) and add_edge (tail, head, key, attrs) calls, in order."""
    key: object
    ops: tuple


class _Ops(list):
    """Stands in for the graph while a part is made: it records the calls."""

    def add_node(self, node_id, **attrs):
        self.append((node_id, None, None, attrs))

    def add_edge(self, tail, head, key=None, **attrs):
        self.append((tail, head, key, attrs))


class PartCache:
    """The parts of the last snapshot split up (graph_parts), so that the next one makes again
    only the parts whose object changed; `new` is which parts of the last one were made afresh."""

    def __init__(self):
        self.parts: dict = {}          # part id -> Part
        self.new: list = []
        self.runs = ()                 # the last snapshot's runs of pages (the next one keeps it if equal)
        self.heights = None            # what the side map was told of the last snapshot (SideMap.see)


def build_graph(snapshot, events=(), expanded=(), sides: SideMap | None = None,
                hide: frozenset = frozenset()) -> nx.MultiDiGraph:
    """The kernel objects of one snapshot, highlighted by the step's events.

    `hide` names details a beginner has not been taught yet (cowviz/scenario/detail.py):
    anon_vma, pins, pinned-flag, memcg, exclusive; those are left out of the drawing.
    """
    return assemble(snapshot, graph_parts(snapshot, expanded, sides, hide), events)


def assemble(snapshot, parts, events=()) -> nx.MultiDiGraph:
    """The graph of a snapshot from its parts, highlighted by the step's events."""
    g = nx.MultiDiGraph(era=snapshot.era, tags=_tags(events))
    add_node, add_edge = g.add_node, g.add_edge
    for part in parts:
        for tail, head, key, attrs in part.ops:
            if head is None:
                add_node(tail, **attrs)
            else:
                add_edge(tail, head, key, **attrs)
    _highlight(g, events)
    return g


def graph_parts(snapshot, expanded=(), sides: SideMap | None = None, hide: frozenset = frozenset(),
                cache: PartCache | None = None) -> list[Part]:
    """The parts of one snapshot's graph, in the order the graph gets them.  With `cache` (the
    parts of the snapshot before), a part whose object, side and plan did not change is that
    same Part (cache.new says which were made)."""
    facts = snapshot.facts          # the era's facts travel on the snapshot
    sides = sides if sides is not None else SideMap()
    plan = lod.plan(snapshot, ids.parse_expanded(expanded))
    runs = tuple(sorted(plan.page_runs.items()))      # which pages share a node: what edges point at
    if cache is not None and runs == cache.runs:
        runs = cache.runs             # the same object: the parts' keys compare at once
    mm_of_task = {ids.task(t.name): t.mm for t in snapshot.tasks}
    old = cache.parts if cache is not None else {}
    kept: dict = {}
    new: list = []
    parts: list = []

    def part(pid, key, make, *args):
        p = old.get(pid)
        if p is None or p.key != key:
            ops = _Ops()
            make(ops, *args)
            p = Part(key, tuple(ops))
            new.append(p)
        kept[pid] = p
        parts.append(p)

    heights = {mm.id: _mm_height(mm, plan) for mm in snapshot.mms}
    for h in snapshot.holders:
        heights[h.id] = _holder_height(h)
    if cache is None or heights != cache.heights:
        sides.see(heights)            # (telling it what it was told of the snapshot before changes nothing)
    for mm in snapshot.mms:
        side = sides.of_mm(mm.id)
        part(mm.id, (side, hide, mm[:-1]), _add_mm, mm, side, hide)      # all but its VMAs
        box = (ids.box(mm.id),)
        for vma in mm.vmas:
            rows = plan.rows[vma.id]
            part(vma.id, (side, hide, runs, vma, rows if len(vma.ptes) > lod.FULL_ROWS else None),
                 _add_vma, vma, side, box + (ids.box(vma.id),), plan, hide)

    # snapshot.pages is in pfn order and a run's pages all exist, so a run is a slice.
    i, all_pages = 0, snapshot.pages
    exclusive = facts.pg_anon_exclusive
    while i < len(all_pages):
        p = all_pages[i]
        last = plan.page_runs.get(p.pfn, p.pfn)
        n = last - p.pfn + 1
        run = all_pages[i:i + n]
        node_id = p.id if n == 1 else ids.page(p.pfn, last)
        part(node_id, (hide, exclusive, run), _add_page, node_id, run, facts, hide)
        i += n

    for av in snapshot.anon_vmas if "anon_vma" not in hide else ():
        part(av.id, (facts.anon_vma_counter, av), _add_anon_vma, av, facts)
    known = sides.sides
    for h in snapshot.holders:
        side = known.get(h.id)
        if side is None:
            first_task = h.refs[0].task if h.refs else None
            side = sides.of_holder(h.id, mm_of_task.get(ids.task(first_task) if first_task is not None else None))
        part(h.id, (side, runs, h), _add_holder, h, side, plan)

    for m in snapshot.memcgs if "memcg" not in hide else ():
        first = mm_of_task.get(m.tasks[0]) if m.tasks else None
        side = sides.sides.get(first, "L")
        part(m.id, (side, m), _add_memcg, m, side)

    if cache is not None:
        cache.parts, cache.new, cache.runs, cache.heights = kept, new, runs, heights
    return parts


def _add_mm(g, mm, side: str, hide) -> None:
    """A process: its tasks and its mm (its VMAs are parts of their own)."""
    box = (ids.box(mm.id),)
    for task in mm.users:
        name = ids.name(task)
        label = ("task " + name,) if name == mm.owner else ("task " + name, "thread of " + mm.owner)
        _node(g, task, "task", side + "0", box, label, {"name": name, "mm": mm.id})
        _edge(g, task, mm.id, "task_mm")
    label = ["mm " + mm.owner, f"map_count {mm.map_count}"]
    if mm.has_pinned_name is not None and "pinned-flag" not in hide:
        label.append(f"{mm.has_pinned_name}: {'set' if mm.has_pinned else 'clear'}")
    _node(g, mm.id, "mm", side + "0", box, label,
          {"owner": mm.owner, "users": list(mm.users), "map_count": mm.map_count,
           "has_pinned": mm.has_pinned, "has_pinned_name": mm.has_pinned_name, "memcg": mm.memcg},
          ("has-pinned",) if mm.has_pinned and "pinned-flag" not in hide else ())


def _add_memcg(g, m, side: str) -> None:
    """A memcg has no edge; it is drawn in the outer column of the side of its first task."""
    _node(g, m.id, "memcg", side + "0", (),
          ("memcg " + m.name, f"usage {m.usage} pages",
           "no limit" if m.limit is None else f"limit {m.limit} pages"),
          {"name": m.name, "usage": m.usage, "limit": m.limit, "tasks": list(m.tasks)})


def _add_anon_vma(g, av, facts) -> None:
    """An anon_vma with its parent and root links; the counter shown is the one the era keeps."""
    n = ids.name
    counter = (f"degree {av.degree}" if facts.anon_vma_counter == "degree"
               else f"children {av.num_children} active {av.num_active_vmas}")
    counts = ((f"refcount {av.refcount} {counter}",) if facts.anon_vma_counter == "degree"
              else (f"refcount {av.refcount}", counter))
    _node(g, av.id, "anon_vma", "A", (),
          (f"anon_vma {n(av.id)}", f"root {n(av.root)} parent {n(av.parent)}") + counts,
          {k: (list(v) if isinstance(v, tuple) else v) for k, v in av._asdict().items()},
          ("root",) if av.root == av.id else ())
    if av.parent != av.id:
        _edge(g, av.id, av.parent, "parent", key="parent")
    if av.root not in (av.id, av.parent):
        _edge(g, av.id, av.root, "root", key="root")


def _add_holder(g, h, side: str, plan) -> None:
    """A device or pipe, one line per kind of reference it holds, one edge per page and kind."""
    groups: dict = {}
    for r in h.refs:
        key = (r.page, r.pin, r.write, r.longterm)
        groups[key] = groups.get(key, 0) + 1
    refs = []
    edges: dict = {}
    for (page, pin, write, longterm), count in groups.items():
        flags = ", ".join(f for f, on in (("write", write), ("longterm", longterm)) if on)
        text = f"{'pin' if pin else 'get'} page {ids.pfn(page)}" + (f" ×{count}" if count > 1 else "")
        # The flags get a line of their own rather than widen the column of VMA tables.
        if flags and len(text) + len(flags) + 3 > MIN_CHARS["holder"]:
            refs.append((text, f"  ({flags})"))
        else:
            refs.append((text + (f" ({flags})" if flags else ""),))
        flags_of = edges.setdefault((_page_node(plan, ids.pfn(page)), "pin" if pin else "get"), set())
        flags_of.update(f for f, on in (("write", write), ("longterm", longterm)) if on)
    if len(refs) > HOLDER_LINES:
        refs[HOLDER_LINES - 1:] = [(f"... {len(groups) - HOLDER_LINES + 1} more",)]
    lines = [f"{h.name} ({h.kind})"] + [line for ref in refs for line in ref]
    for (target, kind), flags in edges.items():
        _edge(g, h.id, target, kind, key=kind, label="FOLL_PIN" if kind == "pin" else "FOLL_GET",
              cls=tuple(sorted(flags)))
    _node(g, h.id, "holder", side + "1", (), lines,
          {"name": h.name, "kind": h.kind, "refs": _refs_json(h.refs)}, (h.kind,))


def _refs_json(refs) -> list:
    """The references as dicts; alike references (gup ... x2048) share one dict, made once."""
    made: dict = {}
    return [made[r] if r in made else made.setdefault(r, r._asdict()) for r in refs]


def _tags(events) -> tuple:
    seen = []
    for ev in events:
        if ev.tag and ev.tag not in seen:
            seen.append(ev.tag)
    return tuple(seen)


def _node(g, node_id, kind, col, box, label, attrs, cls=(), seq=0):
    g.add_node(node_id, kind=kind, col=col, box=tuple(box), label=tuple(label), attrs=attrs,
               cls=(kind,) + tuple(cls), hl=(), seq=seq)


def _edge(g, tail, head, kind, key=None, label=None, cls=()):
    eid = ids.edge(tail, head, key)
    g.add_edge(tail, head, key=eid, kind=kind, label=label, cls=(kind,) + tuple(cls), hl=())


def _add_vma(g, vma, side, box, plan, hide=frozenset()):
    flags = [f for f in vma.flags if f in ("dontcopy", "wipeonfork")]
    owner = (f"shmem file {vma.file}" if vma.shared else "" if "anon_vma" in hide else
             f"anon_vma {ids.name(vma.anon_vma)}" if vma.anon_vma else "anon_vma none")
    mode = " ".join([vma.prot, "shared" if vma.shared else "private"] + flags)
    # One line for the mode and the anon_vma when that fits the table's narrowest width.
    mode = ((mode,) if not owner else
            (f"{mode} {owner}",) if len(mode) + 1 + len(owner) <= MIN_CHARS["table"] else (mode, owner))
    _node(g, vma.id, "vma", side + "1", box,
          (f"vma {vma.name} ({len(vma.ptes)} page{'s' if len(vma.ptes) != 1 else ''})", f"{vma.vm_start:#x}-{vma.vm_end:#x}") + mode,
          {"name": vma.name, "vm_start": vma.vm_start, "vm_end": vma.vm_end, "prot": vma.prot,
           "shared": vma.shared, "flags": list(vma.flags), "anon_vma": vma.anon_vma,
           "anon_vma_chain": list(vma.anon_vma_chain), "pages": len(vma.ptes)},
          ("shared" if vma.shared else "private",) + tuple(flags), seq=-1)
    for av in vma.anon_vma_chain if "anon_vma" not in hide else ():
        _edge(g, vma.id, av, "avc", cls=("own",) if av == vma.anon_vma else ())
    for row in plan.rows[vma.id]:
        target = None if row.pte is None else _page_node(plan, 0 if row.pte.special else row.pfn_first)
        key = (vma.id, side, box, row, target)
        ops = _ROW_OPS.get(key)
        if ops is None:
            if len(_ROW_OPS) >= ROW_OPS:
                _ROW_OPS.clear()
            ops = _ROW_OPS[key] = _row(_Ops(), vma.id, side, box, row, target)
        g.extend(ops)
    _edge(g, vma.mm, vma.id, "mm_vma")


# A VMA whose page table changed is made again, but most of its rows are as they were: each row's
# node and edge are made once per (VMA, side, box, row, page node), the same calls every time.
ROW_OPS = 8192
_ROW_OPS: dict = {}


def _row(g, vma_id: str, side: str, box: tuple, row, target: str | None) -> tuple:
    """The calls that add one PTE row (and its map edge to the page node `target`)."""
    node_id = ids.pte_in(vma_id, row.first, row.last)
    where = f"[{row.first}]" if row.count == 1 else f"[{row.first}-{row.last}]"
    many = f" ×{row.count}" if row.count > 1 else ""
    pte = row.pte
    attrs = {"index": row.first, "last": row.last, "count": row.count, "present": pte is not None}
    if pte is None:
        text, cls = f"{where} none{many}", ("none",)
    else:
        rw = "RW" if pte.write else "RO"
        if pte.special:
            target_text = "zero page"
        elif row.count == 1:
            target_text = f"pfn {pte.pfn}"
        else:
            target_text = f"pfn {row.pfn_first}-{row.pfn_last}"
        text, cls = f"{where} {rw} {target_text}{many}", (rw.lower(),)
        attrs.update(write=pte.write, dirty=pte.dirty, special=pte.special,
                     pfn=row.pfn_first, pfn_last=row.pfn_last)
    _node(g, node_id, "pte", side + "1", box, (text,), attrs,
          cls + (("run",) if row.count > 1 else ()), seq=row.first)
    if pte is not None:
        _edge(g, node_id, target, "map", cls=(rw.lower(),))
    return tuple(g)


def _page_node(plan, pfn: int) -> str:
    return ids.page(*plan.page_node(pfn))


def _short(data: str) -> str:
    return data if len(data) <= DATA_CHARS else data[:DATA_CHARS - 1] + "…"


def _add_page(g, node_id, run, facts, hide=frozenset()):
    """One page, or a run of alike pages, as one node."""
    p = run[0]
    if p.kind == "zero":
        label = ["zero page", "refcount - pins -", "mapcount -", "(counts not kept)"]
    else:
        if len(run) == 1:
            title = f"page {p.pfn} = {_short(p.data)}"
        else:
            same = all(q.data == p.data for q in run)
            title = f"pages {p.pfn}-{run[-1].pfn} ×{len(run)}" + (f" = {_short(p.data)}" if same else "")
        owner = f"anon_vma {ids.name(p.anon_vma)}" if p.anon_vma else p.kind
        if "anon_vma" in hide:
            owner = "" if p.anon_vma else p.kind
        # pins is read off refcount (refcount / 1024), so the two share a line.
        pins = "" if "pins" in hide else f" pins {p.pins}"
        label = [title, f"refcount {p.refcount}{pins}", f"mapcount {p.mapcount} {owner}".rstrip()]
    if facts.pg_anon_exclusive and "exclusive" not in hide:
        label.append("exclusive: " + {True: "yes", False: "no", None: "-"}[p.exclusive])
    attrs = p._asdict()
    del attrs["id"]
    attrs.update(pfn_last=run[-1].pfn, count=len(run))
    if len(run) > 1:
        attrs["data"] = [q.data for q in run[:8]] + (["…"] if len(run) > 8 else [])
    cls = (p.kind,) + (("pinned",) if p.maybe_pinned else ()) \
        + (("excl",) if p.exclusive and "exclusive" not in hide else ()) \
        + (("run",) if len(run) > 1 else ())
    _node(g, node_id, "page", "M", (), label, attrs, cls, seq=p.pfn)


def _highlight(g, events) -> None:
    """Mark the nodes each tagged event names, and the edges between two nodes one event names."""
    ptes: dict = {}
    pages: list = []
    for n, d in g.nodes(data=True):
        if d["kind"] == "pte":
            r = ids.parse_pte(n)
            ptes.setdefault((r.owner, r.vma), []).append((r.first, r.last, n))
        elif d["kind"] == "page":
            pages.append(ids.parse_page(n) + (n,))
    for rows in ptes.values():
        rows.sort()
    pages.sort()
    hl_nodes: dict = {}
    hl_edges: dict = {}
    for ev in events:
        if not ev.tag:
            continue
        named = set()
        for obj in ev.objs:
            if obj in g:
                named.add(obj)
            elif (r := ids.parse_pte(obj)) is not None:
                named.update(_overlapping(ptes.get((r.owner, r.vma), ()), r.first, r.last))
            elif (pr := ids.parse_page(obj)) is not None:
                named.update(_overlapping(pages, *pr))
        for n in named:
            hl_nodes.setdefault(n, []).append(ev.tag)
        for u, v, k in g.edges(named, keys=True):
            if v in named:
                hl_edges.setdefault((u, v, k), []).append(ev.tag)
    order = {t: i for i, t in enumerate(TAG_PRIORITY)}
    rank = lambda tags: tuple(sorted(set(tags), key=lambda t: order.get(t, len(order))))
    for n, tags in hl_nodes.items():
        g.nodes[n]["hl"] = rank(tags)
    for e, tags in hl_edges.items():
        g.edges[e]["hl"] = rank(tags)


def _overlapping(spans: list, first: int, last: int) -> list:
    """Ids of the sorted, disjoint (first, last, id) spans that overlap first..last."""
    i = max(bisect_right(spans, (first, float("inf"))) - 1, 0)
    out = []
    while i < len(spans) and spans[i][0] <= last:
        if spans[i][1] >= first:
            out.append(spans[i][2])
        i += 1
    return out


def badge(g, node_id, new: bool) -> str | None:
    """The written highlight of a page or holder: its most important tag, in words."""
    d = g.nodes[node_id]
    if not d["hl"] or d["kind"] not in ("page", "holder"):
        return None
    tag = d["hl"][0]
    # A copy event names both pages: the one that appeared is the copy.
    if tag in COPY_TAGS and not new:
        return COPY_SOURCE
    return BADGES.get(tag)
