"""Era 5.9-rc: Linux 5.9-rc (before 2020-09-27): reuse only when page_count() is 1."""
from __future__ import annotations

from ..mm.types import Page, Vma, page_count, page_mapcount
from .base import WpDecision
from .v5_7 import Era57


class Era59rc(Era57):
    """Linux 5.9-rc (before 2020-09-27): reuse only when page_count() is 1.

    09854ba94c6a "mm: do_wp_page() simplification" (Linus, merged through
    b25d1dc9474e with 1a0cf26323c8 "mm/ksm: Remove reuse_ksm_page()",
    a308c71bf1e6 "mm/gup: Remove enfornced COW mechanism" and 798a6b87ecd7
    "mm: Add PGREUSE counter"): do_wp_page() reuses a page only when it is the
    one and only reference, so any extra reference, a pipe's or a pin's,
    forces a copy.  Simpler and safe against the leak, but a page pinned for
    DMA (refcount 1 + 1024) is now always copied away from on the next write
    after a fork, even once the child has exited: the RDMA regression Jason
    Gunthorpe reported on 2020-09-14.  The page is not moved to the writer's
    anon_vma on reuse.
    """
    id = "5.9-rc"
    title = "5.9-rc: reuse only if page_count is 1"
    kernels = "Linux 5.9-rc, before 2020-09-27"
    names_at = "5.9-rc6"
    summary = "write fault reuses a page only when page_count() == 1: no leak, but pinned pages lose DMA after fork (RDMA regression)"
    commits = (("09854ba94c6a", "mm: do_wp_page() simplification"),
               ("1a0cf26323c8", "mm/ksm: Remove reuse_ksm_page()"),
               ("a308c71bf1e6", "mm/gup: Remove enfornced COW mechanism"),
               ("798a6b87ecd7", "mm: Add PGREUSE counter"))

    def wp_can_reuse_anon_page(self, page: Page, vma: Vma) -> WpDecision:
        # 09854ba94c6a: reuse only when nobody at all holds another reference
        # (a mapping, a pipe's, a pin's): page_count() must be 1.  The page
        # stays filed where it is.
        c, m = page_count(page), page_mapcount(page)
        return WpDecision(c == 1 and m == 1, "page_count", (("refcount", c), ("mapcount", m)))
