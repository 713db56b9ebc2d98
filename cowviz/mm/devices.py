"""Devices, DMA and pipes: the holders of GUP references, and what they do with the pages they hold.

A holder (a device such as an RDMA NIC, or a pipe) gets its references from
get_user_pages() or pin_user_pages() (gup.py).  A device then reads and writes
those pages by DMA, past every page table; a pipe hands a page's data to
whoever reads it.  Both find out here whether the process that gave them the
page still maps it: if not, a DMA write is lost to the process, a DMA read is
stale, or a pipe hands out data another process wrote (the CVE-2020-29374 leak).

Each function returns what its system call would: 0 or data, or a negative errno.
Kernel: fs/splice.c (vmsplice), fs/pipe.c (pipe_read), mm/gup.c (unpin_user_page);
device DMA is no kernel function, so its events name the device.
"""
from __future__ import annotations

from .events import holder_id, page_id
from .gup import get_user_pages, release_ref
from .types import EAGAIN, EFAULT, FOLL_GET, FOLL_PIN, FOLL_WRITE, Holder, MmStruct

DEVICE = "device DMA"       # who acts in a DMA event


def unpin(k, holder: str) -> int:
    """Drop every reference the holder has.  Kernel: unpin_user_pages() / put_page()."""
    h = k.holders.get(holder)
    if h is None or not h.refs:
        k.emit("unpin_user_page", "holds_nothing", holder=holder)
        return 0
    freed, pfns = [], []
    for ref in h.refs:
        pfns.append(ref.page.pfn)
        if release_ref(ref):
            freed.append(ref.page.pfn)
    pins = sum(1 for r in h.refs if r.flags & FOLL_PIN)
    shown = sorted(set(pfns))
    refs = len(h.refs)
    h.refs.clear()
    k.emit("unpin_user_page" if pins else "put_page", "let_go", "unpin" if pins else "put",
           (holder_id(h),) + tuple(page_id(p) for p in shown),
           holder=holder, pfns=tuple(shown), refs=refs, freed=tuple(sorted(set(freed))))
    return 0


def dma_write(k, holder: str, value: str) -> int:
    """The device writes `value` into every page it holds, bypassing all page tables."""
    h = k.holders.get(holder)
    if h is None or not h.refs:
        return -EFAULT
    if any(not r.flags & FOLL_WRITE for r in h.refs):
        k.emit(DEVICE, "iommu_refuses", "signal", (holder_id(h),), holder=holder)
        return -EFAULT
    k.write_seq += 1
    for ref in h.refs:
        page = ref.page
        if page.kind == "zero":
            continue
        page.data = value
        page.last_write = (k.write_seq, h)
        if not _check_stale(k, h, ref, wrote=value):
            k.emit(DEVICE, "dma_wrote", None, (holder_id(h), page_id(page.pfn)), holder=holder,
                   value=value, pfn=page.pfn, task=ref.task, vma=ref.vma, index=ref.index)
    return 0


def dma_read(k, holder: str) -> str | int:
    """The device reads the pages it holds: their data, comma-separated."""
    h = k.holders.get(holder)
    if h is None or not h.refs:
        return -EFAULT
    values = []
    for ref in h.refs:
        values.append(ref.page.data)
        if not _check_stale(k, h, ref):
            k.emit(DEVICE, "dma_read", None, (holder_id(h), page_id(ref.page.pfn)), holder=holder,
                   pfn=ref.page.pfn, data=ref.page.data)
    return ",".join(values)


def _check_stale(k, h: Holder, ref, wrote: str | None = None) -> bool:
    """Say so when the device and its process no longer share the page.  True if they do not."""
    page = ref.page
    task = k.tasks.get(ref.task)
    if task is None or task.mm is not ref.mm:
        return False
    now = k.page_of(ref.task, ref.vma, ref.index)
    if now is page:
        return False
    objs = (holder_id(h), page_id(page.pfn))
    where = dict(holder=h.name, pfn=page.pfn, task=ref.task, vma=ref.vma)
    _, vma_now = k.find(ref.task, ref.vma)
    if ref.vma_obj is not None and vma_now is not ref.vma_obj:
        # The process itself unmapped the range it pinned (and maybe mapped
        # another one under the name): the kernel kept nothing from it.
        if wrote is not None:
            k.emit(DEVICE, "dma_write_unmapped", "lost_dma", objs, wrote=wrote,
                   remapped=vma_now is not None, **where)
        else:
            k.emit(DEVICE, "dma_read_unmapped", "stale_pin", objs, remapped=vma_now is not None, **where)
        return True
    now_pfn = now.pfn if now is not None else None
    if wrote is not None:
        k.emit(DEVICE, "dma_write_lost", "lost_dma", objs, wrote=wrote, index=ref.index, now=now_pfn, **where)
    else:
        k.emit(DEVICE, "dma_read_stale", "stale_pin", objs, index=ref.index, now=now_pfn, **where)
    return True


def vmsplice(k, mm: MmStruct, task: str, vma, i: int, pipe: str) -> int:
    """vmsplice() one page into a pipe: the pipe keeps a read-only FOLL_GET reference.  Kernel: vmsplice_to_pipe()."""
    h = k.holders.get(pipe) or k.holders.setdefault(pipe, Holder(pipe, "pipe"))
    return get_user_pages(mm, task, vma, i, FOLL_GET, h)


def pipe_read(k, pipe: str) -> str | int:
    """read() one page from the pipe: hands out its data and drops the reference.  Kernel: pipe_read()."""
    h = k.holders.get(pipe)
    if h is None or not h.refs:
        k.emit("pipe_read", "pipe_empty", pipe=pipe)
        return -EAGAIN
    ref = h.refs.pop(0)
    page = ref.page
    data = page.data
    seq, writer = page.last_write
    if seq > ref.seq and writer is not ref.mm:
        who = writer.owner if isinstance(writer, MmStruct) else getattr(writer, "name", "someone")
        k.emit("pipe_read", "pipe_leak", "leak", (holder_id(h), page_id(page.pfn)), pipe=pipe,
               data=data, who=who, pfn=page.pfn, task=ref.task)
    else:
        k.emit("pipe_read", "pipe_hands_out", None, (holder_id(h), page_id(page.pfn)), pipe=pipe,
               pfn=page.pfn, data=data)
    release_ref(ref)
    return data
