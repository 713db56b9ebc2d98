"""get_user_pages() and pin_user_pages(): references that are not mappings.  Kernel: mm/gup.c.

    __get_user_pages_locked         sets the mm's "has pinned" flag for FOLL_PIN (5.9+)
      -> __get_user_pages           checks the VMA; 5.8 forces FOLL_WRITE on COW mappings
         -> follow_page_pte         is the PTE good enough?  6.x: must we unshare first?
         -> faultin_page            if not: fault (write, or unshare), then look again
         -> try_grab_page           FOLL_GET: refcount + 1; FOLL_PIN: refcount + 1024
"""
from __future__ import annotations

from functools import lru_cache

from .events import Decision, Verdict, facts, holder_id, mm_id, page_id, pte_id
from .memory import handle_mm_fault, pte_page
from .page_alloc import put_page
from .types import (EFAULT, ENOMEM, FAULT_FLAG_UNSHARE, FAULT_FLAG_WRITE, FOLL_COW, FOLL_FORCE,
                    FOLL_GET, FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE, GUP_PIN_COUNTING_BIAS,
                    VM_FAULT_OOM, VM_FAULT_WRITE, VM_READ, VM_WRITE, GupRef, MmStruct, Page,
                    Vma, page_count)


@lru_cache(maxsize=64)           # a handful of flag sets, asked for on every call of gup ... x2048
def foll_names(flags: int) -> str:
    """FOLL_PIN|FOLL_WRITE|... as text."""
    names = [n for f, n in ((FOLL_GET, "FOLL_GET"), (FOLL_PIN, "FOLL_PIN"), (FOLL_WRITE, "FOLL_WRITE"),
                            (FOLL_LONGTERM, "FOLL_LONGTERM"), (FOLL_FORCE, "FOLL_FORCE")) if flags & f]
    return "|".join(names)


def check_vma_flags(vma: Vma, gup_flags: int) -> int:
    """May GUP access this VMA this way?  Kernel: check_vma_flags()."""
    if gup_flags & FOLL_WRITE and not vma.vm_flags & VM_WRITE and not gup_flags & FOLL_FORCE:
        return -EFAULT
    if not vma.vm_flags & VM_READ:
        return -EFAULT
    return 0


def __get_user_pages_locked(mm: MmStruct, vma: Vma | None, i: int, gup_flags: int,
                            decided: list | None = None) -> Page | int:
    """Look up and grab page i of the VMA.  Returns the page or a negative errno.  Kernel: __get_user_pages_locked()."""
    k = mm.kernel
    if gup_flags & FOLL_PIN and k.era.pin_sets_mm_flag() and not mm.has_pinned:
        # Set before anything can fail, and never cleared for the life of
        # this mm: from now on fork() checks this mm's pages for pins.
        mm.has_pinned = True
        k.emit("__get_user_pages_locked", "has_pinned_set", "flag", (mm_id(mm),), owner=mm.owner)
    return __get_user_pages(mm, vma, i, gup_flags, decided)


def __get_user_pages(mm: MmStruct, vma: Vma | None, i: int, gup_flags: int,
                     decided: list | None = None) -> Page | int:
    """Fault page i in as needed, then grab it.  Kernel: __get_user_pages().

    The first lookup's can_follow_write_pte() test (did the PTE do for FOLL_WRITE?) is added to `decided`."""
    k = mm.kernel
    if vma is None or check_vma_flags(vma, gup_flags):
        return -EFAULT
    foll_flags = gup_flags
    if k.era.gup_forces_cow_break(vma, foll_flags) and not foll_flags & FOLL_WRITE:
        # A read-only GUP on a COW mapping could end up holding the page that
        # a later COW fault moves away from; 5.8 breaks the COW right now.
        foll_flags |= FOLL_WRITE
        k.emit("__get_user_pages", "cow_break_forced", None, (pte_id(vma, i),),
               (Decision("__get_user_pages", "force_cow_break",
                         (("cow", True), ("pin", bool(gup_flags & FOLL_PIN))), True),),
               where=vma.label(i), flags=foll_names(gup_flags))
    for attempt in range(4):
        page, why = follow_page_pte(vma, i, foll_flags, decided if attempt == 0 else None)
        if page is not None:
            break
        ret = faultin_page(vma, i, foll_flags, unshare=why if isinstance(why, Verdict) else None)
        if ret & VM_FAULT_OOM:
            return -ENOMEM
        # A COW on a VMA without VM_WRITE leaves the new PTE read-only but
        # dirty; FOLL_COW lets the next look accept it.
        if ret & VM_FAULT_WRITE and not vma.vm_flags & VM_WRITE:
            foll_flags |= FOLL_COW
    else:  # pragma: no cover - the model's faults always make progress
        raise RuntimeError(f"GUP made no progress on {vma.label(i)}")
    try_grab_page(page, foll_flags)
    return page


def follow_page_pte(vma: Vma, i: int, flags: int,
                    decided: list | None = None) -> tuple[Page | None, "str | Verdict"]:
    """Return the mapped page if it will do as it is, else why not.  Kernel: follow_page_pte().

    Why not: "fault" (nothing mapped), "write" (not writable enough), or the
    era's Verdict that the page must be unshared first.
    """
    era = vma.vm_mm.kernel.era
    pte = vma.ptes[i]
    if pte is None:
        return None, "fault"
    if flags & FOLL_WRITE:
        verdict = era.can_follow_write_pte(pte, flags)
        if decided is not None:
            decided.extend(facts(verdict))
        if not verdict:
            return None, "write"
    page = pte_page(vma, pte)
    if not pte.write:
        verdict = era.gup_must_unshare(vma, flags, page)
        if verdict:
            return None, verdict if isinstance(verdict, Verdict) else Verdict(True)
    return page, ""


def faultin_page(vma: Vma, i: int, flags: int, unshare: Verdict | None) -> int:
    """Fault page i in for GUP.  Kernel: faultin_page().  `unshare`: the era's Verdict for an unshare fault."""
    fault_flags = 0
    if flags & FOLL_WRITE:
        fault_flags |= FAULT_FLAG_WRITE
    if unshare:
        fault_flags |= FAULT_FLAG_UNSHARE
        vma.vm_mm.kernel.emit("gup_must_unshare", "unshare_first", "unshare", (pte_id(vma, i),),
                              facts(unshare), where=vma.label(i))
    return handle_mm_fault(vma, i, fault_flags)


def try_grab_page(page: Page, flags: int) -> None:
    """Take the reference GUP hands out.  Kernel: try_grab_page()."""
    # MODEL: the zero page's counts are not tracked.
    if page.kind == "zero":
        return
    if flags & FOLL_PIN:
        page._refcount += GUP_PIN_COUNTING_BIAS
    elif flags & FOLL_GET:
        page._refcount += 1


def get_user_pages(mm: MmStruct, task: str, vma: Vma | None, i: int, gup_flags: int,
                   holder) -> int:
    """get_user_pages() or pin_user_pages() of one page into a holder.  Returns 0 or -errno.  Kernel: mm/gup.c."""
    k = mm.kernel
    before = None
    if vma is not None and vma.ptes[i] is not None and not vma.ptes[i].special:
        before = k.pages[vma.ptes[i].pfn]
        before = (before, page_count(before))
    decided: list = []
    res = __get_user_pages_locked(mm, vma, i, gup_flags, decided)
    if isinstance(res, int):
        return res
    page = res
    holder.refs.append(GupRef(page, gup_flags, mm, task, vma.name, i, k.write_seq, vma))
    pin = bool(gup_flags & FOLL_PIN)
    k.emit("pin_user_pages" if pin else "get_user_pages", "gup_grab", "pin" if pin else "get",
           (holder_id(holder), page_id(page.pfn), pte_id(vma, i)), tuple(decided),
           holder=holder.name, pin=pin,
           pfn=page.pfn, where=vma.label(i), flags=foll_names(gup_flags),
           before=before[1] if before is not None and before[0] is page else None,
           after=page_count(page))
    return 0


def unpin_user_page(page: Page) -> bool:
    """Drop a FOLL_PIN reference.  Returns True if that freed the page.  Kernel: unpin_user_page()."""
    if page.kind == "zero":
        return False
    page._refcount -= GUP_PIN_COUNTING_BIAS - 1
    return put_page(page)


def release_ref(ref: GupRef) -> bool:
    """Drop one holder reference the way it was taken.  Returns True if the page was freed."""
    if ref.flags & FOLL_PIN:
        return unpin_user_page(ref.page)
    return put_page(ref.page)
