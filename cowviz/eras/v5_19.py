"""Era 5.19: Linux 5.19: exclusive anonymous pages, before the 6.0 and 6.2 follow-ups."""
from __future__ import annotations

from ..mm.types import (FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE, Page, PageAnon, PageAnonExclusive, Pte, Vma,
                        is_cow_mapping, page_count, page_maybe_dma_pinned)
from ..mm.events import Decision
from .base import Verdict, WpDecision
from .v5_9 import Era59


class Era519(Era59):
    """Linux 5.19: exclusive anonymous pages ("COW fixes part 2").

    6c287605fd56 "mm: remember exclusively mapped anonymous pages with
    PG_anon_exclusive": a new anonymous page is exclusive; fork clears the bit
    (fb3d824d1a46, page_try_dup_anon_rmap()) unless the page may be pinned,
    in which case page_try_dup_anon_rmap() answers -EBUSY and fork copies it
    as 5.9 did; a write fault reuses an exclusive page without looking at any
    counter, and a non-exclusive one whose refcount is 1.  GUP may pin only
    exclusive pages: a read-only pin of a possibly shared anonymous page
    first triggers an unshare fault (c89357e27f20 FAULT_FLAG_UNSHARE,
    a7f226604170).  The pinned flag is the MMF_HAS_PINNED bit (a458b76a4171,
    5.14).

    What 5.19 does not have yet, read in the v5.19 and v6.0-rc1 trees:
    mprotect(PROT_WRITE) leaves every private PTE read-only (no
    can_change_pte_writable(): 64fe24a3e05e, in v6.0-rc1); a read-only pin
    of the shared zero page pins the zero page (gup_must_unshare() returns
    false for any non-anonymous page until 84209e87c696 in 6.2); and
    anon_vma_clone() reuses an anon_vma by the old `degree < 2` rule
    (7a3ef208e662), which can hand a child an anon_vma another VMA still uses
    (the double reuse 2555283eb40d fixed in 6.0, after v6.0-rc1).

    So this era is exactly v5.19.  6.0 and 6.1 sit between it and 6.x: they
    have the mprotect upgrade and the num_children/num_active_vmas rule (as
    6.x), but not the zero-page unshare (as 5.19).  Stable updates of older
    kernels got 2555283eb40d too; the eras follow mainline releases.
    """
    id = "5.19"
    title = "5.19: exclusive pages, first form"
    kernels = "Linux 5.19 (6.0-6.1 in part: docs/eras.md)"
    names_at = "5.19"
    summary = ("PageAnonExclusive and the R/O-pin unshare, without the 6.0 mprotect upgrade, "
               "the 6.0 anon_vma rule or the 6.2 zero-page unshare")
    commits = (("6c287605fd56", "mm: remember exclusively mapped anonymous pages with PG_anon_exclusive"),
               ("fb3d824d1a46", "mm/rmap: split page_dup_rmap() into page_dup_file_rmap() and page_try_dup_anon_rmap()"),
               ("c89357e27f20", "mm: support GUP-triggered unsharing of anonymous pages"),
               ("a7f226604170", "mm/gup: trigger FAULT_FLAG_UNSHARE when R/O-pinning a possibly shared anonymous page"),
               ("a458b76a4171", "mm: gup: pack has_pinned in MMF_HAS_PINNED"))
    has_pinned_flag = "MMF_HAS_PINNED"
    tracks_anon_exclusive = True
    default_listed = False

    def new_anon_page_exclusive(self) -> bool:
        # 6c287605fd56: a page that was just allocated for one mm is that mm's alone.
        return True

    def wp_can_reuse_anon_page(self, page: Page, vma: Vma) -> WpDecision:
        # do_wp_page(): an exclusive page is this process's alone, so reuse it
        # without looking at any counter.  Otherwise only a refcount of 1 proves
        # nobody else holds it; then it becomes exclusive (page_move_anon_rmap()
        # sets the bit).
        if PageAnonExclusive(page):
            return WpDecision(True, "exclusive", (("exclusive", True),), exclusive=True)
        c = page_count(page)
        return WpDecision(c == 1, "refcount", (("exclusive", False), ("refcount", c)),
                          move_anon_rmap=c == 1, exclusive=c == 1)

    def gup_must_unshare(self, vma: Vma, flags: int, page: Page) -> Verdict:
        # Only read-only pins need it: a write pin faults for writing anyway,
        # and FOLL_GET users get no promise of coherence.
        fn = "gup_must_unshare"
        if flags & (FOLL_WRITE | FOLL_PIN) != FOLL_PIN:
            return Verdict(False, Decision(fn, "ro_pin", (("ro_pin", False),), False))
        if not PageAnon(page):
            answer = self.gup_must_unshare_non_anon(vma, flags)
            return Verdict(answer, Decision(fn, "not_anon", (("longterm", bool(flags & FOLL_LONGTERM)),
                                                             ("cow", is_cow_mapping(vma.vm_flags))),
                                            answer))
        answer = not PageAnonExclusive(page)
        return Verdict(answer, Decision(fn, "exclusive", (("exclusive", not answer),), answer))

    def gup_must_unshare_non_anon(self, vma: Vma, flags: int) -> bool:
        """gup_must_unshare() of a page that is not anonymous (the zero page): 5.19 pins it as it is."""
        return False

    def fork_must_copy_page(self, src_vma: Vma, page: Page) -> Verdict:
        # page_try_dup_anon_rmap() refuses (-EBUSY) to share an exclusive
        # page that may be pinned; a page already shared cannot be pinned.
        if not PageAnon(page):
            return Verdict(False)
        # page_needs_cow_for_dma() (v5.19 include/linux/mm.h) asks MMF_HAS_PINNED
        # and page_maybe_dma_pinned(), not is_cow_mapping(): an anonymous page
        # is only ever in a private mapping.
        fn = "page_try_dup_anon_rmap"
        if not PageAnonExclusive(page):
            return Verdict(False, Decision(fn, "exclusive", (("exclusive", False),), False))
        pinned_mm = bool(src_vma.vm_mm.has_pinned)
        maybe = page_maybe_dma_pinned(page)
        answer = pinned_mm and maybe
        return Verdict(answer, Decision(fn, "needs_cow_for_dma",
                                        (("exclusive", True), ("has_pinned", pinned_mm),
                                         ("pinned", maybe), ("refcount", page_count(page))), answer))
