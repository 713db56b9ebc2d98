"""fork(), clone(CLONE_VM), exit() and exec() as far as memory goes.  Kernel: kernel/fork.c, kernel/exit.c, fs/exec.c.

    copy_process -> copy_mm -> dup_mm -> mm_init            (the "has pinned" flag, 5.9+, starts clear)
                                      -> dup_mmap          for each VMA of the parent:
                                           VM_DONTCOPY    skip it
                                           VM_WIPEONFORK  child VMA without pages
                                           anon_vma_fork, copy_page_range
    any failure: the half-built child mm is torn down and fork() returns -ENOMEM
"""
from __future__ import annotations

from .events import mm_id, task_id, vma_id
from .memory import copy_page_range
from .mmap import exit_mmap, remove_vma
from .rmap import anon_vma_fork
from .types import ENOMEM, VM_DONTCOPY, VM_WIPEONFORK, MmStruct, Task, Vma


def mm_init(k, owner: str, memcg) -> MmStruct:
    """A new, empty mm_struct.  Kernel: mm_init()."""
    mm = MmStruct(k, k.next_mm_id, k._mm_owner_name(owner), memcg)
    k.next_mm_id += 1
    # Kernel: mm_init() clears the pinned flag; a new mm has pinned nothing.
    mm.has_pinned = False
    return mm


def vm_area_dup(mm: MmStruct, orig: Vma) -> Vma:
    """The child's copy of a VMA: same range, flags and file, no PTEs yet.  Kernel: vm_area_dup()."""
    new = Vma(mm, orig.name, orig.vm_start, orig.npages, orig.vm_flags)
    new.vm_pgoff = orig.vm_pgoff
    new.anon_vma = orig.anon_vma          # anon_vma_fork() sorts this out
    new.vm_file = orig.vm_file
    return new


def dup_mmap(mm: MmStruct, oldmm: MmStruct) -> int:
    """Copy the parent's VMAs and page tables into the child's mm.  Kernel: dup_mmap()."""
    k = mm.kernel
    mm.next_addr = oldmm.next_addr
    for mpnt in list(oldmm.mmap.values()):
        if mpnt.vm_flags & VM_DONTCOPY:
            k.emit("dup_mmap", "dontfork_skipped", None, (vma_id(mpnt),), vma=mpnt.label(), child=mm.owner,
                   parent=oldmm.owner)
            continue
        tmp = vm_area_dup(mm, mpnt)
        if tmp.vm_flags & VM_WIPEONFORK:
            # The child sees this range empty: no anon_vma, no PTEs.
            tmp.anon_vma = None
        elif anon_vma_fork(tmp, mpnt):
            return -ENOMEM
        mm.mmap[tmp.name] = tmp
        mm.map_count += 1
        if tmp.vm_file is not None:
            tmp.vm_file.refs += 1
        if tmp.vm_flags & VM_WIPEONFORK:
            k.emit("dup_mmap", "wipeonfork_empty", None, (vma_id(tmp),), vma=mpnt.label(),
                   child_vma=tmp.label())
            continue
        if copy_page_range(tmp, mpnt):
            return -ENOMEM
    return 0


def copy_process(k, parent: Task, child_name: str) -> Task | int:
    """fork(): a new task with a copy of the parent's mm.  Returns the task or -ENOMEM.  Kernel: copy_process()."""
    oldmm = parent.mm
    k.emit("copy_process", "forks", None, (task_id(parent.name),), parent=parent.name, child=child_name)
    # dup_mm(): copy_mm() for a fork without CLONE_VM.
    mm = mm_init(k, child_name, parent.memcg)
    ret = dup_mmap(mm, oldmm)
    if ret:
        # The partly built child is torn down like any exiting mm.  What was
        # already done to the parent stays done: PTEs that were write-protected
        # for sharing remain read-only.
        exit_mmap(mm)
        k.emit("dup_mm", "fork_failed", "enomem", (mm_id(oldmm),), child=child_name)
        return ret
    # The child joins the parent's cgroup only later in copy_process()
    # (cgroup_post_fork()); everything charged while copying the mm, the
    # early copies included, went to the parent's memcg.
    child = Task(child_name, mm, parent.memcg)
    return child


def copy_thread_mm(k, task: Task, new_name: str) -> Task:
    """clone(CLONE_VM): a new thread sharing the task's mm.  Kernel: copy_mm() with CLONE_VM."""
    task.mm.mm_users += 1
    k.emit("copy_mm", "new_thread", None, (task_id(new_name), mm_id(task.mm)), thread=new_name,
           task=task.name, mm=task.mm.owner)
    return Task(new_name, task.mm, task.memcg)


def mmput(mm: MmStruct) -> None:
    """Drop a user of the mm; the last one tears it down.  Kernel: mmput()."""
    mm.mm_users -= 1
    if mm.mm_users == 0:
        mm.kernel.emit("mmput", "mm_torn_down", None, (mm_id(mm),), mm=mm.owner)
        exit_mmap(mm)


def exec_mmap(k, task: Task) -> MmStruct:
    """exec(): the task gets a fresh empty mm.  Kernel: exec_mmap()."""
    old = task.mm
    k.emit("exec_mmap", "exec_new_mm", "flag", (mm_id(old),), task=task.name)
    # MODEL: the kernel installs the new mm before dropping the old one; the
    # order only matters for naming here (the new mm takes the task's name).
    task.mm = None
    mmput(old)
    mm = mm_init(k, task.name, task.memcg)
    task.mm = mm
    return mm


__all__ = ["copy_process", "copy_thread_mm", "dup_mmap", "exec_mmap", "mm_init", "mmput",
           "remove_vma", "vm_area_dup"]
