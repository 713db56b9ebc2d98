"""Level of detail: which PTEs share a row and which pages share a node.

A VMA of up to FULL_ROWS pages draws every PTE as its own row, so tutorial
diagrams keep one id per PTE from step to step.  A bigger VMA is drawn as
runs of alike PTEs, and the pages those runs map become page runs, so a
1 GiB mapping costs a handful of nodes instead of 262,144.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import compress, repeat
from operator import add, attrgetter, ne
from typing import NamedTuple

from ..mm.snapshot import IdentityMemo
from ..mm.types import Pte
from .. import ids
from ..ids import PteRange

FULL_ROWS = 16       # VMAs up to this many pages draw one row per PTE


class Row(NamedTuple):
    """PTEs first..last of one VMA, drawn as one row; `pte` is the first one (None: not present)."""
    first: int
    last: int
    pte: object
    pfn_first: int | None
    pfn_last: int | None

    @property
    def count(self) -> int:
        return self.last - self.first + 1


class Plan:
    """The rows of every VMA and the runs of pages they imply."""

    def __init__(self, rows: dict, page_runs: dict):
        self.rows = rows                  # vma id -> list[Row], in index order
        self.page_runs = page_runs        # first pfn -> last pfn of each run of pages drawn as one node
        self._starts = sorted(page_runs)

    def page_node(self, pfn: int) -> tuple[int, int]:
        """The pfn range of the node that draws page `pfn`."""
        i = bisect_right(self._starts, pfn) - 1
        if i >= 0 and pfn <= self.page_runs[self._starts[i]]:
            return self._starts[i], self.page_runs[self._starts[i]]
        return pfn, pfn


# What must be equal for two pages to share a node (their data may differ).
page_signature = attrgetter("kind", "refcount", "mapcount", "maybe_pinned", "exclusive", "anon_vma", "memcg")

# The hot loop below reads pte_t fields by position, for speed.
if Pte._fields[:4] != ("pfn", "write", "dirty", "special"):
    raise ImportError("cowviz.diagram.lod expects Pte(pfn, write, dirty, special, ...)")


def page_breaks(snapshot) -> set:
    """Pfns whose page may not join a run with the page just below it."""
    pages = snapshot.pages
    sigs = list(map(page_signature, pages))
    pfns = list(map(attrgetter("pfn"), pages))
    # A page starts a new run when its counts differ from the page below, when
    # the pfns are not consecutive, and around every page a holder references
    # (so the holder's edge points at exactly that page).
    breaks = set(compress(pfns[1:], map(ne, sigs[1:], sigs[:-1])))
    breaks.update(compress(pfns[1:], map(ne, pfns[1:], map(add, pfns[:-1], repeat(1)))))
    for h in snapshot.holders:
        for r in h.refs:
            pfn = ids.pfn(r.page)
            breaks.update((pfn, pfn + 1))
    return breaks


def plan(snapshot, expanded: tuple[PteRange, ...] = ()) -> Plan:
    """Split every VMA into rows and group the pages the rows map."""
    breaks = None
    rows = {}
    for mm in snapshot.mms:
        for vma in mm.vmas:
            if len(vma.ptes) <= FULL_ROWS:
                rows[vma.id] = _singles(vma.ptes)
                continue
            if breaks is None:
                breaks = page_breaks(snapshot)
            owner, name = ids.parse_vma(vma.id)
            singles = set()
            for r in expanded:
                if r.owner == owner and r.vma == name:
                    singles.update(range(r.first, min(r.last, len(vma.ptes) - 1) + 1))
            rows[vma.id] = _runs(vma.ptes, breaks, singles)
    if breaks is None:
        return Plan(rows, {})             # every row is one PTE: no runs of pages
    # Every run of pages must be mapped whole by every row that maps any of
    # it, so split rows wherever another row's pfn range starts or ends.
    bounds = sorted({b for rs in rows.values() for r in rs if _normal(r)
                     for b in (r.pfn_first, r.pfn_last + 1)})
    page_runs = {}
    for vma_id, rs in rows.items():
        if any(r.count > 1 and _normal(r) for r in rs):
            rows[vma_id] = rs = [piece for r in rs for piece in _split(r, bounds)]
        for r in rs:
            if r.count > 1 and _normal(r):
                page_runs[r.pfn_first] = r.pfn_last
    return Plan(rows, page_runs)


def _normal(r: Row) -> bool:
    return r.pte is not None and not r.pte.special


# One row per PTE (a small VMA); a snapshot keeps an unchanged VMA's page table, so its rows are made once.
_singles = IdentityMemo(4096, lambda ptes: tuple(
    Row(i, i, pte, pte.pfn if pte is not None else None, pte.pfn if pte is not None else None)
    for i, pte in enumerate(ptes)))


def _runs(ptes, breaks: set, singles: set) -> list[Row]:
    """Cut a page table into runs of alike PTEs (one pass: the hot loop for big VMAs)."""
    out = []
    start = 0
    prev = ptes[0]
    for i in range(1, len(ptes)):
        pte = ptes[i]
        if pte is None or prev is None:
            alike = pte is prev
        elif pte[3]:                       # the zero page: same pfn, same bits
            alike = pte == prev
        else:
            alike = (pte[0] == prev[0] + 1 and pte[1] == prev[1] and pte[2] == prev[2]
                     and not prev[3] and pte[0] not in breaks)
        if not alike or (singles and (i in singles or i - 1 in singles)):
            out.append(_row(ptes, start, i - 1))
            start = i
        prev = pte
    out.append(_row(ptes, start, len(ptes) - 1))
    return out


def _row(ptes, first: int, last: int) -> Row:
    a, b = ptes[first], ptes[last]
    return Row(first, last, a, a.pfn if a is not None else None, b.pfn if b is not None else None)


def _split(r: Row, bounds: list) -> list[Row]:
    """Cut a run of normal pages at every pfn in `bounds` that falls inside it."""
    if r.count == 1 or not _normal(r):
        return [r]
    lo = bisect_right(bounds, r.pfn_first)
    hi = bisect_left(bounds, r.pfn_last + 1)
    cuts = bounds[lo:hi]
    if not cuts:
        return [r]
    out = []
    first, pfn = r.first, r.pfn_first
    for c in cuts + [r.pfn_last + 1]:
        last = first + (c - pfn) - 1
        out.append(Row(first, last, r.pte if first == r.first else r.pte._replace(pfn=pfn),
                       pfn, c - 1))
        first, pfn = last + 1, c
    return out
