"""The machine: all state of one simulated kernel, and the system calls that act on it.

A Kernel is built for one era and driven one call at a time; every call
returns an Outcome and records what its kernel functions did (emit()); the
caller takes them as events, in words, with take_events() (narration.py).
Nothing here prints, reads files or knows about the web: the scenario
runner, the CLI and the browser all drive this object.

Calls name tasks, VMAs and holders by name.  A task that does not exist (it
exited, or its fork failed) gives ESRCH; a VMA name the task does not map
gives what the kernel gives for an unmapped address (SIGSEGV for an access,
EFAULT for GUP, ENOMEM for mprotect and madvise).
"""
from __future__ import annotations

from typing import NamedTuple

from . import devices
from . import fork as _fork
from .events import Event, memcg_id, page_id, pte_id, task_id
from .gup import get_user_pages
from .narration import Raw, narrate
from .memory import handle_mm_fault, pte_page
from .mmap import do_mmap, do_munmap, madvise_behavior, mprotect_fixup
from .types import (EAGAIN, EFAULT, ENOMEM, FAULT_FLAG_WRITE, FOLL_GET, FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE,
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


# Device DMA (devices.py) and plain CPU accesses are not kernel functions;
# their events say who acted instead.
DEVICE = devices.DEVICE
CPU = "cpu"

OK = Outcome()
ESRCH = Outcome(error="ESRCH")
ERRNO_NAMES = {ENOMEM: "ENOMEM", EAGAIN: "EAGAIN", EFAULT: "EFAULT"}
SIGSEGV = Outcome(error="SIGSEGV")
EFAULT = Outcome(error="EFAULT")
ENOMEM = Outcome(error="ENOMEM")


def _result(ret) -> Outcome:
    """A system call's return as an Outcome: data, 0 (ok) or a negative errno (its name)."""
    if isinstance(ret, str):
        return Outcome(output=ret)
    return OK if ret == 0 else Outcome(error=ERRNO_NAMES.get(-ret, "EFAULT"))


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
        self.events: list[Raw] = []      # what was done since take_events(), not yet in words
        self._repeat = 0                 # which repeat of an `xN` command is running (0: the first)
        self.muted = False               # a step nobody will be shown is running: emit() records nothing

    # -- bookkeeping -----------------------------------------------------------

    def emit(self, fn: str, what: str, tag: str | None = None, objs: tuple = (),
             decisions: tuple = (), **facts) -> None:
        """Record that kernel function `fn` (the model's name) did `what` (narration.WORDS), with its facts.

        Facts are plain values taken now (pfns, counters, names), never live objects.  Events
        change nothing in the kernel: a step run muted does what it does without them.
        """
        if self.muted:
            return
        self.events.append(Raw(fn, what, tag, tuple(objs), tuple(decisions), facts, self._repeat))

    def take_events(self) -> list[Event]:
        """The events since the last call, oldest first, in words and named as the era names them."""
        return self.tell(self.take_untold())

    def take_untold(self) -> list:
        """The events since the last call, not put in words (a step that may never be shown):
        tell() puts them in words if it is."""
        raw, self.events = self.events, []
        return raw

    def tell(self, raw: list) -> list[Event]:
        """Events taken by take_untold(), in words (narration depends on the facts recorded only)."""
        return narrate(raw, self.era)

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
            self.emit("do_munmap", "nothing_to_unmap", task=task, vma=vma)
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
            self.emit("do_user_addr_fault", "segv_unmapped", "signal", task=task, vma=vma, i=i)
            return SIGSEGV
        if write and not v.vm_flags & VM_WRITE:
            self.emit("do_user_addr_fault", "segv_read_only", "signal", (pte_id(v, i),), task=task,
                      where=v.label(i))
            return SIGSEGV
        pte = v.ptes[i]
        faulted = pte is None or (write and not pte.write)
        if faulted:
            ret = handle_mm_fault(v, i, FAULT_FLAG_WRITE if write else 0)
            if ret & VM_FAULT_OOM:
                return ENOMEM
            pte = v.ptes[i]
        page = pte_page(v, pte)
        if not faulted:
            self.emit(CPU, "cpu_access", None, (pte_id(v, i), page_id(page.pfn)), task=task, write=write,
                      value=value, pfn=page.pfn, where=v.label(i))
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
        self.emit("do_exit", "exits", None, (task_id(task),), task=task)
        _fork.mmput(t.mm)
        return OK

    def execve(self, task: str) -> Outcome:
        t = self.tasks.get(task)
        if t is None:
            return ESRCH
        # de_thread(): exec kills every other thread of the process first.
        for other in [o for o in self.tasks.values() if o.mm is t.mm and o is not t]:
            self.emit("de_thread", "thread_killed", None, (task_id(other.name),), task=task,
                      thread=other.name)
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
        try:
            for n in range(count):
                # The calls after the first are marked, so the narration can fold them into one.
                self._repeat = n
                ret = get_user_pages(t.mm, task, v, i, flags, h)
                if ret:
                    return _result(ret)
        finally:
            self._repeat = 0
        return OK

    # Devices, DMA and pipes: devices.py.

    def unpin(self, holder: str) -> Outcome:
        """Drop every reference the holder has."""
        return _result(devices.unpin(self, holder))

    def dma_write(self, holder: str, value: str) -> Outcome:
        """The device writes `value` into every page it holds, bypassing all page tables."""
        return _result(devices.dma_write(self, holder, value))

    def dma_read(self, holder: str) -> Outcome:
        """The device reads the pages it holds."""
        return _result(devices.dma_read(self, holder))

    def vmsplice(self, task: str, vma: str, i: int, pipe: str) -> Outcome:
        """vmsplice() one page into a pipe: the pipe keeps a read-only FOLL_GET reference."""
        t, v = self.find(task, vma)
        if t is None:
            return ESRCH
        return _result(devices.vmsplice(self, t.mm, task, v, i, pipe))

    def pipe_read(self, pipe: str) -> Outcome:
        """read() one page from the pipe: hands out its data and drops the reference."""
        return _result(devices.pipe_read(self, pipe))

    def memcg_limit(self, task: str, pages: int) -> Outcome:
        """Limit the task's memcg; a task named for the first time is created, as by mmap()."""
        t = self.tasks.get(task) or self._new_task(task)
        memcg = t.memcg
        if memcg.usage > pages:
            # MODEL: cgroup v1 memory.limit_in_bytes refuses a limit below usage
            # it cannot reclaim (there is no swap here).
            self.emit("mem_cgroup_resize_max", "memcg_limit_refused", "enomem", (memcg_id(memcg),),
                      memcg=memcg.name, usage=memcg.usage, pages=pages)
            return Outcome(error="EBUSY")
        memcg.limit = pages
        self.emit("mem_cgroup_resize_max", "memcg_limited", "flag", (memcg_id(memcg),), memcg=memcg.name,
                  task=task, pages=pages, usage=memcg.usage)
        return OK

    def set_fail_alloc(self, n: int) -> Outcome:
        self.fail_alloc = n
        self.emit("should_fail_alloc_page", "fail_alloc_armed", "flag", n=n)
        return OK


__all__ = ["Kernel", "Outcome", "page_count"]
