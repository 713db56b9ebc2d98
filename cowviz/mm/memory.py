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

from . import narration
from .events import Decision, facts, index_range, page_id, pte_id, vma_id
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
        k.emit("do_anonymous_page",
               f"{vma.label(i)} is read before anything was written there: it maps the shared "
               f"zero page, read-only.", "zero_page", (pte_id(vma, i), page_id(ZERO_PFN)))
        return 0
    if anon_vma_prepare(vma):
        return VM_FAULT_OOM
    page = alloc_page(k, f"{vma.label(i)}")
    if page is None:
        return _oom(vmf)
    if mem_cgroup_charge(page, vma.vm_mm):
        put_page(page)
        return _oom(vmf)
    page_add_new_anon_rmap(page, vma, i)
    writable = bool(vma.vm_flags & VM_WRITE)
    vma.ptes[i] = Pte(page.pfn, writable, writable)
    k.emit("do_anonymous_page",
           f"{vma.label(i)} is written for the first time: new page {page.pfn}, filed under "
           f"anon_vma {vma.anon_vma.id}, mapped writable.", "alloc",
           (pte_id(vma, i), page_id(page.pfn)))
    return 0


def _oom(vmf: Vmf) -> int:
    # MODEL: on VM_FAULT_OOM the kernel runs the (memcg) OOM killer and
    # retries; the model ends the access and the command reports ENOMEM.
    vmf.vma.vm_mm.kernel.emit(
        "handle_mm_fault",
        f"No page for {vmf.vma.label(vmf.index)}: VM_FAULT_OOM.  The kernel would now run the "
        f"OOM killer; the model stops the access here and reports ENOMEM.", "enomem",
        (pte_id(vmf.vma, vmf.index),))
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
        page = alloc_page(k, f"{vma.label(vmf.index)} (shmem)")
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
        k.emit("shmem_fault", f"New page {page.pfn} in the page cache of shmem file {shmem.id}, "
               f"offset {index}.", "alloc", (page_id(page.pfn),))
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
    vma.vm_mm.kernel.emit("finish_fault", f"{vma.label(i)} maps shmem page {page.pfn}.", None,
                          (pte_id(vma, i), page_id(page.pfn)))
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
        vma.vm_mm.kernel.emit(
            "do_fault_around",
            f"Fault-around maps the pages already in the page cache nearby: "
            f"{', '.join(vma.label(i) for i in mapped)}.", None,
            tuple(pte_id(vma, i) for i in mapped))


# -- write-protect faults --------------------------------------------------------

def do_wp_page(vmf: Vmf) -> int:
    """A write (or, 6.x, an unshare request) hit a read-only PTE.  Kernel: do_wp_page()."""
    vma, i = vmf.vma, vmf.index
    k = vma.vm_mm.kernel
    unshare = bool(vmf.flags & FAULT_FLAG_UNSHARE)
    page = vm_normal_page(vma, vmf.orig_pte)
    if vma.vm_flags & (VM_SHARED | VM_MAYSHARE):
        # MODEL: shmem has no ->page_mkwrite, so wp_page_shared() just reuses.
        return wp_page_reuse(vmf, page, f"{vma.label(i)} is a shared mapping: writes go to "
                                        f"page {page.pfn} itself.",
                             (Decision("do_wp_page", "shared", (), True),))
    if page is not None and PageAnon(page):
        decision = k.era.wp_can_reuse_anon_page(page, vma)
        why = narration.wp_why(page.pfn, decision.line, decision.reuse, dict(decision.seen))
        facts = (decision.decision(),)
        if decision.reuse:
            if decision.move_anon_rmap:
                page_move_anon_rmap(page, vma)
            if decision.exclusive:
                page.anon_exclusive = True            # SetPageAnonExclusive()
            if unshare:
                k.emit("do_wp_page",
                       f"Unshare fault on {vma.label(i)}: {why}  Page {page.pfn} is "
                       f"now marked exclusive and stays mapped read-only.", "unshare",
                       (pte_id(vma, i), page_id(page.pfn)), facts)
                return 0
            return wp_page_reuse(vmf, page, why, facts)
        k.emit("do_wp_page", f"{'Unshare' if unshare else 'Write'} fault on {vma.label(i)}: "
               f"{why}", None, (pte_id(vma, i), page_id(page.pfn)), facts)
        return wp_page_copy(vmf, page)
    # The zero page (no struct page to reuse): always a fresh copy.
    return wp_page_copy(vmf, page, (Decision("do_wp_page", "not_anon", (("anon", False),), False),))


def wp_page_reuse(vmf: Vmf, page: Page, why: str, decisions: tuple = ()) -> int:
    """Keep the page and make the PTE writable.  Kernel: wp_page_reuse()."""
    vma, i = vmf.vma, vmf.index
    # maybe_mkwrite(): only a VMA with VM_WRITE gets a writable PTE (a forced
    # GUP write to a read-only VMA leaves it read-only but dirty).
    writable = bool(vma.vm_flags & VM_WRITE)
    vma.ptes[i] = Pte(page.pfn, writable, True)
    now = "now writable" if writable else \
        "dirty but still read-only (maybe_mkwrite(): the VMA has no VM_WRITE)"
    vma.vm_mm.kernel.emit("wp_page_reuse",
                          f"{why}  {vma.label(i)} keeps page {page.pfn}, {now}.", "reuse",
                          (pte_id(vma, i), page_id(page.pfn)), decisions)
    return VM_FAULT_WRITE


def wp_page_copy(vmf: Vmf, old: Page | None, decisions: tuple = ()) -> int:
    """Give the faulting PTE a private copy of the page.  Kernel: wp_page_copy()."""
    vma, i = vmf.vma, vmf.index
    k = vma.vm_mm.kernel
    unshare = bool(vmf.flags & FAULT_FLAG_UNSHARE)
    if anon_vma_prepare(vma):
        return VM_FAULT_OOM
    new = alloc_page(k, f"the copy for {vma.label(i)}")
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
    source = f"a copy of page {old.pfn}" if old is not None else "zero-filled (the zero page is never copied)"
    freed = ""
    if old is not None:
        page_remove_rmap(old)
        if put_page(old):
            freed = f"  Page {old.pfn} had no other user and is freed."
    k.emit("wp_page_copy",
           f"{vma.label(i)} gets new page {new.pfn}, {source}, filed under anon_vma "
           f"{vma.anon_vma.id}{', read-only' if unshare else ''}.{freed}",
           "unshare" if unshare else "cow_copy",
           (pte_id(vma, i), page_id(new.pfn)) + ((page_id(old.pfn),) if old is not None else ()),
           decisions)
    return 0 if unshare else VM_FAULT_WRITE


# -- fork: copying the page tables ----------------------------------------------

class Prealloc:
    """The `struct page **prealloc` that copy_pte_range() hands down."""
    __slots__ = ("page",)

    def __init__(self):
        self.page: Page | None = None


# What copy_present_pte() did with one PTE, for the narration of a run.
SHARED_WRPROTECT = 1   # writable in the parent: both now read-only, page shared
SHARED_READONLY = 2    # already read-only: shared as it was
SHARED_ZERO = 3        # the zero page: copied as a special PTE
SHARED_FILE = 4        # a shared mapping's page: mapped in both, writable as before
COPIED = 5             # copied early for the child


def copy_page_range(dst_vma: Vma, src_vma: Vma) -> int:
    """Copy the parent's page table for one VMA into the child.  Kernel: copy_page_range()."""
    k = src_vma.vm_mm.kernel
    # Page faults fill in shared and never-written mappings just as well, and
    # fork is much cheaper for not copying them.
    if not (src_vma.vm_flags & (VM_HUGETLB | VM_PFNMAP | VM_MIXEDMAP)) and src_vma.anon_vma is None:
        if any(p is not None for p in src_vma.ptes):
            k.emit("copy_page_range",
                   f"{src_vma.label()} has no anon_vma: no PTEs are copied; "
                   f"{dst_vma.vm_mm.owner} will fault its pages in when it touches them.",
                   None, (vma_id(dst_vma),))
        return 0
    return copy_pte_range(dst_vma, src_vma, 0, src_vma.npages)


def copy_pte_range(dst_vma: Vma, src_vma: Vma, start: int, end: int) -> int:
    """Copy PTEs start..end-1; preallocate and retry where an early copy needs a page.  Kernel: copy_pte_range()."""
    prealloc = Prealloc()
    runs = _RunNarrator(dst_vma, src_vma)
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
            ret = copy_present_pte(dst_vma, src_vma, i, prealloc, decided)
            if ret == -EAGAIN:
                break                                     # retry this PTE with a page
            runs.add(i, ret, decided)
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

    Returns what it did (SHARED_* or COPIED), or -EAGAIN when an early copy
    needs a preallocated page.  The tests that decided are added to `decided`.
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
    what = SHARED_ZERO if page is None else SHARED_FILE if not PageAnon(page) else SHARED_READONLY
    # A private page that both processes map must be read-only in both, so
    # the first write to it faults and the writer gets its own copy.
    cow = is_cow_mapping(src_vma.vm_flags)
    decided.append(Decision("copy_present_pte", "wrprotect", (("cow", cow), ("write", pte.write)),
                            cow and pte.write))
    if cow and pte.write:
        pte = pte_wrprotect(pte)
        src_vma.ptes[i] = pte
        what = SHARED_WRPROTECT
    if src_vma.vm_flags & VM_SHARED:
        pte = pte_mkclean(pte)
    dst_vma.ptes[i] = pte
    return what


def copy_present_page(dst_vma: Vma, src_vma: Vma, i: int, prealloc: Prealloc, page: Page,
                      decisions: tuple = ()) -> int:
    """Give the child its own copy of a maybe-pinned page right now.  Kernel: copy_present_page() (5.9+)."""
    k = src_vma.vm_mm.kernel
    new = prealloc.page
    if new is None:
        d = decisions[-1]              # the era's test that said "copy"
        why = narration.fork_copy_why(page.pfn, page_count(page), k.era.kernel_name(d.fn), d.line,
                                      k.era.facts.has_pinned_flag)
        k.emit("copy_present_page", f"{why}  No page was preallocated: copy_present_page() "
               f"returns -EAGAIN, and {k.era.kernel_name('copy_pte_range')}() drops the page-table "
               f"locks to allocate one.", None, (pte_id(src_vma, i), page_id(page.pfn)),
               decisions + (Decision("copy_present_page", "prealloc", (("prealloc", False),), False),))
        return -EAGAIN
    prealloc.page = None
    new.data = page.data                                # copy_user_highpage()
    # The copy is the child's: it goes into the child's VMA and so under the
    # child's anon_vma, which is why copy_page_range() is given the new VMA.
    page_add_new_anon_rmap(new, dst_vma, i)
    writable = bool(dst_vma.vm_flags & VM_WRITE)
    dst_vma.ptes[i] = Pte(new.pfn, writable, True)     # maybe_mkwrite(pte_mkdirty())
    k.emit("copy_present_page",
           f"Page {page.pfn} may be DMA-pinned: copying it for the child now.  "
           f"{dst_vma.label(i)} gets page {new.pfn} (filed under the child's anon_vma "
           f"{dst_vma.anon_vma.id}); {src_vma.label(i)} keeps page {page.pfn}"
           f"{', still writable' if src_vma.ptes[i].write else ''}.",
           "early_copy", (pte_id(dst_vma, i), pte_id(src_vma, i), page_id(new.pfn), page_id(page.pfn)),
           decisions + (Decision("copy_present_page", "prealloc", (("prealloc", True),), True),))
    return COPIED


def page_copy_prealloc(src_mm, src_vma: Vma, i: int) -> Page | None:
    """Allocate the page for an early copy, charged to the parent.  Kernel: page_copy_prealloc()."""
    k = src_mm.kernel
    new = alloc_page(k, f"the early copy of {src_vma.label(i)}")
    if new is None:
        k.emit("page_copy_prealloc", "No page for the early copy: fork() fails with ENOMEM.", "enomem")
        return None
    # The parent pays: it did the pinning that makes the copy necessary, and
    # the child is not in any cgroup of its own yet.
    if mem_cgroup_charge(new, src_mm):
        put_page(new)
        k.emit("page_copy_prealloc", "The parent's memcg cannot take the early copy: fork() fails "
               "with ENOMEM.", "enomem")
        return None
    k.emit("page_copy_prealloc", f"Allocated page {new.pfn} for the early copy, charged to memcg "
           f"{src_mm.memcg.name} (the parent's).", "alloc", (page_id(new.pfn),))
    return new


class _RunNarrator:
    """Turns per-PTE results of copy_pte_range() into one event per run of alike PTEs."""
    __slots__ = ("dst", "src", "first", "last", "what", "decisions")

    TEXT = {
        SHARED_WRPROTECT: "{src} and {dst}{r} now map the same {pages}, write-protected in both: "
                          "the first write on either side will fault.",
        SHARED_READONLY: "{dst}{r} maps the same {pages} as {src}, read-only as before.",
        SHARED_ZERO: "{dst}{r} maps the shared zero page, like {src}.",
        SHARED_FILE: "{dst}{r} maps the same shmem {pages} as {src}.",
    }

    def __init__(self, dst: Vma, src: Vma):
        self.dst, self.src = dst, src
        self.first = self.last = self.what = None
        self.decisions = ()

    def add(self, i: int, what: int, decisions=()) -> None:
        if what == COPIED:
            self.flush()
            return
        if self.what == what and self.last == i - 1:
            self.last = i
            return
        self.flush()
        self.first = self.last = i
        self.what = what
        self.decisions = tuple(decisions)      # the run's first PTE speaks for it

    def flush(self) -> None:
        if self.what is None:
            return
        r = index_range(self.first, self.last)
        text = self.TEXT[self.what].format(src=self.src.label() + r, dst=self.dst.label(), r=r,
                                           pages="page" if self.first == self.last else "pages")
        tag = "wrprotect" if self.what == SHARED_WRPROTECT else "share"
        self.src.vm_mm.kernel.emit("copy_present_pte", text, tag,
                                   (pte_id(self.src, self.first, self.last),
                                    pte_id(self.dst, self.first, self.last)), self.decisions)
        self.what = None


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
    text = f"{vma.label()}: {unmapped} PTE{'s' if unmapped != 1 else ''} removed."
    if freed:
        shown = ", ".join(map(str, freed[:8])) + (" ..." if len(freed) > 8 else "")
        text += f"  Freed page{'s' if len(freed) > 1 else ''} {shown}."
    for page in kept:
        text += (f"  Page {page.pfn} is mapped by nobody now but stays: refcount "
                 f"{page_count(page)} (held by {_holders_of(k, page)}).")
    k.emit("zap_pte_range", text, "unmap",
           (pte_id(vma, start, end - 1),) + tuple(page_id(p) for p in freed[:64]))


def _holders_of(k, page: Page) -> str:
    names = [h.name for h in k.holders.values() if any(r.page is page for r in h.refs)]
    if page.kind == "shmem" and page.mapping is not None:
        names.append("the page cache")
    return ", ".join(names) or "a reference"
