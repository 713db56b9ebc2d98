"""Era 6.x: Linux 5.19 and 6.x: exclusive anonymous pages."""
from __future__ import annotations

from ..mm.types import (FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE, Page, PageAnon, PageAnonExclusive,
                        Pte, Vma, is_cow_mapping, page_count, page_maybe_dma_pinned)
from .base import WpDecision
from .v5_9 import Era59


class Era6x(Era59):
    """Linux 5.19 and 6.x: exclusive anonymous pages.

    6c287605fd56 "mm: remember exclusively mapped anonymous pages with
    PG_anon_exclusive": a new anonymous page is exclusive; fork clears the bit
    (fb3d824d1a46, page_try_dup_anon_rmap()) unless the page may be pinned, in
    which case it copies it as 5.9 did; a write fault reuses an exclusive page
    without looking at any counter, and a non-exclusive one whose refcount is
    1.  GUP may pin only exclusive pages: a read-only pin of a possibly shared
    page first triggers an unshare fault (c89357e27f20 FAULT_FLAG_UNSHARE,
    a7f226604170; 84209e87c696 in 6.2 extends it to the zero page for
    long-term pins).  The pinned flag is the MMF_HAS_PINNED bit (a458b76a4171),
    and anon_vma reuse counts children and VMAs apart (2555283eb40d).
    mprotect(PROT_WRITE) makes PTEs of exclusive pages writable at once.
    """
    id = "6.x"
    title = "6.x: exclusive anonymous pages"
    kernels = "Linux 5.19 - 6.x"
    summary = "PageAnonExclusive: reuse exclusive pages, copy pinned ones at fork, unshare before R/O pins"
    commits = (("6c287605fd56", "mm: remember exclusively mapped anonymous pages with PG_anon_exclusive"),
               ("fb3d824d1a46", "mm/rmap: split page_dup_rmap() into page_dup_file_rmap() and page_try_dup_anon_rmap()"),
               ("c89357e27f20", "mm: support GUP-triggered unsharing of anonymous pages"),
               ("a7f226604170", "mm/gup: trigger FAULT_FLAG_UNSHARE when R/O-pinning a possibly shared anonymous page"),
               ("84209e87c696", "mm/gup: reliable R/O long-term pinning in COW mappings"),
               ("a458b76a4171", "mm: gup: pack has_pinned in MMF_HAS_PINNED"),
               ("2555283eb40d", "mm/rmap: Fix anon_vma->degree ambiguity leading to double-reuse"))
    has_pinned_flag = "MMF_HAS_PINNED"
    tracks_anon_exclusive = True
    fork_copy_decider = "page_try_dup_anon_rmap"
    anon_vma_counter = "num_children/num_active_vmas"

    def wp_can_reuse_anon_page(self, page: Page, vma: Vma) -> WpDecision:
        if PageAnonExclusive(page):
            return WpDecision(True, f"page {page.pfn} is marked exclusive: it is this process's "
                                    f"alone, so it is reused without looking at any counter.")
        c = page_count(page)
        if c == 1:
            return WpDecision(True, f"page {page.pfn} is not marked exclusive, but its refcount is 1: "
                                    f"nobody else holds it, so it becomes exclusive and is reused.",
                              move_anon_rmap=True)
        return WpDecision(False, f"page {page.pfn} is not exclusive and its refcount is {c}: "
                                 f"someone else may hold it, so it is copied.")

    def can_follow_write_pte(self, pte: Pte, flags: int) -> bool:
        # FOLL_COW is gone (5535be309971); the model never uses FOLL_FORCE.
        return pte.write

    def gup_must_unshare(self, vma: Vma, flags: int, page: Page) -> bool:
        # Only read-only pins need it: a write pin faults for writing anyway,
        # and FOLL_GET users get no promise of coherence.
        if flags & (FOLL_WRITE | FOLL_PIN) != FOLL_PIN:
            return False
        if not PageAnon(page):
            # The zero page (6.2+): only a long-term pin cares to see later
            # writes, and only in a COW mapping would a write replace it.
            return bool(flags & FOLL_LONGTERM) and is_cow_mapping(vma.vm_flags)
        return not PageAnonExclusive(page)

    def fork_must_copy_page(self, src_vma: Vma, page: Page) -> bool:
        # page_try_dup_anon_rmap() refuses (-EBUSY) to share an exclusive
        # page that may be pinned; a page already shared cannot be pinned.
        return (PageAnon(page) and PageAnonExclusive(page) and is_cow_mapping(src_vma.vm_flags)
                and src_vma.vm_mm.has_pinned and page_maybe_dma_pinned(page))

    def anon_vma_reusable(self, anon_vma, src_vma: Vma) -> bool:
        return anon_vma.num_children < 2 and anon_vma.num_active_vmas == 0

    def can_change_pte_writable(self, vma: Vma, pte: Pte, page: Page | None) -> bool:
        # The write fault would map an exclusive anonymous page writable
        # without further checks, so mprotect() may do it right away.
        return page is not None and PageAnon(page) and PageAnonExclusive(page)
