"""The words of the events: every event's sentence is made here, from the facts it carries.

The kernel functions of the model change state and report what they did as
facts (which objects, counters before and after, the decision taken); this
module turns those facts into the one sentence a learner reads.  Nothing else
writes event text, so a wording is changed in one place, and the facts stay
available to whoever wants them without parsing a sentence.

(The author's own words for a step, `say:`, are cowviz/scenario/narration.py.)
"""
from __future__ import annotations


def wp_why(pfn: int, line: str, reuse: bool, seen: dict) -> str:
    """Why do_wp_page() reused or copied page `pfn`: the era's test (`line`) and what it saw."""
    if line == "reuse_swap_page":
        m, c = seen["mapcount"], seen["refcount"]
        if reuse:
            unseen = f" (its refcount of {c} is not looked at)" if c > 1 else ""
            return f"page {pfn} has mapcount {m}: no other process maps it, so it is reused{unseen}."
        return f"page {pfn} has mapcount {m}: another process maps it too, so it is copied."
    if line == "page_count":
        if reuse:
            return f"page {pfn} has page_count 1: nobody else holds a reference, so it is reused."
        return (f"page {pfn} has page_count {seen['refcount']}, not 1: someone else may hold it "
                f"(a mapping, a GUP reference or a pin), so it is copied.")
    if line == "exclusive":
        return (f"page {pfn} is marked exclusive: it is this process's alone, so it is reused "
                f"without looking at any counter.")
    if line == "refcount":
        if reuse:
            return (f"page {pfn} is not marked exclusive, but its refcount is 1: nobody else holds it, "
                    f"so it becomes exclusive and is reused.")
        return (f"page {pfn} is not exclusive and its refcount is {seen['refcount']}: someone else may "
                f"hold it, so it is copied.")
    raise ValueError(f"no words for do_wp_page's test {line!r}")


def fork_copy_why(pfn: int, refcount: int, decider: str, line: str, flag: str | None) -> str:
    """Why fork copies page `pfn` for the child now: the test (`line`) of `decider` that said so."""
    if line == "needs_cow_for_dma":
        return (f"Page {pfn} is exclusive and may be DMA-pinned (refcount {refcount}): "
                f"{decider}() refuses to share it (-EBUSY), so the child must get a copy now.")
    return (f"Page {pfn} may be DMA-pinned ({flag} is set, refcount {refcount}): "
            f"{decider}() must give the child a copy now.")
