"""Page faults, copy-on-write, and the page-table copy at fork.  Kernel: mm/memory.c.

The fork path reads like the page-table walk it models:

    copy_page_range -> copy_pte_range -> copy_present_pte -> copy_present_page
                                     (preallocate and retry: page_copy_prealloc)

and the write-fault path like handle_mm_fault():

    handle_mm_fault -> do_anonymous_page            (nothing mapped yet)
                    -> do_fault -> do_read_fault / do_shared_fault   (shmem)
                    -> do_wp_page -> wp_page_reuse | wp_page_copy    (mapped read-only)

The era is asked at the kernel's decision points: do_wp_page() asks whether the
page may be reused, copy_present_pte() whether fork must copy the page now.
"""
from __future__ import annotations

from .events import Decision, facts, page_id, pte_id, vma_id
from .page_alloc import alloc_page, get_page, mem_cgroup_charge, put_page
from .rmap import (anon_vma_prepare, page_add_file_rmap, page_add_new_anon_rmap, page_dup_rmap,
                   page_move_anon_rmap, page_remove_rmap)
from .types import (EAGAIN, ENOMEM, FAULT_FLAG_UNSHARE, FAULT_FLAG_WRITE, PAGE_SHIFT,
                    VM_FAULT_OOM, VM_FAULT_WRITE, VM_HUGETLB, VM_MAYSHARE, VM_MIXEDMAP, VM_PFNMAP,
                    VM_SHARED, VM_WRITE, ZERO_PFN, PageAnon, Page, Pte, Vma, is_cow_mapping,
                    page_count, page_mapcount, pte_mkclean, pte_wrprotect)


def vm_normal_page(vma: Vma, pte: Pte) -> Page | None:
    """The struct page a PTE maps, or None for the zero page.  Kernel: vm_normal_page()."""
    if pte.special:
        return None
    return vma.vm_mm.kernel.pages[pte.pfn]


def pte_page(vma: Vma, pte: Pte) -> Page:
    """The page a PTE maps, the zero page included.  Kernel: pte_page()."""
    if pte.special:
        return vma.vm_mm.kernel.zero_page
    return vma.vm_mm.kernel.pages[pte.pfn]


class Vmf:
    """struct vm_fault: where the fault is and why."""
    __slots__ = ("vma", "index", "flags", "orig_pte")

    def __init__(self, vma: Vma, index: int, flags: int):
        self.vma = vma
        self.index = index
        self.flags = flags
        self.orig_pte = vma.ptes[index]


def handle_mm_fault(vma: Vma, i: int, flags: int) -> int:
    """Resolve a fault on page i of the VMA.  Kernel: handle_mm_fault() -> handle_pte_fault()."""
    vmf = Vmf(vma, i, flags)
    pte = vmf.orig_pte
    if pte is None:
        if vma.vm_file is None:
            return do_anonymous_page(vmf)
        return do_fault(vmf)
    if flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE):
        if not pte.write:
            return do_wp_page(vmf)
        if flags & FAULT_FLAG_WRITE:
            vma.ptes[i] = Pte(pte.pfn, pte.write, True, pte.special)     # pte_mkdirty()
    return 0


def do_anonymous_page(vmf: Vmf) -> int:
    """First touch of private anonymous memory.  Kernel: do_anonymous_page()."""
    vma, i = vmf.vma, vmf.index
    k = vma.vm_mm.kernel
    if not vmf.flags & FAULT_FLAG_WRITE:
        # Reading memory nobody wrote yet: map the one shared page of zeros,
        # read-only, and allocate nothing until somebody writes.
        vma.ptes[i] = Pte(ZERO_PFN, False, False, True)
        k.emit("do_anonymous_page", "anon_read_zero", "zero_page", (pte_id(vma, i), page_id(ZERO_PFN)),
               where=vma.label(i))
        return 0
    if anon_vma_prepare(vma):
        return VM_FAULT_OOM
    page = alloc_page(k, "anon", vma.label(i))
    if page is None:
        return _oom(vmf)
    if mem_cgroup_charge(page, vma.vm_mm):
        put_page(page)
        return _oom(vmf)
    page_add_new_anon_rmap(page, vma, i)
    writable = bool(vma.vm_flags & VM_WRITE)
    vma.ptes[i] = Pte(page.pfn, writable, writable)
    k.emit("do_anonymous_page", "anon_first_write", "alloc", (pte_id(vma, i), page_id(page.pfn)),
           where=vma.label(i), pfn=page.pfn, anon_vma=vma.anon_vma.id)
    return 0


def _oom(vmf: Vmf) -> int:
    # MODEL: on VM_FAULT_OOM the kernel runs the (memcg) OOM killer and
    # retries; the model ends the access and the command reports ENOMEM.
    vmf.vma.vm_mm.kernel.emit("handle_mm_fault", "fault_oom", "enomem", (pte_id(vmf.vma, vmf.index),),
                              where=vmf.vma.label(vmf.index))
    return VM_FAULT_OOM


# -- shared (shmem) mappings ----------------------------------------------------

FAULT_AROUND_PAGES = 16          # fault_around_bytes = 64 KiB
PTRS_PER_PTE = 512


def do_fault(vmf: Vmf) -> int:
    """First touch of a file-backed (here: shmem) mapping.  Kernel: do_fault()."""
    if not vmf.flags & FAULT_FLAG_WRITE:
        return do_read_fault(vmf)
    # MODEL: the only file mappings are MAP_SHARED|MAP_ANONYMOUS, so a write
    # fault is always do_shared_fault(), never do_cow_fault().
    return do_shared_fault(vmf)


def do_read_fault(vmf: Vmf) -> int:
    """Read fault on a shmem mapping: map what is cached nearby, then the page.  Kernel: do_read_fault()."""
    do_fault_around(vmf)
    if vmf.vma.ptes[vmf.index] is not None:
        return 0
    page = shmem_fault(vmf)
    if page is None:
        return _oom(vmf)
    return finish_fault(vmf, page)


def do_shared_fault(vmf: Vmf) -> int:
    """Write fault on a shmem mapping.  Kernel: do_shared_fault()."""
    page = shmem_fault(vmf)
    if page is None:
        return _oom(vmf)
    return finish_fault(vmf, page)


def shmem_fault(vmf: Vmf) -> Page | None:
    """Find the file's page in the page cache, or allocate it there.  Returns it with a reference.  Kernel: shmem_fault()."""
    vma = vmf.vma
    k = vma.vm_mm.kernel
    shmem = vma.vm_file
    index = vmf.index + vma.vm_pgoff
    page = shmem.pages.get(index)
    if page is None:
        page = alloc_page(k, "shmem", vma.label(vmf.index))
        if page is None:
            return None
        if mem_cgroup_charge(page, vma.vm_mm):
            put_page(page)
            return None
        # The page cache keeps the allocation's reference.
        page.kind = "shmem"
        page.mapping = shmem
        page.index = index
        shmem.pages[index] = page
        k.emit("shmem_fault", "shmem_new_page", "alloc", (page_id(page.pfn),), pfn=page.pfn,
               file=shmem.id, offset=index)
    get_page(page)
    return page


def finish_fault(vmf: Vmf, page: Page) -> int:
    """Install the PTE for a page-cache page.  Kernel: finish_fault() -> set_pte_range()."""
    vma, i = vmf.vma, vmf.index
    write = bool(vmf.flags & FAULT_FLAG_WRITE)
    # A shared writable shmem mapping needs no write notification, so its
    # vm_page_prot is already writable and even a read fault maps it so.
    vma.ptes[i] = Pte(page.pfn, bool(vma.vm_flags & VM_WRITE), write)
    page_add_file_rmap(page)
    vma.vm_mm.kernel.emit("finish_fault", "shmem_map", None, (pte_id(vma, i), page_id(page.pfn)),
                          where=vma.label(i), pfn=page.pfn)
    return 0


def do_fault_around(vmf: Vmf) -> None:
    """Map the file's already-cached pages around the fault too.  Kernel: do_fault_around() -> filemap_map_pages()."""
    vma = vmf.vma
    # Offsets within the page table (pte_index()), clamped to the VMA and to the table.
    pte_off = ((vma.vm_start >> PAGE_SHIFT) + vmf.index) % PTRS_PER_PTE
    first = max(pte_off - pte_off % FAULT_AROUND_PAGES, pte_off - min(pte_off, vmf.index))
    last = min(first + FAULT_AROUND_PAGES, PTRS_PER_PTE, pte_off + vma.npages - vmf.index) - 1
    mapped = []
    for off in range(first, last + 1):
        i = vmf.index + off - pte_off
        if vma.ptes[i] is not None:
            continue
        page = vma.vm_file.pages.get(i + vma.vm_pgoff)
        if page is None:
            continue
        get_page(page)
        vma.ptes[i] = Pte(page.pfn, bool(vma.vm_flags & VM_WRITE), False)
        page_add_file_rmap(page)
        mapped.append(i)
    if mapped:
        vma.vm_mm.kernel.emit("do_fault_around", "fault_around", None, tuple(pte_id(vma, i) for i in mapped),
                              mapped=tuple(vma.label(i) for i in mapped))


# -- write-protect faults --------------------------------------------------------

def do_wp_page(vmf: Vmf) -> int:
    """A write (or, 6.x, an unshare request) hit a read-only PTE.  Kernel: do_wp_page()."""
    vma, i = vmf.vma, vmf.index
    k = vma.vm_mm.kernel
    unshare = bool(vmf.flags & FAULT_FLAG_UNSHARE)
    page = vm_normal_page(vma, vmf.orig_pte)
    if vma.vm_flags & (VM_SHARED | VM_MAYSHARE):
        # MODEL: shmem has no ->page_mkwrite, so wp_page_shared() just reuses.
        return wp_page_reuse(vmf, page, (Decision("do_wp_page", "shared", (), True),))
    if page is not None and PageAnon(page):
        decision = k.era.wp_can_reuse_anon_page(page, vma)
        facts = (decision.decision(),)
        if decision.reuse:
            if decision.move_anon_rmap:
                page_move_anon_rmap(page, vma)
            if decision.exclusive:
                page.anon_exclusive = True            # SetPageAnonExclusive()
            if unshare:
                k.emit("do_wp_page", "wp_unshare_reuse", "unshare", (pte_id(vma, i), page_id(page.pfn)),
                       facts, where=vma.label(i), pfn=page.pfn)
                return 0
            return wp_page_reuse(vmf, page, facts)
        k.emit("do_wp_page", "wp_decided_copy", None, (pte_id(vma, i), page_id(page.pfn)), facts,
               where=vma.label(i), pfn=page.pfn, unshare=unshare)
        return wp_page_copy(vmf, page)
    # The zero page (no struct page to reuse): always a fresh copy.
    return wp_page_copy(vmf, page, (Decision("do_wp_page", "not_anon", (("anon", False),), False),))


def wp_page_reuse(vmf: Vmf, page: Page, decisions: tuple = ()) -> int:
    """Keep the page and make the PTE writable.  Kernel: wp_page_reuse()."""
    vma, i = vmf.vma, vmf.index
    # maybe_mkwrite(): only a VMA with VM_WRITE gets a writable PTE (a forced
    # GUP write to a read-only VMA leaves it read-only but dirty).
    writable = bool(vma.vm_flags & VM_WRITE)
    vma.ptes[i] = Pte(page.pfn, writable, True)
    vma.vm_mm.kernel.emit("wp_page_reuse", "wp_reuse", "reuse", (pte_id(vma, i), page_id(page.pfn)),
                          decisions, where=vma.label(i), pfn=page.pfn, writable=writable)
    return VM_FAULT_WRITE


def wp_page_copy(vmf: Vmf, old: Page | None, decisions: tuple = ()) -> int:
    """Give the faulting PTE a private copy of the page.  Kernel: wp_page_copy()."""
    vma, i = vmf.vma, vmf.index
    k = vma.vm_mm.kernel
    unshare = bool(vmf.flags & FAULT_FLAG_UNSHARE)
    if anon_vma_prepare(vma):
        return VM_FAULT_OOM
    new = alloc_page(k, "copy", vma.label(i))
    if new is None:
        return _oom(vmf)
    if mem_cgroup_charge(new, vma.vm_mm):
        put_page(new)
        return _oom(vmf)
    # The zero page is not copied: the new page is simply allocated zeroed.
    new.data = old.data if old is not None else "0"
    page_add_new_anon_rmap(new, vma, i)
    if unshare:
        # An unshare fault only makes the page exclusive; it stays read-only
        # until a real write comes.
        vma.ptes[i] = Pte(new.pfn, False, False)
    else:
        writable = bool(vma.vm_flags & VM_WRITE)
        vma.ptes[i] = Pte(new.pfn, writable, True)
    freed = False
    if old is not None:
        page_remove_rmap(old)
        freed = put_page(old)
    k.emit("wp_page_copy", "wp_copy", "unshare" if unshare else "cow_copy",
           (pte_id(vma, i), page_id(new.pfn)) + ((page_id(old.pfn),) if old is not None else ()),
           decisions, where=vma.label(i), new=new.pfn, old=old.pfn if old is not None else None,
           anon_vma=vma.anon_vma.id, unshare=unshare, freed=freed)
    return 0 if unshare else VM_FAULT_WRITE


# -- fork: copying the page tables ----------------------------------------------

class Prealloc:
    """The `struct page **prealloc` that copy_pte_range() hands down."""
    __slots__ = ("page",)

    def __init__(self):
        self.page: Page | None = None


def copy_page_range(dst_vma: Vma, src_vma: Vma) -> int:
    """Copy the parent's page table for one VMA into the child.  Kernel: copy_page_range()."""
    k = src_vma.vm_mm.kernel
    # Page faults fill in shared and never-written mappings just as well, and
    # fork is much cheaper for not copying them.
    if not (src_vma.vm_flags & (VM_HUGETLB | VM_PFNMAP | VM_MIXEDMAP)) and src_vma.anon_vma is None:
        if any(p is not None for p in src_vma.ptes):
            k.emit("copy_page_range", "copy_skipped", None, (vma_id(dst_vma),), src=src_vma.label(),
                   child=dst_vma.vm_mm.owner)
        return 0
    return copy_pte_range(dst_vma, src_vma, 0, src_vma.npages)


def copy_pte_range(dst_vma: Vma, src_vma: Vma, start: int, end: int) -> int:
    """Copy PTEs start..end-1; preallocate and retry where an early copy needs a page.  Kernel: copy_pte_range()."""
    prealloc = Prealloc()
    runs = _SharedRuns(dst_vma, src_vma)
    i = start
    ret = 0
    while True:                                           # again:
        # Both page-table locks are held in this loop, so nothing here may
        # sleep to allocate memory.
        ret = 0
        src_ptes = src_vma.ptes
        while i < end:
            if src_ptes[i] is None:
                i += 1
                continue
            decided = []
            before = src_ptes[i]
            ret = copy_present_pte(dst_vma, src_vma, i, prealloc, decided)
            if ret == -EAGAIN:
                break                                     # retry this PTE with a page
            runs.add(i, _how_shared(src_vma, before, src_ptes[i], dst_vma.ptes[i]), decided)
            if prealloc.page is not None:
                # Only used if the PTE changed under us; never kept, because
                # the memory policy that chose it was for this address.
                put_page(prealloc.page)
                prealloc.page = None
            i += 1
        if ret == -EAGAIN:
            # Outside the locks now: allocate the page, charged to the parent.
            runs.flush()
            prealloc.page = page_copy_prealloc(src_vma.vm_mm, src_vma, i)
            if prealloc.page is None:
                return -ENOMEM
            ret = 0
        if i >= end:
            break
    runs.flush()
    if prealloc.page is not None:
        put_page(prealloc.page)
    return 0


def copy_present_pte(dst_vma: Vma, src_vma: Vma, i: int, prealloc: Prealloc,
                     decided: list | None = None) -> int:
    """Share or copy one present PTE at fork.  Kernel: mm/memory.c copy_present_pte().

    Returns 0, or -EAGAIN when an early copy needs a preallocated page.  The
    tests that decided are added to `decided`.
    """
    decided = [] if decided is None else decided
    pte = src_vma.ptes[i]
    page = None if pte.special else src_vma.vm_mm.kernel.pages[pte.pfn]   # vm_normal_page()
    era = src_vma.vm_mm.kernel.era
    if page is not None:
        # A pinned page may be under DMA.  Sharing it write-protected would let
        # the parent's next write fault move the parent to a copy while the
        # device keeps writing into the old page, so copy it for the child now.
        verdict = era.fork_must_copy_page(src_vma, page)
        decided.extend(facts(verdict))
        if verdict:
            return copy_present_page(dst_vma, src_vma, i, prealloc, page, tuple(decided))
        get_page(page)
        page_dup_rmap(page)
        if PageAnon(page):
            # Two mms map it now: it is nobody's alone (5.19+:
            # page_try_dup_anon_rmap() clears PG_anon_exclusive; before 5.19
            # no page is ever marked, so there is nothing to clear).
            page.anon_exclusive = False
    # A private page that both processes map must be read-only in both, so
    # the first write to it faults and the writer gets its own copy.
    cow = is_cow_mapping(src_vma.vm_flags)
    decided.append(Decision("copy_present_pte", "wrprotect", (("cow", cow), ("write", pte.write)),
                            cow and pte.write))
    if cow and pte.write:
        pte = pte_wrprotect(pte)
        src_vma.ptes[i] = pte
    if src_vma.vm_flags & VM_SHARED:
        pte = pte_mkclean(pte)
    dst_vma.ptes[i] = pte
    return 0


def copy_present_page(dst_vma: Vma, src_vma: Vma, i: int, prealloc: Prealloc, page: Page,
                      decisions: tuple = ()) -> int:
    """Give the child its own copy of a maybe-pinned page right now.  Kernel: copy_present_page() (5.9+)."""
    k = src_vma.vm_mm.kernel
    new = prealloc.page
    if new is None:
        k.emit("copy_present_page", "early_copy_needs_page", None, (pte_id(src_vma, i), page_id(page.pfn)),
               decisions + (Decision("copy_present_page", "prealloc", (("prealloc", False),), False),),
               pfn=page.pfn, refcount=page_count(page))
        return -EAGAIN
    prealloc.page = None
    new.data = page.data                                # copy_user_highpage()
    # The copy is the child's: it goes into the child's VMA and so under the
    # child's anon_vma, which is why copy_page_range() is given the new VMA.
    page_add_new_anon_rmap(new, dst_vma, i)
    writable = bool(dst_vma.vm_flags & VM_WRITE)
    dst_vma.ptes[i] = Pte(new.pfn, writable, True)     # maybe_mkwrite(pte_mkdirty())
    k.emit("copy_present_page", "early_copy", "early_copy",
           (pte_id(dst_vma, i), pte_id(src_vma, i), page_id(new.pfn), page_id(page.pfn)),
           decisions + (Decision("copy_present_page", "prealloc", (("prealloc", True),), True),),
           old=page.pfn, new=new.pfn, dst=dst_vma.label(i), src=src_vma.label(i),
           anon_vma=dst_vma.anon_vma.id, writable=src_vma.ptes[i].write)
    return 0


def page_copy_prealloc(src_mm, src_vma: Vma, i: int) -> Page | None:
    """Allocate the page for an early copy, charged to the parent.  Kernel: page_copy_prealloc()."""
    k = src_mm.kernel
    new = alloc_page(k, "early_copy", src_vma.label(i))
    if new is None:
        k.emit("page_copy_prealloc", "early_copy_no_page", "enomem")
        return None
    # The parent pays: it did the pinning that makes the copy necessary, and
    # the child is not in any cgroup of its own yet.
    if mem_cgroup_charge(new, src_mm):
        put_page(new)
        k.emit("page_copy_prealloc", "early_copy_no_charge", "enomem")
        return None
    k.emit("page_copy_prealloc", "early_copy_page", "alloc", (page_id(new.pfn),), pfn=new.pfn,
           memcg=src_mm.memcg.name)
    return new


def _how_shared(src_vma: Vma, before: Pte, src: Pte, dst: Pte) -> str | None:
    """How fork shared one PTE, read off the PTEs before and after; None if the child got a copy."""
    if dst.pfn != before.pfn:
        return None
    if before.write and not src.write:
        return "wrprotect"        # writable in the parent: both now read-only, page shared
    if dst.special:
        return "zero"             # the zero page: copied as a special PTE
    if not PageAnon(src_vma.vm_mm.kernel.pages[dst.pfn]):
        return "file"             # a shared mapping's page: mapped in both, writable as before
    return "readonly"             # already read-only: shared as it was


class _SharedRuns:
    """Reports the PTEs copy_pte_range() shared as one event per run of alike PTEs."""
    __slots__ = ("dst", "src", "first", "last", "how", "decisions")

    def __init__(self, dst: Vma, src: Vma):
        self.dst, self.src = dst, src
        self.first = self.last = self.how = None
        self.decisions = ()

    def add(self, i: int, how: str | None, decisions=()) -> None:
        if how is None:
            self.flush()                       # copied early: copy_present_page() told it
            return
        if self.how == how and self.last == i - 1:
            self.last = i
            return
        self.flush()
        self.first = self.last = i
        self.how = how
        self.decisions = tuple(decisions)      # the run's first PTE speaks for it

    def flush(self) -> None:
        if self.how is None:
            return
        self.src.vm_mm.kernel.emit("copy_present_pte", "fork_shared",
                                   "wrprotect" if self.how == "wrprotect" else "share",
                                   (pte_id(self.src, self.first, self.last),
                                    pte_id(self.dst, self.first, self.last)), self.decisions,
                                   how=self.how, src=self.src.label(), dst=self.dst.label(),
                                   first=self.first, last=self.last)
        self.how = None


# -- unmapping ------------------------------------------------------------------

def zap_pte_range(vma: Vma, start: int, end: int) -> None:
    """Remove PTEs start..end-1 and drop their page references.  Kernel: zap_pte_range()."""
    k = vma.vm_mm.kernel
    unmapped = 0
    freed, kept = [], []
    ptes = vma.ptes
    for i in range(start, end):
        pte = ptes[i]
        if pte is None:
            continue
        ptes[i] = None
        unmapped += 1
        if pte.special:
            continue
        page = k.pages[pte.pfn]
        page_remove_rmap(page)
        if put_page(page):
            freed.append(page.pfn)
        elif page_mapcount(page) == 0 and len(kept) < 8:
            kept.append(page)
    if not unmapped:
        return
    k.emit("zap_pte_range", "zapped", "unmap",
           (pte_id(vma, start, end - 1),) + tuple(page_id(p) for p in freed[:64]),
           vma=vma.label(), unmapped=unmapped, freed=tuple(freed),
           kept=tuple((p.pfn, page_count(p), _holders_of(k, p)) for p in kept))


def _holders_of(k, page: Page) -> str:
    names = [h.name for h in k.holders.values() if any(r.page is page for r in h.refs)]
    if page.kind == "shmem" and page.mapping is not None:
        names.append("the page cache")
    return ", ".join(names) or "a reference"
