"""Object ids as the diagram reads them: parsing, PTE/page ranges, and a canonical sort order.

Ids are those of cowviz/mm/events.py.  The diagram adds two forms of its own,
built the same way: a page run `page:8-15` (pages drawn as one node) and an
edge id `TAIL>HEAD` with an optional `:kind` suffix.
"""
from __future__ import annotations

import re
from typing import NamedTuple

_PTE = re.compile(r"pte:([^:]+):([^:]+):(\d+)(?:-(\d+))?\Z")
_PAGE = re.compile(r"page:(\d+)(?:-(\d+))?\Z")
_VMA = re.compile(r"vma:([^:]+):([^:]+)\Z")

KIND_ORDER = ("task", "mm", "vma", "pte", "holder", "page", "anon_vma", "memcg")


class PteRange(NamedTuple):
    """PTEs first..last (inclusive) of VMA `vma` of mm `owner`."""
    owner: str
    vma: str
    first: int
    last: int

    def overlaps(self, other: "PteRange") -> bool:
        return (self.owner, self.vma) == (other.owner, other.vma) and \
            self.first <= other.last and other.first <= self.last


def pte_node_id(vma_id: str, first: int, last: int) -> str:
    """`pte:P:buf:3` for one PTE, `pte:P:buf:4-11` for a run."""
    base = "pte:" + vma_id[4:] + f":{first}"
    return base if first == last else f"{base}-{last}"


def page_node_id(first: int, last: int) -> str:
    """`page:7` for one page, `page:8-15` for a run of pages."""
    return f"page:{first}" if first == last else f"page:{first}-{last}"


def parse_pte(obj_id: str) -> PteRange | None:
    """The PTE range of `pte:P:buf:3` or `pte:P:buf:0-7`; None for other ids."""
    m = _PTE.match(obj_id)
    if not m:
        return None
    first = int(m.group(3))
    last = int(m.group(4)) if m.group(4) is not None else first
    return PteRange(m.group(1), m.group(2), min(first, last), max(first, last))


def parse_page(obj_id: str) -> tuple[int, int] | None:
    """The pfn range of `page:7` or `page:8-15`; None for other ids."""
    m = _PAGE.match(obj_id)
    if not m:
        return None
    first = int(m.group(1))
    return first, int(m.group(2)) if m.group(2) is not None else first


def parse_expanded(ids) -> tuple[PteRange, ...]:
    """The PTE ranges an `expanded=` list asks to draw in full.  Raises ValueError on a bad id."""
    out = []
    for obj_id in ids:
        r = parse_pte(obj_id)
        if r is None:
            m = _VMA.match(obj_id)
            if not m:
                raise ValueError(f"cannot expand '{obj_id}': give a PTE row id such as pte:P:buf:0-7 "
                                 f"or a VMA id such as vma:P:buf")
            r = PteRange(m.group(1), m.group(2), 0, 1 << 62)
        out.append(r)
    return tuple(out)


def _natural(text: str) -> tuple:
    """Split digits out so that `buf:10` sorts after `buf:9`."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def sort_key(obj_id: str) -> tuple:
    """A total order on node ids: by kind, then naturally by the rest."""
    kind, _, rest = obj_id.partition(":")
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return (rank, _natural(rest))


def edge_id(tail: str, head: str, kind: str | None = None) -> str:
    """`TAIL>HEAD`, or `TAIL>HEAD:kind` when two ends may be linked in more than one way."""
    return f"{tail}>{head}" + (f":{kind}" if kind else "")
