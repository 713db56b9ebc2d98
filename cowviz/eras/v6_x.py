"""Era 6.x: Linux 6.2 to 6.18: exclusive anonymous pages with the 6.0 and 6.2 follow-ups."""
from __future__ import annotations

from ..mm.types import FOLL_LONGTERM, Page, PageAnon, PageAnonExclusive, Pte, Vma, is_cow_mapping
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

    def anon_vma_reusable(self, anon_vma, src_vma: Vma) -> bool:
        return anon_vma.num_children < 2 and anon_vma.num_active_vmas == 0

    def can_change_pte_writable(self, vma: Vma, pte: Pte, page: Page | None) -> bool:
        # The write fault would map an exclusive anonymous page writable
        # without further checks, so mprotect() may do it right away.
        return page is not None and PageAnon(page) and PageAnonExclusive(page)
