"""The machine: all state of one simulated kernel, and the system calls that act on it.

A Kernel is built for one era and driven one call at a time; every call
returns an Outcome and leaves its events in `kernel.events` (the caller takes
them with take_events()).  Nothing here prints, reads files or knows about
the web: the scenario runner, the CLI and the browser all drive this object.

Calls name tasks, VMAs and holders by name.  A task that does not exist (it
exited, or its fork failed) gives ESRCH; a VMA name the task does not map
gives what the kernel gives for an unmapped address (SIGSEGV for an access,
EFAULT for GUP, ENOMEM for mprotect and madvise).
"""
from __future__ import annotations

from typing import NamedTuple

from . import fork as _fork
from .events import Event, holder_id, memcg_id, page_id, pte_id, task_id
from .gup import get_user_pages, release_ref
from .memory import handle_mm_fault, pte_page
from .mmap import do_mmap, do_munmap, madvise_behavior, mprotect_fixup
from .types import (FAULT_FLAG_WRITE, FOLL_GET, FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE,
                    VM_FAULT_OOM, VM_WRITE, ZERO_PFN, Holder, Memcg, MmStruct, Page, Pte, Task,
                    Vma, page_count)


class Outcome(NamedTuple):
    """What a call returned: a value (e.g. the data read), or an error name."""
    output: str | None = None
    error: str | None = None

    @property
    def result(self) -> str:
        """The error, else the value, else "ok": what `expect:` is compared with."""
        return self.error or (self.output if self.output is not None else "ok")


# Device DMA and plain CPU accesses are not kernel functions; their events
# say who acted instead.
DEVICE = "device DMA"
CPU = "cpu"

OK = Outcome()
ESRCH = Outcome(error="ESRCH")
SIGSEGV = Outcome(error="SIGSEGV")
EFAULT = Outcome(error="EFAULT")
ENOMEM = Outcome(error="ENOMEM")


class Kernel:
    """One simulated kernel of a given era."""

    def __init__(self, era):
        self.era = era
        self.tasks: dict[str, Task] = {}
        self.pages: dict[int, Page] = {}
        self.zero_page = Page(self, ZERO_PFN, "zero")
        self.next_pfn = 1
        self.next_mm_id = 1
        self.next_anon_vma_id = 1
        self.next_shmem_id = 1
        self.anon_vmas: dict = {}
        self.holders: dict[str, Holder] = {}
        self.memcgs: dict[str, Memcg] = {}
        self.fail_alloc = 0
        self.write_seq = 0
        self.events: list[Event] = []

    # -- bookkeeping -----------------------------------------------------------

    def emit(self, fn: str, text: str, tag: str | None = None, objs: tuple = (),
             decisions: tuple = ()) -> None:
        """Record an event from kernel function `fn` (the model's name; the era gives its own)."""
        name = self.era.kernel_name
        decisions = tuple(d._replace(fn=name(d.fn)) for d in decisions)
        self.events.append(Event(name(fn), text, tag, tuple(objs), decisions))

    def take_events(self) -> list[Event]:
        """The events since the last call, oldest first."""
        events, self.events = self.events, []
        return events

    def live_mms(self) -> list[MmStruct]:
        """Every mm some task uses, in task order."""
        seen, out = set(), []
        for task in self.tasks.values():
            if task.mm is not None and id(task.mm) not in seen:
                seen.add(id(task.mm))
                out.append(task.mm)
        return out

    def find(self, task: str, vma: str) -> tuple[Task | None, Vma | None]:
        """The task and its VMA of that name (either may be None)."""
        t = self.tasks.get(task)
        return t, (t.mm.mmap.get(vma) if t is not None else None)

    def lookup_pte(self, task: str, vma: str, i: int) -> Pte | None:
        """The PTE for page i of the task's VMA, or None if nothing is mapped there."""
        _, v = self.find(task, vma)
        if v is None or i >= v.npages:
            return None
        return v.ptes[i]

    def page_of(self, task: str, vma: str, i: int) -> Page | None:
        """The page mapped at page i of the task's VMA (the zero page included), or None."""
        _, v = self.find(task, vma)
        pte = self.lookup_pte(task, vma, i)
        return None if pte is None else pte_page(v, pte)

    def _new_task(self, name: str) -> Task:
        memcg = self.memcgs.get(name) or Memcg(name)
        self.memcgs[name] = memcg
        mm = _fork.mm_init(self, name, memcg)
        task = Task(name, mm, memcg)
        self.tasks[name] = task
        return task

    def _mm_owner_name(self, name: str) -> str:
        owners = {mm.owner for mm in self.live_mms()}
        if name not in owners:
            return name
        n = 2
        while f"{name}#{n}" in owners:
            n += 1
        return f"{name}#{n}"

    # -- the calls ---------------------------------------------------------------

    def mmap(self, task: str, vma: str, npages: int, shared: bool = False, writable: bool = True) -> Outcome:
        """mmap(): a task named for the first time is created, with its own mm and memcg."""
        t = self.tasks.get(task) or self._new_task(task)
        if vma in t.mm.mmap:
            return Outcome(error="EEXIST")
        do_mmap(t.mm, vma, npages, shared, writable)
        return OK

    def munmap(self, task: str, vma: str) -> Outcome:
        t, v = self.find(task, vma)
        if t is None:
            return ESRCH
        if v is None:
            self.emit("do_munmap", f"Nothing is mapped at {task} {vma}: munmap() has nothing to do.")
            return OK
        do_munmap(t.mm, v)
        return OK

    def mprotect(self, task: str, vma: str, writable: bool) -> Outcome:
        t, v = self.find(task, vma)
        if t is None:
            return ESRCH
        if v is None:
            return ENOMEM          # mprotect() of an unmapped range
        mprotect_fixup(v, writable)
        return OK

    def madvise(self, task: str, vma: str, advice: str) -> Outcome:
        t, v = self.find(task, vma)
        if t is None:
            return ESRCH
        if v is None:
            return ENOMEM          # madvise() of an unmapped range
        if madvise_behavior(v, advice):
            return Outcome(error="EINVAL")
        return OK

    def access(self, task: str, vma: str, i: int, write: bool, value: str | None = None) -> Outcome:
        """A CPU read or write of page i of the VMA, faulting as needed."""
        t, v = self.find(task, vma)
        if t is None:
            return ESRCH
        if v is None:
            self.emit("do_user_addr_fault", f"{task} touches {vma}[{i}], where nothing is mapped: SIGSEGV.",
                      "signal")
            return SIGSEGV
        if write and not v.vm_flags & VM_WRITE:
            self.emit("do_user_addr_fault", f"{task} writes to {v.label(i)}, which is mapped read-only: "
                      f"SIGSEGV.", "signal", (pte_id(v, i),))
            return SIGSEGV
        pte = v.ptes[i]
        faulted = pte is None or (write and not pte.write)
        if faulted:
            ret = handle_mm_fault(v, i, FAULT_FLAG_WRITE if write else 0)
            if ret & VM_FAULT_OOM:
                return ENOMEM
            pte = v.ptes[i]
        page = pte_page(v, pte)
        what = "the zero page" if page.kind == "zero" else f"page {page.pfn}"
        if not faulted:
            self.emit(CPU, f"{task} {'writes ' + value + ' into' if write else 'reads'} {what} through "
                      f"{v.label(i)}: the PTE is {'writable' if write else 'present'}, so no fault.",
                      None, (pte_id(v, i), page_id(page.pfn)))
        if not write:
            return Outcome(output=page.data)
        self.write_seq += 1
        page.data = value
        page.last_write = (self.write_seq, t.mm)
        if not pte.dirty:
            v.ptes[i] = Pte(pte.pfn, pte.write, True, pte.special)   # the CPU sets the dirty bit
        return OK

    def fork(self, parent: str, child: str) -> Outcome:
        p = self.tasks.get(parent)
        if p is None:
            return ESRCH
        res = _fork.copy_process(self, p, child)
        if isinstance(res, int):
            return ENOMEM
        self.tasks[child] = res
        return OK

    def thread(self, task: str, new: str) -> Outcome:
        t = self.tasks.get(task)
        if t is None:
            return ESRCH
        self.tasks[new] = _fork.copy_thread_mm(self, t, new)
        return OK

    def exit(self, task: str) -> Outcome:
        t = self.tasks.pop(task, None)
        if t is None:
            return ESRCH
        self.emit("do_exit", f"{task} exits.", None, (task_id(task),))
        _fork.mmput(t.mm)
        return OK

    def execve(self, task: str) -> Outcome:
        t = self.tasks.get(task)
        if t is None:
            return ESRCH
        # de_thread(): exec kills every other thread of the process first.
        for other in [o for o in self.tasks.values() if o.mm is t.mm and o is not t]:
            self.emit("de_thread", f"{task} execs, so its thread {other.name} is killed.", None,
                      (task_id(other.name),))
            del self.tasks[other.name]
            _fork.mmput(t.mm)
        _fork.exec_mmap(self, t)
        return OK

    def gup(self, task: str, vma: str, i: int, holder: str, write: bool = False,
            pin: bool = False, longterm: bool = False, count: int = 1) -> Outcome:
        """get_user_pages() (FOLL_GET) or pin_user_pages() (FOLL_PIN) of one page, `count` times."""
        t, v = self.find(task, vma)
        if t is None:
            return ESRCH
        h = self.holders.get(holder) or self.holders.setdefault(holder, Holder(holder, "device"))
        flags = (FOLL_PIN if pin else FOLL_GET) | (FOLL_WRITE if write else 0) | \
            (FOLL_LONGTERM if longterm else 0)
        for n in range(count):
            mark = len(self.events)
            ret = get_user_pages(t.mm, task, v, i, flags, h)
            if ret:
                return Outcome(error={-12: "ENOMEM"}.get(ret, "EFAULT"))
            if n and count > 1:
                # Repeats after the first would only say the same again.
                del self.events[mark:]
        if count > 1:
            page = self.page_of(task, vma, i)
            self.emit("pin_user_pages" if pin else "get_user_pages",
                      f"... {count} times in all: {holder} holds {count} references "
                      f"on page {page.pfn}, refcount now {page_count(page)}.", "pin" if pin else "get",
                      (holder_id(h), page_id(page.pfn), pte_id(v, i)))
        return OK

    def unpin(self, holder: str) -> Outcome:
        """Drop every reference the holder has."""
        h = self.holders.get(holder)
        if h is None or not h.refs:
            self.emit("unpin_user_page", f"{holder} holds no pages.")
            return OK
        freed, pfns = [], []
        for ref in h.refs:
            pfns.append(ref.page.pfn)
            if release_ref(ref):
                freed.append(ref.page.pfn)
        pins = sum(1 for r in h.refs if r.flags & FOLL_PIN)
        fn = "unpin_user_page" if pins else "put_page"
        tag = "unpin" if pins else "put"
        shown = sorted(set(pfns))
        text = f"{holder} lets go of page{'s' if len(shown) > 1 else ''} {', '.join(map(str, shown))}"
        text += f" ({len(h.refs)} reference{'s' if len(h.refs) > 1 else ''})."
        if freed:
            text += f"  Freed: {', '.join(map(str, sorted(set(freed))))}."
        h.refs.clear()
        self.emit(fn, text, tag, (holder_id(h),) + tuple(page_id(p) for p in shown))
        return OK

    def dma_write(self, holder: str, value: str) -> Outcome:
        """The device writes `value` into every page it holds, bypassing all page tables."""
        h = self.holders.get(holder)
        if h is None or not h.refs:
            return EFAULT
        if any(not r.flags & FOLL_WRITE for r in h.refs):
            self.emit(DEVICE, f"{holder} took its pages without FOLL_WRITE; the IOMMU refuses "
                      f"the write.", "signal", (holder_id(h),))
            return EFAULT
        self.write_seq += 1
        for ref in h.refs:
            page = ref.page
            if page.kind == "zero":
                continue
            page.data = value
            page.last_write = (self.write_seq, h)
            if not self._check_stale(h, ref, wrote=value):
                self.emit(DEVICE, f"{holder} writes {value} into page {page.pfn} by DMA, past every "
                          f"page table; {ref.task} {ref.vma}[{ref.index}] maps that page, so "
                          f"{ref.task} sees it.", None, (holder_id(h), page_id(page.pfn)))
        return OK

    def dma_read(self, holder: str) -> Outcome:
        """The device reads the pages it holds."""
        h = self.holders.get(holder)
        if h is None or not h.refs:
            return EFAULT
        values = []
        for ref in h.refs:
            values.append(ref.page.data)
            if not self._check_stale(h, ref):
                self.emit(DEVICE, f"{holder} reads page {ref.page.pfn} by DMA: {ref.page.data}.", None,
                          (holder_id(h), page_id(ref.page.pfn)))
        return Outcome(output=",".join(values))

    def _check_stale(self, h: Holder, ref, wrote: str | None = None) -> bool:
        """Say so when the device and its process no longer share the page.  True if they do not."""
        page = ref.page
        task = self.tasks.get(ref.task)
        if task is None or task.mm is not ref.mm:
            return False
        now = self.page_of(ref.task, ref.vma, ref.index)
        if now is page:
            return False
        fn = DEVICE
        where = f"{ref.task} {ref.vma}[{ref.index}]"
        mapped = f"maps page {now.pfn}" if now is not None else "maps nothing"
        _, vma_now = self.find(ref.task, ref.vma)
        if ref.vma_obj is not None and vma_now is not ref.vma_obj:
            # The process itself unmapped the range it pinned (and maybe mapped
            # another one under the name): the kernel kept nothing from it.
            gone = (f"{ref.task} unmapped the {ref.vma} it pinned"
                    + (f" and mapped a new {ref.vma} at another address" if vma_now is not None else ""))
            if wrote is not None:
                self.emit(fn, f"{h.name} writes {wrote} into page {page.pfn}, which it still holds, but "
                          f"{gone}: no process maps page {page.pfn}.  Not a lost write of the kernel's "
                          f"making: {ref.task} gave the range up while it was pinned.", "lost_dma",
                          (holder_id(h), page_id(page.pfn)))
            else:
                self.emit(fn, f"{h.name} reads page {page.pfn}, which it still holds, but {gone}: what "
                          f"{ref.task} writes to its new {ref.vma} does not reach the device.", "stale_pin",
                          (holder_id(h), page_id(page.pfn)))
            return True
        if wrote is not None:
            self.emit(fn, f"{h.name} writes {wrote} into page {page.pfn}, but {where} now {mapped}: "
                      f"{ref.task} will never see this write.", "lost_dma",
                      (holder_id(h), page_id(page.pfn)))
        else:
            self.emit(fn, f"{h.name} reads page {page.pfn}, but {where} now {mapped}: the device "
                      f"does not see what {ref.task} wrote since.", "stale_pin",
                      (holder_id(h), page_id(page.pfn)))
        return True

    def vmsplice(self, task: str, vma: str, i: int, pipe: str) -> Outcome:
        """vmsplice() one page into a pipe: the pipe keeps a read-only FOLL_GET reference."""
        t, v = self.find(task, vma)
        if t is None:
            return ESRCH
        h = self.holders.get(pipe) or self.holders.setdefault(pipe, Holder(pipe, "pipe"))
        ret = get_user_pages(t.mm, task, v, i, FOLL_GET, h)
        if ret:
            return Outcome(error={-12: "ENOMEM"}.get(ret, "EFAULT"))
        return OK

    def pipe_read(self, pipe: str) -> Outcome:
        """read() one page from the pipe: hands out its data and drops the reference."""
        h = self.holders.get(pipe)
        if h is None or not h.refs:
            self.emit("pipe_read", f"Pipe {pipe} is empty.")
            return Outcome(error="EAGAIN")
        ref = h.refs.pop(0)
        page = ref.page
        data = page.data
        seq, writer = page.last_write
        if seq > ref.seq and writer is not ref.mm:
            who = writer.owner if isinstance(writer, MmStruct) else getattr(writer, "name", "someone")
            self.emit("pipe_read", f"Pipe {pipe} hands out {data!s}, which {who} wrote into page "
                      f"{page.pfn} after {ref.task} spliced it: {ref.task} reads another process's "
                      f"data (the CVE-2020-29374 leak).", "leak", (holder_id(h), page_id(page.pfn)))
        else:
            self.emit("pipe_read", f"Pipe {pipe} hands out page {page.pfn}: {data}.", None,
                      (holder_id(h), page_id(page.pfn)))
        release_ref(ref)
        return Outcome(output=data)

    def memcg_limit(self, task: str, pages: int) -> Outcome:
        """Limit the task's memcg; a task named for the first time is created, as by mmap()."""
        t = self.tasks.get(task) or self._new_task(task)
        memcg = t.memcg
        if memcg.usage > pages:
            # MODEL: cgroup v1 memory.limit_in_bytes refuses a limit below usage
            # it cannot reclaim (there is no swap here).
            self.emit("mem_cgroup_resize_max", f"Memcg {memcg.name} already uses {memcg.usage} pages: "
                      f"a limit of {pages} is refused (EBUSY).", "enomem", (memcg_id(memcg),))
            return Outcome(error="EBUSY")
        memcg.limit = pages
        self.emit("mem_cgroup_resize_max", f"Memcg {memcg.name} (of {task}) may hold at most {pages} "
                  f"pages; it holds {memcg.usage}.", "flag", (memcg_id(memcg),))
        return OK

    def set_fail_alloc(self, n: int) -> Outcome:
        self.fail_alloc = n
        self.emit("should_fail_alloc_page", f"The next {n} page allocation{'s' if n != 1 else ''} "
                  f"will fail.", "flag")
        return OK


__all__ = ["Kernel", "Outcome", "page_count"]
