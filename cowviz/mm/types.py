"""The kernel objects the model is made of, with the kernel's field names.

    task ──> mm_struct ──> vm_area_struct ──> page table (one pte_t per page)
                 │               │                  │
                 │               └─ anon_vma_chain ─┼─> anon_vma (root, parent)
                 │                                  v
                 └─ memcg <──── charged ──────── struct page <── holders (GUP refs, pins, pipes)

Everything here is plain data plus the small helpers the kernel reads its
counters through (page_count(), page_mapcount(), ...).  The functions that
change state live in memory.py, rmap.py, gup.py, fork.py and mmap.py.

MODEL: base (4 KiB) pages only.  No THP, hugetlb, swap, KSM, page migration
or LRU batching, so no reference ever comes from those; the eras' rules are
modelled for what is left (kernel-history.md sections 3-9 say where THP and
swap behaved differently).  No concurrency either: each command runs to the
end before the next one starts.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

PAGE_SIZE = 4096
PAGE_SHIFT = 12

# include/linux/mm.h: a pin adds this much to the page refcount, so that
# page_maybe_dma_pinned() can guess from the refcount alone.
GUP_PIN_COUNTING_BIAS = 1 << 10

# vm_flags (include/linux/mm.h values)
VM_READ = 0x00000001
VM_WRITE = 0x00000002
VM_EXEC = 0x00000004
VM_SHARED = 0x00000008
VM_MAYREAD = 0x00000010
VM_MAYWRITE = 0x00000020
VM_MAYEXEC = 0x00000040
VM_MAYSHARE = 0x00000080
VM_DONTCOPY = 0x00020000
VM_WIPEONFORK = 0x02000000
# Never set by this model, but named so copy_page_range() reads like the C.
VM_HUGETLB = 0x00400000
VM_PFNMAP = 0x00000400
VM_MIXEDMAP = 0x10000000

VM_FLAG_NAMES = (
    (VM_READ, "read"), (VM_WRITE, "write"), (VM_SHARED, "shared"),
    (VM_MAYWRITE, "maywrite"), (VM_DONTCOPY, "dontcopy"), (VM_WIPEONFORK, "wipeonfork"),
)

# gup_flags (include/linux/mm.h)
FOLL_WRITE = 0x01
FOLL_GET = 0x04
FOLL_FORCE = 0x10
FOLL_COW = 0x4000          # internal: a COW fault happened on a VMA without VM_WRITE (<= 5.19)
FOLL_LONGTERM = 0x10000
FOLL_PIN = 0x40000

# fault flags and results (include/linux/mm_types.h)
FAULT_FLAG_WRITE = 0x01
FAULT_FLAG_UNSHARE = 0x400
VM_FAULT_OOM = 0x0001
VM_FAULT_SIGSEGV = 0x0040
VM_FAULT_WRITE = 0x0008

# errno values the model hands back as negative ints, like the kernel.
ENOMEM = 12
EAGAIN = 11
EBUSY = 16
EFAULT = 14
EINVAL = 22

ZERO_PFN = 0


class Pte(NamedTuple):
    """A present pte_t.  An absent entry is None in the page table.

    Immutable like a pte_t value: changing a bit means set_pte_at() of a new
    value, so parent and child may share one object after fork.
    """
    pfn: int
    write: bool
    dirty: bool
    special: bool = False      # the zero page: vm_normal_page() returns NULL for it


def pte_write(pte: Optional[Pte]) -> bool:
    """Is the PTE present and writable?  Kernel: pte_write()."""
    return pte is not None and pte.write


def pte_wrprotect(pte: Pte) -> Pte:
    """The PTE with its write bit cleared.  Kernel: pte_wrprotect()."""
    return Pte(pte.pfn, False, pte.dirty, pte.special)


def pte_mkclean(pte: Pte) -> Pte:
    """The PTE with its dirty bit cleared.  Kernel: pte_mkclean()."""
    return Pte(pte.pfn, pte.write, False, pte.special)


def is_cow_mapping(vm_flags: int) -> bool:
    """Private and may become writable.  Kernel: include/linux/mm.h is_cow_mapping()."""
    return (vm_flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE


class Page:
    """A struct page for one 4 KiB frame.  `data` is the short value token it holds."""
    __slots__ = ("pfn", "_refcount", "_mapcount", "mapping", "index", "anon_exclusive",
                 "data", "memcg", "kind", "last_write", "kernel")

    def __init__(self, kernel, pfn: int, kind: str):
        self.kernel = kernel
        self.pfn = pfn
        self.kind = kind              # "anon" | "shmem" | "zero"
        self._refcount = 1            # the allocator hands out a page with one reference
        self._mapcount = -1           # page_mapcount() = _mapcount + 1
        self.mapping = None           # AnonVma for PageAnon pages, Shmem for page-cache pages
        self.index = 0                # page->index: linear_page_index() of the first mapping
        self.anon_exclusive = False   # PG_anon_exclusive, only meaningful in the 6.x era
        self.data = "0"
        self.memcg = None             # the Memcg this page is charged to
        self.last_write = (0, None)   # (sequence number, who wrote): used to spot leaks

    def __repr__(self):
        return f"<page {self.pfn} count={self._refcount} map={self._mapcount + 1} {self.data!r}>"


def page_count(page: Page) -> int:
    """The reference count.  Kernel: page_count()."""
    return page._refcount


def page_mapcount(page: Page) -> int:
    """How many PTEs map the page.  Kernel: page_mapcount()."""
    return page._mapcount + 1


def page_mapped(page: Page) -> bool:
    """Is any PTE mapping the page?  Kernel: page_mapped()."""
    return page._mapcount >= 0


def page_maybe_dma_pinned(page: Page) -> bool:
    """Might the page be pinned?  Kernel: include/linux/mm.h page_maybe_dma_pinned().

    For a small page the kernel has no pin counter: it guesses from the
    refcount, so 1024 ordinary references look exactly like one pin.
    """
    return page._refcount >= GUP_PIN_COUNTING_BIAS


def PageAnon(page: Optional[Page]) -> bool:
    """Is this an anonymous page (mapping points to an anon_vma)?  Kernel: PageAnon()."""
    return page is not None and isinstance(page.mapping, AnonVma)


def PageAnonExclusive(page: Page) -> bool:
    """Is the anonymous page known to be mapped by one mm only?  Kernel: PageAnonExclusive() (5.19+)."""
    return page.anon_exclusive


def is_zero_page(page: Optional[Page]) -> bool:
    """Is this the shared zero page?  Kernel: is_zero_pfn(page_to_pfn(page))."""
    return page is not None and page.kind == "zero"


class AnonVma:
    """struct anon_vma: the rmap anchor for anonymous pages of a family of VMAs.

    `degree` (5.x) is num_children + num_active_vmas (6.x), which is how the
    6.0 commit 2555283eb40d split it; the model keeps the two counters and
    lets each era read the one it had.
    """
    __slots__ = ("kernel", "id", "root", "parent", "refcount", "num_children", "num_active_vmas",
                 "rb_root")

    def __init__(self, kernel, id: int):
        self.kernel = kernel
        self.id = id
        self.root = self
        self.parent = self
        self.refcount = 1
        self.num_children = 0
        self.num_active_vmas = 0
        self.rb_root: list[AnonVmaChain] = []   # MODEL: an interval tree in the kernel

    @property
    def degree(self) -> int:
        return self.num_children + self.num_active_vmas

    def __repr__(self):
        return f"<anon_vma {self.id}>"


class AnonVmaChain:
    """struct anon_vma_chain: links one VMA into one anon_vma's tree."""
    __slots__ = ("vma", "anon_vma")

    def __init__(self, vma: "Vma", anon_vma: AnonVma):
        self.vma = vma
        self.anon_vma = anon_vma


class Shmem:
    """The shmem file behind a MAP_SHARED|MAP_ANONYMOUS mapping; its page cache holds one reference per page."""
    __slots__ = ("id", "pages", "refs")

    def __init__(self, id: int):
        self.id = id
        self.pages: dict[int, Page] = {}
        self.refs = 0          # VMAs that map the file


class Vma:
    """struct vm_area_struct, with its part of the page table.

    MODEL: the kernel keeps one page table per mm, indexed by address.  VMAs
    here are never split or merged (commands act on whole VMAs), so each VMA
    owns the PTEs for its own range: ptes[i] is the entry for vm_start + i pages.
    """
    __slots__ = ("vm_mm", "name", "vm_start", "vm_end", "vm_pgoff", "vm_flags",
                 "anon_vma", "anon_vma_chain", "vm_file", "ptes")

    def __init__(self, mm: "MmStruct", name: str, vm_start: int, npages: int, vm_flags: int):
        self.vm_mm = mm
        self.name = name
        self.vm_start = vm_start
        self.vm_end = vm_start + npages * PAGE_SIZE
        self.vm_pgoff = vm_start >> PAGE_SHIFT
        self.vm_flags = vm_flags
        self.anon_vma: Optional[AnonVma] = None
        self.anon_vma_chain: list[AnonVmaChain] = []   # newest first, like list_add()
        self.vm_file: Optional[Shmem] = None
        self.ptes: list[Optional[Pte]] = [None] * npages

    @property
    def npages(self) -> int:
        return len(self.ptes)

    def label(self, i: Optional[int] = None) -> str:
        """How narration names this VMA or one of its pages: `P buf` or `P buf[2]`."""
        base = f"{self.vm_mm.owner} {self.name}"
        return base if i is None else f"{base}[{i}]"

    def __repr__(self):
        return f"<vma {self.label()}>"


def linear_page_index(vma: Vma, i: int) -> int:
    """page->index for the i-th page of the VMA.  Kernel: linear_page_index()."""
    return vma.vm_pgoff + i


def vma_address(page: Page, vma: Vma) -> Optional[int]:
    """Which page of `vma` would map `page`, or None if outside it.  Kernel: vma_address()."""
    i = page.index - vma.vm_pgoff
    return i if 0 <= i < vma.npages else None


class MmStruct:
    """struct mm_struct: an address space, shared by the threads that use it."""
    __slots__ = ("kernel", "id", "owner", "mmap", "map_count", "has_pinned", "mm_users",
                 "memcg", "next_addr")

    def __init__(self, kernel, id: int, owner: str, memcg: "Memcg"):
        self.kernel = kernel
        self.id = id
        self.owner = owner                 # the task that created it; names its objects
        self.mmap: dict[str, Vma] = {}     # by VMA name, in address order
        self.map_count = 0
        # Kernel: mm_init() clears it; FOLL_PIN sets it; nothing else ever resets it.
        # 5.9 calls it mm->has_pinned, 5.14+ the MMF_HAS_PINNED bit of mm->flags.
        self.has_pinned = False
        self.mm_users = 1
        self.memcg = memcg
        self.next_addr = 0x10000000

    def __repr__(self):
        return f"<mm {self.owner}>"


class Task:
    """A task_struct: a name, an mm (shared by threads) and the memcg it is charged to."""
    __slots__ = ("name", "mm", "memcg")

    def __init__(self, name: str, mm: MmStruct, memcg: "Memcg"):
        self.name = name
        self.mm = mm
        self.memcg = memcg


class Memcg:
    """A memory cgroup: how many pages are charged to it and its limit (None: none)."""
    __slots__ = ("name", "usage", "limit")

    def __init__(self, name: str):
        self.name = name
        self.usage = 0
        self.limit: Optional[int] = None


class GupRef:
    """One reference a holder took on a page: FOLL_GET or FOLL_PIN, and where it came from."""
    __slots__ = ("page", "flags", "mm", "task", "vma", "index", "seq", "vma_obj")

    def __init__(self, page: Page, flags: int, mm: MmStruct, task: str, vma: str, index: int, seq: int,
                 vma_obj: "Vma | None" = None):
        self.page = page
        self.flags = flags
        self.mm = mm          # the mm the page was looked up in
        self.task = task      # names, for narration and the lost-DMA check
        self.vma = vma
        self.index = index
        self.seq = seq        # write sequence number when the reference was taken
        self.vma_obj = vma_obj    # the VMA it was taken through (a later mmap of the name is another)

    def fields(self) -> tuple:
        return (self.page, self.flags, self.mm, self.task, self.vma, self.index, self.seq, self.vma_obj)


class Holder:
    """Somebody holding page references that are not mappings: a device or a pipe.

    A device takes references with get_user_pages() (FOLL_GET) or
    pin_user_pages() (FOLL_PIN); a pipe holds the FOLL_GET references that
    vmsplice() took, oldest first.
    """
    __slots__ = ("name", "kind", "refs", "counted")

    def __init__(self, name: str, kind: str):
        self.name = name
        self.kind = kind      # "device" | "pipe"
        self.refs: list[GupRef] = []
        self.counted = None   # check_invariants' count of alike references, with the references it counted

    def __reduce__(self):
        # A copy of the kernel (the sandbox keeps some, cowviz/scenario/runner.py) stores a run of
        # alike references (gup ... x2048) once, with its length.
        runs: list = []
        for r in self.refs:
            f = r.fields()
            if runs and runs[-1][0] == f:
                runs[-1][1] += 1
            else:
                runs.append([f, 1])
        return _holder, (self.name, self.kind, runs)


def _holder(name: str, kind: str, runs: list) -> Holder:
    h = Holder(name, kind)
    h.refs = [GupRef(*f) for f, n in runs for _ in range(n)]
    return h
