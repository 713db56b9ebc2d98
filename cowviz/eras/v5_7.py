"""Era 5.7: Linux up to 5.7: a write fault reuses an anonymous page when its mapcount is 1."""
from __future__ import annotations

from ..mm.types import Page, Vma, page_count, page_mapcount
from .base import Era, WpDecision


class Era57(Era):
    """Linux up to 5.7: a write fault reuses an anonymous page when its mapcount is 1.

    do_wp_page() asks reuse_swap_page(), which counts mappings (and swap
    entries) but not other references.  A page a pipe or a device holds
    through get_user_pages() looks private to the one process still mapping
    it, so that process writes into it in place.  That is the vmsplice leak,
    CVE-2020-29374 (Jann Horn, Project Zero issue 2045): a child vmsplices a
    page it shares with its parent, unmaps it, and reads through the pipe what
    the parent writes afterwards.  Pins (FOLL_PIN, 5.6-5.7: eddb1c228f79 and
    the GUP_PIN_COUNTING_BIAS accounting) exist but fork() ignores them.
    """
    id = "5.7"
    title = "5.7: reuse by mapcount"
    kernels = "Linux <= 5.7"
    names_at = "5.7"
    summary = "write fault reuses a page mapped once; GUP references are invisible (vmsplice leak, CVE-2020-29374)"
    commits = (("52d1e606ee73", "mm: reuse only-pte-mapped KSM page in do_wp_page() (5.1)"),)

    def wp_can_reuse_anon_page(self, page: Page, vma: Vma) -> WpDecision:
        # reuse_swap_page() counts the PTEs (and swap entries) that map the
        # page: one means no other process can see it.  GUP references are
        # not looked at, which is the vmsplice leak.  A reused page is filed
        # under the writer's own anon_vma (page_move_anon_rmap()).
        m = page_mapcount(page)
        reuse = m <= 1
        return WpDecision(reuse, "reuse_swap_page", (("mapcount", m), ("refcount", page_count(page))),
                          move_anon_rmap=reuse)
