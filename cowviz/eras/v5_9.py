"""Era 5.9: Linux 5.9 to 5.18: fork() copies maybe-pinned pages for the child at once."""
from __future__ import annotations

from ..mm.events import Decision
from ..mm.types import Page, Vma, is_cow_mapping, page_count, page_maybe_dma_pinned
from ..mm.events import Verdict
from .v5_9_rc import Era59rc


class Era59(Era59rc):
    """Linux 5.9 to 5.18: fork() copies maybe-pinned pages for the child at once.

    008cfe4418b3 "mm: Introduce mm_struct.has_pinned" (set on the first
    FOLL_PIN, cleared only in mm_init(), so ordinary processes never pay),
    7a4830c380f3 "mm/fork: Pass new vma pointer into copy_page_range()" (the
    copy is filed under the child's VMA and anon_vma) and 70e806e4e645 "mm: Do
    early cow for pinned pages during fork() for ptes": when the mm has pinned
    and page_maybe_dma_pinned() says so, copy_present_page() gives the child a
    copy, preallocated outside the page-table locks and charged to the
    parent's memcg, and leaves the parent's PTE writable.  fork() fails with
    ENOMEM when the copy cannot be had.  Later in this era: a4d63c3732f1 (flag
    set on the right mm), 57efa1fe5957 (5.11, write_protect_seq closes the
    race with a GUP-fast pin taken while fork checks the page), a458b76a4171
    (5.14, the flag becomes MMF_HAS_PINNED).
    """
    id = "5.9"
    title = "5.9: has_pinned and early copy at fork"
    kernels = "Linux 5.9 - 5.18"
    names_at = "5.9"
    summary = "mm->has_pinned plus early copy of maybe-pinned pages at fork; parent keeps its page writable"
    commits = (("008cfe4418b3", "mm: Introduce mm_struct.has_pinned"),
               ("7a4830c380f3", "mm/fork: Pass new vma pointer into copy_page_range()"),
               ("70e806e4e645", "mm: Do early cow for pinned pages during fork() for ptes"),
               ("d042035eaf5f", "mm/thp: Split huge pmds/puds if they're pinned when fork()"))
    has_pinned_flag = "has_pinned"

    # do_wp_page() is 5.9-rc's page_count() rule: the 2020-09-27 series
    # changed fork (copy early) rather than the write fault.
    wp_can_reuse_anon_page = Era59rc.wp_can_reuse_anon_page

    def pin_sets_mm_flag(self) -> bool:
        # 008cfe4418b3: the first FOLL_PIN sets mm->has_pinned, never cleared.
        return True

    def fork_must_copy_page(self, src_vma: Vma, page: Page) -> Verdict:
        # v5.9.1 mm/memory.c copy_present_page(): COW mapping, then
        # mm->has_pinned, then page_maybe_dma_pinned(), in that order.  (It
        # does not write-protect the parent's PTE first: the race with
        # GUP-fast that leaves open was closed in 5.11 by 57efa1fe5957.)
        fn = "copy_present_page"
        if not is_cow_mapping(src_vma.vm_flags):
            return Verdict(False, Decision(fn, "cow_mapping", (("cow", False),), False))
        if not src_vma.vm_mm.has_pinned:
            return Verdict(False, Decision(fn, "has_pinned", (("has_pinned", False),), False))
        maybe = page_maybe_dma_pinned(page)
        return Verdict(maybe, Decision(fn, "maybe_pinned", (("has_pinned", True), ("pinned", maybe),
                                                           ("refcount", page_count(page))), maybe))
