"""Creating, changing and removing VMAs.  Kernel: mm/mmap.c, mm/mprotect.c, mm/madvise.c.

MODEL: commands act on whole VMAs, so VMAs are never split or merged, and
get_unmapped_area() leaves a gap after each VMA so the kernel would not merge
them either.
"""
from __future__ import annotations

from .events import facts, page_id, pte_id, vma_id
from .memory import vm_normal_page, zap_pte_range
from .page_alloc import put_page
from .rmap import unlink_anon_vmas
from .types import (EINVAL, PAGE_SIZE, VM_DONTCOPY, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE,
                    VM_MAYWRITE, VM_READ, VM_SHARED, VM_WIPEONFORK, VM_WRITE, MmStruct, Pte,
                    Shmem, Vma)

VMA_ALIGN = 0x200000        # each VMA starts on its own 2 MiB boundary


def get_unmapped_area(mm: MmStruct, npages: int) -> int:
    """Pick the address for a new VMA.  Kernel: get_unmapped_area()."""
    addr = mm.next_addr
    end = addr + npages * PAGE_SIZE
    mm.next_addr = (end + PAGE_SIZE + VMA_ALIGN - 1) // VMA_ALIGN * VMA_ALIGN
    return addr


def do_mmap(mm: MmStruct, name: str, npages: int, shared: bool, writable: bool) -> Vma:
    """mmap(MAP_ANONYMOUS | MAP_PRIVATE or MAP_SHARED).  Kernel: do_mmap() -> mmap_region()."""
    k = mm.kernel
    vm_flags = VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC
    if writable:
        vm_flags |= VM_WRITE
    if shared:
        vm_flags |= VM_SHARED | VM_MAYSHARE
    vma = Vma(mm, name, get_unmapped_area(mm, npages), npages, vm_flags)
    if shared:
        # shmem_zero_setup(): shared anonymous memory is a file on an
        # internal tmpfs; its offset in that file starts at 0.
        vma.vm_file = Shmem(k.next_shmem_id)
        k.next_shmem_id += 1
        vma.vm_file.refs = 1
        vma.vm_pgoff = 0
    mm.mmap[name] = vma
    mm.map_count += 1
    k.emit("do_mmap", "mapped", None, (vma_id(vma),), vma=vma.label(), npages=npages, start=vma.vm_start,
           end=vma.vm_end, shared=shared, writable=writable)
    return vma


def remove_vma(vma: Vma) -> None:
    """Tear down one VMA: its PTEs, its anon_vma links, its file.  Kernel: unmap_region() + remove_vma()."""
    mm = vma.vm_mm
    zap_pte_range(vma, 0, vma.npages)
    unlink_anon_vmas(vma)                       # free_pgtables()
    if vma.vm_file is not None:
        fput_shmem(mm.kernel, vma.vm_file)
    del mm.mmap[vma.name]
    mm.map_count -= 1


def fput_shmem(k, shmem: Shmem) -> None:
    """Drop a VMA's reference to the shmem file; the last one truncates its page cache.  Kernel: fput() -> shmem_evict_inode()."""
    shmem.refs -= 1
    if shmem.refs:
        return
    freed = []
    for page in shmem.pages.values():
        page.mapping = None
        if put_page(page):
            freed.append(page.pfn)
    shmem.pages.clear()
    if freed:
        k.emit("shmem_evict_inode", "shmem_evicted", "free", tuple(map(page_id, freed)), file=shmem.id,
               freed=tuple(freed))


def do_munmap(mm: MmStruct, vma: Vma) -> None:
    """munmap() of a whole VMA.  Kernel: do_munmap()."""
    mm.kernel.emit("do_munmap", "unmapped", "unmap", (vma_id(vma),), vma=vma.label())
    remove_vma(vma)


def mprotect_fixup(vma: Vma, writable: bool) -> None:
    """mprotect(PROT_READ or PROT_READ|PROT_WRITE) of a whole VMA.  Kernel: mprotect_fixup()."""
    k = vma.vm_mm.kernel
    newflags = (vma.vm_flags | VM_WRITE) if writable else (vma.vm_flags & ~VM_WRITE)
    if newflags == vma.vm_flags:
        k.emit("mprotect_fixup", "prot_unchanged", vma=vma.label(), writable=writable)
        return
    vma.vm_flags = newflags
    change_protection(vma, writable)


def change_protection(vma: Vma, writable: bool) -> None:
    """Apply the new protection to present PTEs.  Kernel: change_protection() -> change_pte_range()."""
    k = vma.vm_mm.kernel
    changed = []
    decided = {}        # the first test of each kind and answer, for the code panel
    for i, pte in enumerate(vma.ptes):
        if pte is None:
            continue
        if not writable:
            if pte.write:
                vma.ptes[i] = Pte(pte.pfn, False, pte.dirty, pte.special)
                changed.append(i)
            continue
        if pte.write:
            continue
        if vma.vm_flags & VM_SHARED:
            # A shared shmem mapping needs no write notification: its new
            # protection is simply writable.
            vma.ptes[i] = Pte(pte.pfn, True, pte.dirty, pte.special)
            changed.append(i)
        else:
            verdict = k.era.can_change_pte_writable(vma, pte, vm_normal_page(vma, pte))
            for d in facts(verdict):
                decided.setdefault((d.fn, d.line, d.answer), d)
            if verdict:
                vma.ptes[i] = Pte(pte.pfn, True, pte.dirty, pte.special)
                changed.append(i)
    k.emit("change_protection", "prot_changed", "wrprotect" if not writable and changed else "flag",
           tuple(pte_id(vma, i) for i in changed) + (vma_id(vma),), tuple(decided.values()),
           vma=vma.label(), writable=writable,
           private=not vma.vm_flags & VM_SHARED, changed=tuple(vma.label(i) for i in changed))


MADVISE = {
    "dontfork": ("MADV_DONTFORK", VM_DONTCOPY, True),
    "dofork": ("MADV_DOFORK", VM_DONTCOPY, False),
    "wipeonfork": ("MADV_WIPEONFORK", VM_WIPEONFORK, True),
    "keeponfork": ("MADV_KEEPONFORK", VM_WIPEONFORK, False),
}


def madvise_behavior(vma: Vma, advice: str) -> int:
    """madvise() of a whole VMA with one of the fork advices.  Kernel: madvise_behavior()."""
    k = vma.vm_mm.kernel
    name, flag, on = MADVISE[advice]
    if advice == "wipeonfork" and (vma.vm_file is not None or vma.vm_flags & VM_SHARED):
        k.emit("madvise_behavior", "madvise_einval", advice=name)
        return -EINVAL
    vma.vm_flags = (vma.vm_flags | flag) if on else (vma.vm_flags & ~flag)
    k.emit("madvise_behavior", "madvised", "flag", (vma_id(vma),), advice=advice, name_of=name,
           vma=vma.label())
    return 0


def exit_mmap(mm: MmStruct) -> None:
    """Tear down a whole address space.  Kernel: exit_mmap()."""
    for vma in list(mm.mmap.values()):
        remove_vma(vma)
