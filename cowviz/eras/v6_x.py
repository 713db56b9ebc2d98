"""Era 6.x: Linux 6.2 to 6.18: exclusive anonymous pages with the 6.0 and 6.2 follow-ups."""
from __future__ import annotations

from ..mm.events import Decision, Verdict
from ..mm.types import (FOLL_FORCE, FOLL_LONGTERM, Page, PageAnon, PageAnonExclusive, Pte, Vma,
                        is_cow_mapping, page_count, page_maybe_dma_pinned)
from .v5_19 import Era519


class Era6x(Era519):
    """Linux 6.2 to 6.18 (the current kernel): exclusive anonymous pages, completed.

    Everything of 5.19 (6c287605fd56 PG_anon_exclusive, fb3d824d1a46,
    c89357e27f20, a7f226604170), and three later changes:
    64fe24a3e05e (6.0) lets mprotect(PROT_WRITE) make the PTE of an exclusive
    anonymous page writable at once (can_change_pte_writable()), since the
    write fault would only reuse it; 2555283eb40d (6.0) "mm/rmap: Fix
    anon_vma->degree ambiguity leading to double-reuse" makes anon_vma reuse
    count children and VMAs apart (num_children < 2 and num_active_vmas ==
    0); 84209e87c696 (6.2) "mm/gup: reliable R/O long-term pinning in COW
    mappings" makes a read-only long-term pin of the shared zero page in a
    COW mapping unshare it first.  Events use the names of v6.18: since 6.8
    folio_try_dup_anon_rmap_pte() answers -EBUSY where 5.19 had
    page_try_dup_anon_rmap(), since 6.9 fork copies PTEs in copy_present_ptes().
    """
    id = "6.x"
    title = "6.x: exclusive anonymous pages"
    kernels = "Linux 6.2 - 6.18"
    names_at = "6.18"
    summary = "PageAnonExclusive: reuse exclusive pages, copy pinned ones at fork, unshare before R/O pins"
    commits = Era519.commits + (
        ("64fe24a3e05e", "mm/mprotect: try avoiding write faults for exclusive anonymous pages when changing protection"),
        ("2555283eb40d", "mm/rmap: Fix anon_vma->degree ambiguity leading to double-reuse"),
        ("84209e87c696", "mm/gup: reliable R/O long-term pinning in COW mappings"))
    anon_vma_counter = "num_children/num_active_vmas"
    default_listed = True

    # do_wp_page() is 5.19's rule (6.5 moved it into wp_can_reuse_anon_folio()).
    wp_can_reuse_anon_page = Era519.wp_can_reuse_anon_page

    def gup_must_unshare_non_anon(self, vma: Vma, flags: int) -> bool:
        # The zero page (6.2+): only a long-term pin cares to see later
        # writes, and only in a COW mapping would a write replace it.
        return bool(flags & FOLL_LONGTERM) and is_cow_mapping(vma.vm_flags)

    def anon_vma_reusable(self, anon_vma, src_vma: Vma) -> Verdict:
        answer = anon_vma.num_children < 2 and anon_vma.num_active_vmas == 0
        return Verdict(answer, Decision("anon_vma_clone", "reuse_anon_vma",
                                        (("anon_vma", anon_vma.id), ("children", anon_vma.num_children),
                                         ("vmas", anon_vma.num_active_vmas)), answer))

    def can_change_pte_writable(self, vma: Vma, pte: Pte, page: Page | None) -> Verdict:
        # The write fault would map an exclusive anonymous page writable
        # without further checks, so mprotect() may do it right away
        # (v6.18 mm/mprotect.c can_change_private_pte_writable(); v6.0-rc1
        # also wanted the PTE dirty, 6.2 no longer does).
        anon = page is not None and PageAnon(page)
        exclusive = anon and PageAnonExclusive(page)
        return Verdict(exclusive, Decision("can_change_pte_writable", "exclusive",
                                           (("anon", anon), ("exclusive", exclusive)), exclusive))

    def can_follow_write_pte(self, pte: Pte, flags: int) -> Verdict:
        # 5535be309971 (6.0) removed FOLL_COW: a read-only PTE will do for a
        # FOLL_FORCE write only in a private VMA without VM_WRITE and only for
        # an exclusive anonymous page (v6.18 mm/gup.c can_follow_write_common()).
        # MODEL: the model never sets FOLL_FORCE, so this is pte_write().
        force = bool(flags & FOLL_FORCE)
        return Verdict(pte.write, Decision("can_follow_write_pte", "follow_write",
                                           (("write", pte.write), ("force", force)), pte.write))

    def fork_must_copy_page(self, src_vma: Vma, page: Page) -> Verdict:
        # v6.18 __folio_try_dup_anon_rmap(): maybe_pinned (MMF_HAS_PINNED and
        # folio_maybe_dma_pinned()) is worked out first, then any exclusive
        # page of the batch makes it -EBUSY.
        if not PageAnon(page):
            return Verdict(False)
        pinned_mm = bool(src_vma.vm_mm.has_pinned)
        pinned = page_maybe_dma_pinned(page) if pinned_mm else None     # None: not asked
        exclusive = PageAnonExclusive(page)
        answer = bool(pinned) and exclusive
        return Verdict(answer, Decision("page_try_dup_anon_rmap", "needs_cow_for_dma",
                                        (("has_pinned", pinned_mm), ("pinned", pinned),
                                         ("refcount", page_count(page)), ("exclusive", exclusive)), answer))
