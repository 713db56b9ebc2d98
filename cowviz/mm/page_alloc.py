"""The page allocator, page references and memcg charging.

Kernel: mm/page_alloc.c, mm/swap.c (put_page), mm/memcontrol.c.
Only data pages are allocated here; page tables, VMAs and anon_vmas are
kernel memory the model does not count.
"""
from __future__ import annotations

from .events import memcg_id, page_id
from .types import ENOMEM, Page


def alloc_page(k, purpose: str, where: str) -> Page | None:
    """Allocate one zero-filled page, or None when fault injection says so.  Kernel: alloc_pages().

    `purpose` (anon, shmem, copy, early_copy) and `where` (the page it is for) say what it is for.
    """
    if k.fail_alloc > 0:
        k.fail_alloc -= 1
        k.emit("alloc_pages", "alloc_failed", "enomem", purpose=purpose, where=where)
        return None
    page = Page(k, k.next_pfn, "anon")
    k.next_pfn += 1
    k.pages[page.pfn] = page
    return page


def mem_cgroup_charge(page: Page, mm) -> int:
    """Charge a new page to the memcg of `mm`, or fail at its limit.  Kernel: mem_cgroup_charge()."""
    memcg = mm.memcg
    if memcg.limit is not None and memcg.usage + 1 > memcg.limit:
        mm.kernel.emit("mem_cgroup_charge", "charge_failed", "enomem", (memcg_id(memcg), page_id(page.pfn)),
                       memcg=memcg.name, limit=memcg.limit, pfn=page.pfn)
        return -ENOMEM
    memcg.usage += 1
    page.memcg = memcg
    return 0


def get_page(page: Page) -> None:
    """Take a reference.  Kernel: get_page()."""
    # MODEL: references on the shared zero page are not counted (6.x does
    # not count pins on it either; its refcount means nothing to COW).
    if page.kind != "zero":
        page._refcount += 1


def put_page(page: Page) -> bool:
    """Drop a reference; free the page when it was the last.  Returns True if freed.  Kernel: put_page()."""
    if page.kind == "zero":
        return False
    page._refcount -= 1
    if page._refcount == 0:
        __free_page(page)
        return True
    return False


def __free_page(page: Page) -> None:
    """Return the page to the allocator and uncharge it.  Kernel: free_unref_page() + mem_cgroup_uncharge()."""
    if page.memcg is not None:
        page.memcg.usage -= 1
        page.memcg = None
    page.mapping = None
    page.anon_exclusive = False
    page.kernel.pages.pop(page.pfn, None)
