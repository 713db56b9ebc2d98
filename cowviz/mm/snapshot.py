"""Immutable snapshots of the whole machine, and their wire format.

A snapshot is made after every step and shares no mutable state with the
kernel or with the next snapshot: it is built from tuples (PTE values are
immutable pte_t tuples, shared safely).  The diagram and web layers read
only snapshots.

Wire format (to_json): Python-Tutor style, every object stored once under its
id and referred to by id, so one page mapped by many PTEs is one object:

    {"era": "5.9", "tasks": {"task:P": {"name", "mm"}},
     "mms": {"mm:P": {"owner", "users": [task ids], "map_count", "has_pinned": bool|null,
                      "has_pinned_name": str|null, "memcg", "vmas": [vma ids]}},
     "vmas": {"vma:P:buf": {"mm", "name", "vm_start", "vm_end", "vm_pgoff", "flags": [..],
                            "prot": "rw"|"ro", "shared": bool, "anon_vma": id|null,
                            "anon_vma_chain": [ids, newest first], "file": int|null,
                            "ptes": [null | {"pfn", "write", "dirty", "special"}]}},
     "pages": {"page:7": {"pfn", "kind": "anon"|"shmem"|"zero", "data", "refcount", "mapcount",
                          "pins": refcount // 1024, "maybe_pinned", "exclusive": bool|null,
                          "anon_vma": id|null, "index", "memcg": id|null}},
     "anon_vmas": {"anon_vma:1": {"id", "root", "parent", "refcount", "num_children",
                                  "num_active_vmas", "degree", "vmas": [vma ids]}},
     "holders": {"holder:nic": {"name", "kind": "device"|"pipe",
                                "refs": [{"page", "pin", "write", "longterm", "task", "vma", "index"}]}},
     "memcgs": {"memcg:P": {"name", "usage", "limit", "tasks": [task ids]}},
     "fail_alloc": int}

For the zero page "refcount" and "mapcount" are null: its counts are not kept.

The era's facts (its pinned flag's name, whether pages carry PG_anon_exclusive,
which anon_vma counters it keeps) travel on every Snapshot as `facts`
(EraFacts), so whoever draws a snapshot need not ask the era; in the JSON
they show as "has_pinned_name" and as nulls where the era has no such field.
"""
from __future__ import annotations

from bisect import bisect_left
from typing import NamedTuple

from .events import anon_vma_id, holder_id, memcg_id, mm_id, page_id, task_id, vma_id
from .types import (FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE, GUP_PIN_COUNTING_BIAS, VM_FLAG_NAMES,
                    VM_SHARED, VM_WRITE, PageAnon, Pte)


class EraFacts(NamedTuple):
    """What the era of a snapshot is, as data (cowviz/eras declares it)."""
    id: str
    has_pinned_flag: str | None     # "has_pinned" (5.9), "MMF_HAS_PINNED" (5.14+), None before 5.9
    pg_anon_exclusive: bool         # pages carry PG_anon_exclusive (5.19+)
    anon_vma_counter: str           # "degree" (5.x) or "num_children/num_active_vmas" (6.0+)


class TaskSnap(NamedTuple):
    name: str
    mm: str


class VmaSnap(NamedTuple):
    id: str
    mm: str
    name: str
    vm_start: int
    vm_end: int
    vm_pgoff: int
    flags: tuple
    prot: str
    shared: bool
    anon_vma: str | None
    anon_vma_chain: tuple
    file: int | None
    ptes: tuple            # of Pte or None


class MmSnap(NamedTuple):
    id: str
    owner: str
    users: tuple
    map_count: int
    has_pinned: bool | None
    has_pinned_name: str | None
    memcg: str
    vmas: tuple            # of VmaSnap, address order


class PageSnap(NamedTuple):
    id: str
    pfn: int
    kind: str
    data: str
    refcount: int | None
    mapcount: int | None
    pins: int | None
    maybe_pinned: bool
    exclusive: bool | None
    anon_vma: str | None
    index: int
    memcg: str | None


class AnonVmaSnap(NamedTuple):
    id: str
    root: str
    parent: str
    refcount: int
    num_children: int
    num_active_vmas: int
    degree: int
    vmas: tuple


class RefSnap(NamedTuple):
    page: str
    pin: bool
    write: bool
    longterm: bool
    task: str
    vma: str
    index: int


class HolderSnap(NamedTuple):
    id: str
    name: str
    kind: str
    refs: tuple


class MemcgSnap(NamedTuple):
    id: str
    name: str
    usage: int
    limit: int | None
    tasks: tuple


class Snapshot(NamedTuple):
    era: str
    tasks: tuple
    mms: tuple
    pages: tuple           # PageSnap, by pfn; the zero page first when anything uses it
    anon_vmas: tuple
    holders: tuple
    memcgs: tuple
    fail_alloc: int
    facts: EraFacts                # what the era is (not in to_json: see above)

    def task(self, name: str) -> TaskSnap | None:
        return _by_name(self.tasks).get(name)

    def mm(self, id: str) -> MmSnap | None:
        return _by_id(self.mms).get(id)

    def vma(self, task: str, name: str) -> VmaSnap | None:
        t = self.task(task)
        mm = self.mm(t.mm) if t else None
        return next((v for v in mm.vmas if v.name == name), None) if mm else None

    def pte(self, task: str, vma: str, i: int) -> Pte | None:
        v = self.vma(task, vma)
        return v.ptes[i] if v is not None and i < len(v.ptes) else None

    def page(self, pfn: int) -> PageSnap | None:
        i = bisect_left(self.pages, pfn, key=_pfn)      # pages are in pfn order (the zero page is pfn 0)
        return self.pages[i] if i < len(self.pages) and self.pages[i].pfn == pfn else None

    def page_at(self, task: str, vma: str, i: int) -> PageSnap | None:
        pte = self.pte(task, vma, i)
        return self.page(pte.pfn) if pte is not None else None

    def to_json(self) -> dict:
        return to_json(self)


def _pfn(p: PageSnap) -> int:
    return p.pfn


class IdentityMemo:
    """What a function makes of an immutable object (a snapshot's tuple), made once per object:
    keyed by identity, and holding the object keeps its id its own.  Emptied when full."""

    def __init__(self, size: int, make):
        self.size, self.make = size, make
        self._made: dict = {}       # id(obj) -> (obj, what make(obj) returned)

    def __call__(self, obj):
        entry = self._made.get(id(obj))
        if entry is None or entry[0] is not obj:
            if len(self._made) >= self.size:
                self._made.clear()
            entry = self._made[id(obj)] = (obj, self.make(obj))
        return entry[1]


# Snapshots are immutable, so a lookup by name or id is an index made once per tuple, not a scan.
_by_name = IdentityMemo(256, lambda items: {x.name: x for x in items})
_by_id = IdentityMemo(256, lambda items: {x.id: x for x in items})


def take_snapshot(k, reuse: dict | None = None) -> Snapshot:
    """The state of kernel `k` now, as an immutable value.

    `reuse`, a dict the caller keeps from one snapshot of `k` to the next, lets a VMA, a page or a
    holder that did not change since keep its snapshot object (a device holding x2048 references
    is not copied again for every step, and the diagram tells an unchanged object by identity);
    the snapshot is the same value either way."""
    facts = k.era.facts
    old = reuse if reuse is not None else {}
    kept: dict = {}              # kernel object -> (what its snapshot was made from, the snapshot, ...)
    get = old.get
    tasks = tuple(TaskSnap(t.name, mm_id(t.mm)) for t in k.tasks.values())
    mms = []
    zero_used = False
    for mm in k.live_mms():
        vmas = []
        owner = mm.owner
        for v in mm.mmap.values():
            ptes = tuple(v.ptes)
            chain = tuple([avc.anon_vma for avc in v.anon_vma_chain])
            source = (owner, v.name, v.vm_start, v.vm_end, v.vm_pgoff, v.vm_flags, v.anon_vma, chain,
                      v.vm_file, ptes)
            was = get(v)
            if was is None or was[0] != source:
                was = (source, VmaSnap(
                    vma_id(v), mm_id(mm), v.name, v.vm_start, v.vm_end, v.vm_pgoff,
                    tuple(name for flag, name in VM_FLAG_NAMES if v.vm_flags & flag),
                    "rw" if v.vm_flags & VM_WRITE else "ro", bool(v.vm_flags & VM_SHARED),
                    anon_vma_id(v.anon_vma) if v.anon_vma is not None else None,
                    tuple(anon_vma_id(av) for av in chain),
                    v.vm_file.id if v.vm_file is not None else None, ptes),
                    any(p is not None and p.special for p in ptes))      # maps the zero page
            kept[v] = was
            vmas.append(was[1])
            zero_used = zero_used or was[2]
        mms.append(MmSnap(mm_id(mm), owner,
                          tuple(task_id(t.name) for t in k.tasks.values() if t.mm is mm),
                          mm.map_count, mm.has_pinned if facts.has_pinned_flag else None,
                          facts.has_pinned_flag, memcg_id(mm.memcg), tuple(vmas)))
    pages = []
    holders = []
    for h in k.holders.values():
        held = tuple(h.refs)
        # A GupRef never changes once taken, so the same references make the same snapshot.
        was = get(h)
        if was is None or was[0] != (h.kind, held):
            was = ((h.kind, held), HolderSnap(holder_id(h), h.name, h.kind, _ref_snaps(held)),
                   any(r.page.kind == "zero" for r in held))
        kept[h] = was
        holders.append(was[1])
        zero_used = zero_used or was[2]
    if zero_used:
        pages.append(PageSnap(page_id(0), 0, "zero", "0", None, None, None, False, None, None, 0, None))
    exclusive_known = facts.pg_anon_exclusive
    all_pages = k.pages
    for pfn in sorted(all_pages):
        p = all_pages[pfn]
        anon = PageAnon(p)
        exclusive = p.anon_exclusive if exclusive_known and anon else None
        source = (p.kind, p.data, p._refcount, p._mapcount, exclusive, p.mapping if anon else None, p.index, p.memcg)
        was = get(p)
        if was is None or was[0] != source:
            was = (source, PageSnap(
                page_id(pfn), pfn, p.kind, p.data, p._refcount, p._mapcount + 1,
                p._refcount // GUP_PIN_COUNTING_BIAS, p._refcount >= GUP_PIN_COUNTING_BIAS, exclusive,
                anon_vma_id(p.mapping) if anon else None, p.index,
                memcg_id(p.memcg) if p.memcg is not None else None))
        kept[p] = was
        pages.append(was[1])
    anon_vmas = []
    for av in sorted(k.anon_vmas.values(), key=_av_id):
        vmas = tuple([avc.vma for avc in av.rb_root])
        source = (av.root, av.parent, av.refcount, av.num_children, av.num_active_vmas, av.degree, vmas,
                  tuple([(v.vm_mm.owner, v.name) for v in vmas]))
        was = get(av)
        if was is None or was[0] != source:
            was = (source, AnonVmaSnap(
                anon_vma_id(av), anon_vma_id(av.root), anon_vma_id(av.parent), av.refcount,
                av.num_children, av.num_active_vmas, av.degree, tuple(vma_id(v) for v in vmas)))
        kept[av] = was
        anon_vmas.append(was[1])
    anon_vmas = tuple(anon_vmas)
    memcgs = tuple(
        MemcgSnap(memcg_id(m), m.name, m.usage, m.limit,
                  tuple(task_id(t.name) for t in k.tasks.values() if t.memcg is m))
        for m in k.memcgs.values()
        if m.usage or m.limit is not None or any(t.memcg is m for t in k.tasks.values()))
    if reuse is not None:
        reuse.clear()
        reuse.update(kept)
    return Snapshot(facts.id, tasks, tuple(mms), tuple(pages), anon_vmas, tuple(holders), memcgs,
                    k.fail_alloc, facts)


def _av_id(av) -> int:
    return av.id


def _ref_snaps(refs: tuple) -> tuple:
    """The references as RefSnaps; alike references (gup ... x2048) share one."""
    made: dict = {}
    out = []
    for r in refs:
        key = (r.page.pfn, r.flags, r.task, r.vma, r.index)
        snap = made.get(key)
        if snap is None:
            snap = made[key] = RefSnap(page_id(r.page.pfn), bool(r.flags & FOLL_PIN), bool(r.flags & FOLL_WRITE),
                                       bool(r.flags & FOLL_LONGTERM), r.task, r.vma, r.index)
        out.append(snap)
    return tuple(out)


def _pte_json(p: Pte | None):
    return None if p is None else {"pfn": p.pfn, "write": p.write, "dirty": p.dirty, "special": p.special}


def to_json(s: Snapshot) -> dict:
    """The snapshot as plain JSON-ready data (see the module docstring)."""
    vmas = {}
    for mm in s.mms:
        for v in mm.vmas:
            vmas[v.id] = {"mm": v.mm, "name": v.name, "vm_start": v.vm_start, "vm_end": v.vm_end,
                          "vm_pgoff": v.vm_pgoff, "flags": list(v.flags), "prot": v.prot,
                          "shared": v.shared, "anon_vma": v.anon_vma,
                          "anon_vma_chain": list(v.anon_vma_chain), "file": v.file,
                          "ptes": [_pte_json(p) for p in v.ptes]}
    return {
        "era": s.era,
        "tasks": {task_id(t.name): {"name": t.name, "mm": t.mm} for t in s.tasks},
        "mms": {m.id: {"owner": m.owner, "users": list(m.users), "map_count": m.map_count,
                       "has_pinned": m.has_pinned, "has_pinned_name": m.has_pinned_name,
                       "memcg": m.memcg, "vmas": [v.id for v in m.vmas]} for m in s.mms},
        "vmas": vmas,
        "pages": {p.id: p._asdict() for p in s.pages},
        "anon_vmas": {a.id: {**a._asdict(), "vmas": list(a.vmas)} for a in s.anon_vmas},
        "holders": {h.id: {"name": h.name, "kind": h.kind, "refs": [r._asdict() for r in h.refs]}
                    for h in s.holders},
        "memcgs": {m.id: {"name": m.name, "usage": m.usage, "limit": m.limit, "tasks": list(m.tasks)}
                   for m in s.memcgs},
        "fail_alloc": s.fail_alloc,
    }
