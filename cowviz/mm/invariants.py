"""Invariants, recomputed from the page tables and holders; checked after every step.

    mapcount   = present PTEs that map the page
    refcount   = mappings + FOLL_GET references + 1024 per pin + pipe references
                 (+ 1 for a shmem page the page cache holds)
    a private page mapped by two mms is writable in neither
    the rmap walk from a page's anon_vma finds every PTE that maps it
    memcg usage = pages charged to it
    anon_vma counters match the VMAs and children that use them
    5.19+: a pinned, mapped anonymous page is exclusive; an exclusive page has one mapper
"""
from __future__ import annotations

from collections import Counter, defaultdict
from operator import attrgetter

from .rmap import rmap_walk
from .types import FOLL_PIN, GUP_PIN_COUNTING_BIAS, PageAnon


class InvariantError(AssertionError):
    """A broken invariant: the model itself is wrong."""


_page_and_flags = attrgetter("page", "flags")


def _ref_counts(h) -> Counter:
    """(page, flags) -> how many of the holder's references are alike; counted again only when its
    references are not the very same ones as last time (a GupRef never changes once taken).  The
    count is kept on the holder (Holder.counted), so it goes when the holder goes."""
    refs = tuple(h.refs)
    if h.counted is None or h.counted[0] != refs:
        h.counted = (refs, Counter(map(_page_and_flags, refs)))
    return h.counted[1]


def check_invariants(k) -> list[str]:
    """Every broken invariant of kernel `k`, as sentences (empty when all hold)."""
    problems = []
    mappers = defaultdict(list)          # pfn -> [(mm, vma, i, pte)]
    for mm in k.live_mms():
        for vma in mm.mmap.values():
            for i, pte in enumerate(vma.ptes):
                if pte is not None and not pte.special:
                    mappers[pte.pfn].append((mm, vma, i, pte))
    gets, pins = Counter(), Counter()
    for h in k.holders.values():
        # Alike references (gup ... x2048) are counted together: one look at each page.
        for (page, flags), n in _ref_counts(h).items():
            if page.kind == "zero":
                continue
            if page.pfn not in k.pages or k.pages[page.pfn] is not page:
                problems.append(f"{h.name} holds page {page.pfn}, which was freed")
            (pins if flags & FOLL_PIN else gets)[page.pfn] += n
    for pfn, page in k.pages.items():
        maps = mappers.get(pfn, [])
        if page._mapcount + 1 != len(maps):
            problems.append(f"page {pfn}: mapcount {page._mapcount + 1}, but {len(maps)} PTEs map it")
        cache = 1 if page.kind == "shmem" and page.mapping is not None else 0
        expect = len(maps) + gets[pfn] + GUP_PIN_COUNTING_BIAS * pins[pfn] + cache
        if page._refcount != expect:
            problems.append(f"page {pfn}: refcount {page._refcount}, but mappings {len(maps)} + GUP "
                            f"references {gets[pfn]} + 1024 x pins {pins[pfn]} + page cache {cache} = {expect}")
        if page._refcount <= 0:
            problems.append(f"page {pfn} is live with refcount {page._refcount}")
        if PageAnon(page):
            mms = {id(m[0]) for m in maps}
            if len(mms) > 1 and any(m[3].write for m in maps):
                problems.append(f"page {pfn} is private, mapped by {len(mms)} mms, and writable in one")
            found = {(id(v), i) for v, i in rmap_walk(k, page)}
            for mm, vma, i, _ in maps:
                if (id(vma), i) not in found:
                    problems.append(f"page {pfn}: the rmap walk from anon_vma {page.mapping.id} "
                                    f"does not find {vma.label(i)}")
            if page.mapping.id not in k.anon_vmas and maps:
                problems.append(f"page {pfn} is mapped but its anon_vma {page.mapping.id} was freed")
            # (Before 5.19 no page is ever marked exclusive.)
            if page.anon_exclusive and len(maps) > 1:
                problems.append(f"page {pfn} is marked exclusive but {len(maps)} PTEs map it")
            # Where new pages are exclusive, GUP pins only exclusive pages.
            if pins[pfn] and maps and not page.anon_exclusive and k.era.new_anon_page_exclusive():
                problems.append(f"page {pfn} is pinned and mapped but not exclusive")
    usage = Counter(id(p.memcg) for p in k.pages.values() if p.memcg is not None)
    for m in k.memcgs.values():
        if m.usage != usage[id(m)]:
            problems.append(f"memcg {m.name}: usage {m.usage}, but {usage[id(m)]} pages are charged to it")
        if m.limit is not None and m.usage > m.limit:
            problems.append(f"memcg {m.name}: usage {m.usage} is over its limit {m.limit}")
    problems += _check_anon_vmas(k)
    return problems


def _check_anon_vmas(k) -> list[str]:
    problems = []
    active, children = Counter(), Counter()
    for mm in k.live_mms():
        for vma in mm.mmap.values():
            if vma.anon_vma is not None:
                active[vma.anon_vma.id] += 1
                if vma.anon_vma.id not in k.anon_vmas:
                    problems.append(f"{vma.label()} uses anon_vma {vma.anon_vma.id}, which was freed")
            for avc in vma.anon_vma_chain:
                if avc not in avc.anon_vma.rb_root:
                    problems.append(f"{vma.label()}: a chain link missing from anon_vma {avc.anon_vma.id}")
    for av in k.anon_vmas.values():
        children[av.parent.id] += 1       # the root counts itself as its own parent
    for av in k.anon_vmas.values():
        if av.num_active_vmas != active[av.id]:
            problems.append(f"anon_vma {av.id}: num_active_vmas {av.num_active_vmas}, but "
                            f"{active[av.id]} VMAs use it")
        if av.num_children != children[av.id]:
            problems.append(f"anon_vma {av.id}: num_children {av.num_children}, but it has "
                            f"{children[av.id]}")
    return problems
