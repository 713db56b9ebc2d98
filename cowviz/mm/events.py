"""Events: every change of state, named after the kernel function that made it.

An event carries what a function did as facts (`what`, `facts`, the
`decisions` taken), the sentence narration.py makes of them, an optional `tag`
saying what kind of change it was (the diagram highlights by tag) and the ids
of the objects it touched.  Object ids are the same everywhere (snapshots, diagrams, the
browser); cowviz/ids.py builds and parses them, and the helpers below only
hand it the fields of an engine object.
"""
from __future__ import annotations

from typing import NamedTuple

from .. import ids
# What a change was, for highlighting: the tags and their meanings are declared once, with how
# every layer shows them, in cowviz/mm/tags.py.  Narration does not depend on them.
from .tags import TAGS  # noqa: F401  (Event.tag is one of TAGS)


class Decision(NamedTuple):
    """A test the kernel made at one of its decision points, as data (no display text).

    `fn` is the function the test is written in, `line` the id of that test in
    the function's pseudocode (cowviz/eras/code/, where the words live), `seen`
    the values it looked at as (name, value) pairs, `answer` what it answered.
    """
    fn: str
    line: str
    seen: tuple = ()
    answer: bool | None = None


class Verdict:
    """A yes/no answer of an era that also says which test gave it (a tuple of Decisions).

    It is true or false like the plain answer, so `if era.fork_must_copy_page(...)` reads as before.
    """
    __slots__ = ("answer", "decisions")

    def __init__(self, answer: bool, *decisions: Decision):
        self.answer = bool(answer)
        self.decisions = decisions

    def __bool__(self) -> bool:
        return self.answer

    def __repr__(self) -> str:
        return f"Verdict({self.answer}, {self.decisions})"


def facts(x) -> tuple:
    """The Decisions behind an era's answer (none for a plain bool)."""
    return x.decisions if isinstance(x, Verdict) else ()


class Event(NamedTuple):
    fn: str                 # the kernel function that acted, e.g. "copy_present_page"
    text: str               # one sentence for the narration (made by narration.py from the facts)
    tag: str | None = None  # one of TAGS, or None
    objs: tuple = ()        # ids of the objects it touched
    decisions: tuple = ()   # the Decisions that led to it, in the order they were made
    what: str = ""          # what the function did: a key of narration.WORDS
    facts: tuple = ()       # (name, value) pairs: counters before and after, pfns, names


def page_id(pfn: int) -> str:
    return ids.page(pfn)


def mm_id(mm) -> str:
    return ids.mm(mm.owner)


def vma_id(vma) -> str:
    return ids.vma(vma.vm_mm.owner, vma.name)


def pte_id(vma, i: int, j: int | None = None) -> str:
    """The id of PTE i of the VMA, or of the run i..j (inclusive)."""
    return ids.pte(vma.vm_mm.owner, vma.name, i, j)


def anon_vma_id(av) -> str:
    return ids.anon_vma(av.id)


def holder_id(holder) -> str:
    return ids.holder(holder.name)


def task_id(name: str) -> str:
    return ids.task(name)


def memcg_id(memcg) -> str:
    return ids.memcg(memcg.name)


def index_range(first: int, last: int) -> str:
    """How narration writes a run of page indices: `[3]` or `[0-7]`."""
    return f"[{first}]" if first == last else f"[{first}-{last}]"
