"""Object ids: the one place that builds and parses them.

Every layer names kernel objects by these ids: the engine's events and snapshots,
the diagram's nodes, the inspector, the wire format and the page (static/js/ids.js
reads them the same way; a test holds the two to one grammar).

    task:P          a task                  mm:P          the mm P created
    vma:P:buf       a VMA of mm:P           pte:P:buf:3   one PTE (pte:P:buf:0-7 is a run)
    page:7          the page with pfn 7     page:8-15     a run of pages drawn as one node
    page:0          the shared zero page    anon_vma:2    an anon_vma
    holder:nic      a device or a pipe      memcg:P       the memcg P started in
    box:mm:P        the diagram's box around an object (a process, a VMA table)
    TAIL>HEAD:kind  a diagram edge (`:kind` when two ends may be linked in more than one way)

Names never hold a colon (the command language allows letters, digits, `_`, `.`, `-`),
so a colon always separates fields.  tests/test_ids.py fails on an id built or
sliced anywhere else in cowviz/ or static/js/.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

# The object kinds, in the canonical order of sort_key (and of the diagram's node list).
KINDS = ("task", "mm", "vma", "pte", "holder", "page", "anon_vma", "memcg")

# ASCII digits, and few enough that int() is cheap on whatever a client sends.
_NUM = r"([0-9]{1,18})"
_SPAN = rf"{_NUM}(?:-{_NUM})?"
_FIELD = r"([^:]+)"
_GRAMMAR = {
    "task": re.compile(rf"task:{_FIELD}\Z"),
    "mm": re.compile(rf"mm:{_FIELD}\Z"),
    "vma": re.compile(rf"vma:{_FIELD}:{_FIELD}\Z"),
    "pte": re.compile(rf"pte:{_FIELD}:{_FIELD}:{_SPAN}\Z"),
    "holder": re.compile(rf"holder:{_FIELD}\Z"),
    "page": re.compile(rf"page:{_SPAN}\Z"),
    "anon_vma": re.compile(rf"anon_vma:{_NUM}\Z"),
    "memcg": re.compile(rf"memcg:{_FIELD}\Z"),
}


# -- builders ------------------------------------------------------------------------------

def span(first: int, last: int | None = None) -> str:
    """`3` for one index or pfn, `0-7` for a run (inclusive)."""
    return f"{first}" if last is None or last == first else f"{first}-{last}"


def task(name: str) -> str:
    return f"task:{name}"


def mm(owner: str) -> str:
    return f"mm:{owner}"


def vma(owner: str, name: str) -> str:
    return f"vma:{owner}:{name}"


def pte(owner: str, vma_name: str, first: int, last: int | None = None) -> str:
    """PTE `first` of the VMA, or the run first..last (inclusive)."""
    return f"pte:{owner}:{vma_name}:{span(first, last)}"


def pte_in(vma_id: str, first: int, last: int | None = None) -> str:
    """The PTE (or run of PTEs) of the VMA with this id."""
    owner, name = parse_vma(vma_id)
    return pte(owner, name, first, last)


def page(pfn: int, last: int | None = None) -> str:
    """`page:7`, or `page:8-15` for a run of pages."""
    return f"page:{span(pfn, last)}"


def anon_vma(number: int) -> str:
    return f"anon_vma:{number}"


def holder(name: str) -> str:
    return f"holder:{name}"


def memcg(name: str) -> str:
    return f"memcg:{name}"


def box(obj_id: str) -> str:
    """The diagram's box around an object: `box:mm:P`, `box:vma:P:buf`."""
    return f"box:{obj_id}"


def edge(tail: str, head: str, kind: str | None = None) -> str:
    """`TAIL>HEAD`, or `TAIL>HEAD:kind` when two ends may be linked in more than one way."""
    return f"{tail}>{head}" + (f":{kind}" if kind else "")


# -- parsers -------------------------------------------------------------------------------

class ObjId(NamedTuple):
    """An id taken apart.  `owner` is the process (task, mm, VMA, PTE, memcg); `name` what the
    id names within it (a task's, VMA's, holder's or memcg's name, an mm's owner, an anon_vma's
    number); `first`/`last` a PTE's indices or a page's pfns."""
    kind: str
    owner: str | None = None
    name: str | None = None
    first: int | None = None
    last: int | None = None

    @property
    def span(self) -> str:
        return span(self.first, self.last)


class PteRange(NamedTuple):
    """PTEs first..last (inclusive) of VMA `vma` of mm `owner`."""
    owner: str
    vma: str
    first: int
    last: int

    def overlaps(self, other: "PteRange") -> bool:
        return (self.owner, self.vma) == (other.owner, other.vma) and \
            self.first <= other.last and other.first <= self.last


def kind(obj_id: str) -> str:
    """The kind an id names (`page` for `page:7`), or "" for a string with no kind."""
    k, colon, _ = str(obj_id).partition(":")
    return k if colon else ""


def parse(obj_id: str) -> ObjId | None:
    """The parts of any object id; None when it is not one."""
    return _parse(obj_id) if type(obj_id) is str else _parse.__wrapped__(obj_id)


@lru_cache(maxsize=4096)          # the diagram asks for the same ids at every step
def _parse(obj_id: str) -> ObjId | None:
    k = kind(obj_id)
    m = _GRAMMAR[k].match(obj_id) if k in _GRAMMAR else None
    if m is None:
        return None
    g = m.groups()
    if k in ("task", "holder"):
        return ObjId(k, g[0] if k == "task" else None, g[0])
    if k in ("mm", "memcg"):
        return ObjId(k, g[0], g[0])
    if k == "vma":
        return ObjId(k, g[0], g[1])
    if k == "pte":
        first = int(g[2])
        last = int(g[3]) if g[3] is not None else first
        return ObjId(k, g[0], g[1], first, last)
    if k == "page":
        first = int(g[0])
        return ObjId(k, None, None, first, int(g[1]) if g[1] is not None else first)
    return ObjId(k, None, g[0])                      # anon_vma


def name(obj_id: str) -> str:
    """What the id names, as it spells it: `P` for task:P or mm:P, `buf` for vma:P:buf, `7` for
    page:7, `0-7` for pte:P:buf:0-7, `2` for anon_vma:2."""
    p = _must(obj_id)
    return p.span if p.kind in ("pte", "page") else p.name


def owner(obj_id: str) -> str | None:
    """The process an object belongs to (task, mm, VMA, PTE, memcg); None for the others."""
    return _must(obj_id).owner


def pfn(obj_id: str) -> int | None:
    """The pfn of one page's id (`7` for page:7); None for any other id, a run of pages included."""
    p = parse(obj_id)
    return p.first if p is not None and p.kind == "page" and p.first == p.last else None


def parse_vma(obj_id: str) -> tuple[str, str]:
    """(owner, name) of `vma:P:buf`."""
    p = parse(obj_id)
    if p is None or p.kind != "vma":
        raise ValueError(f"not a VMA id: {obj_id!r}")
    return p.owner, p.name


def vma_of(pte_id: str) -> str:
    """The VMA a PTE (or run of PTEs) belongs to: `vma:P:buf` for `pte:P:buf:3`."""
    r = parse_pte(pte_id)
    if r is None:
        raise ValueError(f"not a PTE id: {pte_id!r}")
    return vma(r.owner, r.vma)


def parse_pte(obj_id: str) -> PteRange | None:
    """The PTE range of `pte:P:buf:3` or `pte:P:buf:0-7`; None for other ids."""
    p = parse(obj_id)
    if p is None or p.kind != "pte":
        return None
    return PteRange(p.owner, p.name, min(p.first, p.last), max(p.first, p.last))


def parse_page(obj_id: str) -> tuple[int, int] | None:
    """The pfn range of `page:7` or `page:8-15`; None for other ids."""
    p = parse(obj_id)
    return (p.first, p.last) if p is not None and p.kind == "page" else None


def parse_expanded(id_list) -> tuple[PteRange, ...]:
    """The PTE ranges an `expanded=` list asks to draw in full.  Raises ValueError on a bad id."""
    out = []
    for obj_id in id_list:
        r = parse_pte(obj_id)
        if r is None:
            p = parse(obj_id)
            if p is None or p.kind != "vma":
                raise ValueError(f"cannot expand '{obj_id}': give a PTE row id such as pte:P:buf:0-7 "
                                 f"or a VMA id such as vma:P:buf")
            r = PteRange(p.owner, p.name, 0, 1 << 62)
        out.append(r)
    return tuple(out)


def boxed(box_id: str) -> str:
    """The object a box id is drawn around: `mm:P` for `box:mm:P`."""
    k, colon, rest = box_id.partition(":")
    if k != "box" or not colon:
        raise ValueError(f"not a box id: {box_id!r}")
    return rest


def _natural(text: str) -> tuple:
    """Split digits out so that `buf:10` sorts after `buf:9`."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


@lru_cache(maxsize=4096)
def sort_key(obj_id: str) -> tuple:
    """A total order on node ids: by kind, then naturally by the rest."""
    k, _, rest = obj_id.partition(":")
    rank = KINDS.index(k) if k in KINDS else len(KINDS)
    return (rank, _natural(rest))


def _must(obj_id: str) -> ObjId:
    p = parse(obj_id)
    if p is None:
        raise ValueError(f"not an object id: {obj_id!r}")
    return p
