"""Which tasks, VMAs, holders and pipes exist, as far as the commands themselves tell.

Checked before anything runs, for every era alike: a scenario that names a
task nobody created, a VMA no task of that lineage ever mapped, or a page
past the end of a VMA is a bad file, not a kernel outcome.

A VMA name stands for an address range.  A task keeps knowing the name after
munmap, exec, or a fork that left the VMA out (MADV_DONTFORK): touching it
then is a run-time outcome (SIGSEGV, EFAULT), which is what the kernel says
about an unmapped address.  Whether a fork succeeds is only known at run
time; a task whose fork failed answers ESRCH.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

from .command import Command, CommandError


@dataclass
class VmaName:
    pages: int
    mapped: bool = True
    dontfork: bool = False


class Names:
    """The name space a scenario builds up, command by command."""

    def __init__(self):
        self.tasks: dict[str, int] = {}                  # task -> its (static) mm
        self.mms: dict[int, dict[str, VmaName]] = {}
        self.holders: dict[str, str] = {}                # name -> "device" | "pipe"
        self._next_mm = 0

    def clone(self) -> "Names":
        # By hand rather than deepcopy: the console clones on every line (deepcopy took ~9 ms at 200 lines).
        other = Names.__new__(Names)
        other.__dict__ = {k: copy.deepcopy(v) for k, v in self.__dict__.items()
                          if k not in ("tasks", "mms", "holders")}
        other.tasks = dict(self.tasks)
        # Only the mms some task still uses: an exited process's names are never looked up again.
        live = set(self.tasks.values())
        other.mms = {mm: {n: VmaName(v.pages, v.mapped, v.dontfork) for n, v in vmas.items()}   # every field
                     for mm, vmas in self.mms.items() if mm in live}
        other.holders = dict(self.holders)
        return other

    # -- lookups ----------------------------------------------------------------------

    def _new_mm(self, vmas: dict[str, VmaName] | None = None) -> int:
        self._next_mm += 1
        self.mms[self._next_mm] = vmas or {}
        return self._next_mm

    def _task(self, cmd: Command, name: str, col_key: str) -> int:
        if name not in self.tasks:
            known = ", ".join(self.tasks) or "none yet; mmap creates a task"
            raise CommandError(f"unknown task '{name}' (tasks: {known})", cmd.col(col_key))
        return self.tasks[name]

    def _vma(self, cmd: Command, task: str, vma: str, task_col: str, vma_col: str) -> VmaName:
        mm = self._task(cmd, task, task_col)
        vmas = self.mms[mm]
        if vma not in vmas:
            known = ", ".join(vmas) or "none"
            raise CommandError(f"{task} has no VMA named '{vma}' (its VMAs: {known})", cmd.col(vma_col))
        return vmas[vma]

    def _page(self, cmd: Command, task: str, vma: str, index: int, suffix: str = "") -> None:
        info = self._vma(cmd, task, vma, "task" + suffix, "vma" + suffix)
        if index >= info.pages:
            raise CommandError(f"{task} {vma} has {info.pages} page{'s' if info.pages != 1 else ''}: "
                               f"index {index} is out of range (0-{info.pages - 1})",
                               cmd.col("index" + suffix))

    def _holder(self, cmd: Command, name: str, kind: str, col: str) -> None:
        have = self.holders.get(name)
        if have is None:
            known = ", ".join(f"{n} ({k})" for n, k in self.holders.items()) or "none yet"
            raise CommandError(f"unknown {'pipe' if kind == 'pipe' else 'holder'} '{name}' "
                               f"(known: {known})", cmd.col(col))
        if have != kind:
            raise CommandError(_kind_clash(name, have), cmd.col(col))

    def _claim_holder(self, cmd: Command, name: str, kind: str, col: str) -> None:
        have = self.holders.get(name)
        if have is not None and have != kind:
            raise CommandError(_kind_clash(name, have), cmd.col(col))
        self.holders[name] = kind

    def _new_task_name(self, cmd: Command, name: str) -> None:
        if name in self.tasks:
            raise CommandError(f"duplicate task name '{name}': {name} already exists", cmd.col("child"))

    # -- one command -------------------------------------------------------------------

    def apply(self, cmd: Command) -> None:
        """Check the command's names against what exists, then record what it creates.  Raises CommandError.

        Walks the command's form in the table (cowviz/scenario/command.py): each argument's kind
        says what must exist or what is created; the command's own effect (`Spec.names`: unmap,
        advise, fork, thread, exit, exec) comes last.
        """
        a = cmd.args
        for arg in cmd.spec.forms[cmd.form]:
            kind = arg.kind
            if arg.key == "task2":                   # checked with its page (`other`)
                continue
            if kind == "task":
                self._task(cmd, a.task, "task")
            elif kind == "task-or-new":
                # A task named for the first time is created here (mmap, memcg-limit).
                if a.task not in self.tasks:
                    self.tasks[a.task] = self._new_mm()
            elif kind == "new-task":
                self._new_task_name(cmd, a.child)
            elif kind == "vma":
                self._vma(cmd, a.task, a.vma, "task", "vma")
            elif kind == "new-vma":
                vmas = self.mms[self.tasks[a.task]]
                have = vmas.get(a.vma)
                if have is not None and have.mapped:
                    raise CommandError(f"duplicate VMA name '{a.vma}': {a.task} already maps one", cmd.col("vma"))
                vmas[a.vma] = VmaName(a.pages)
            elif kind == "page" and arg.key == "other":
                self._page(cmd, a.other.task, a.other.vma, a.other.index, "2")
            elif kind == "page":
                self._page(cmd, a.task, a.vma, a.index)
            elif kind in ("device", "pipe"):
                if arg.creates:
                    self._claim_holder(cmd, getattr(a, arg.key), kind, arg.key)
                else:
                    self._holder(cmd, getattr(a, arg.key), kind, arg.key)
        if cmd.spec.names is not None:
            getattr(self, "_on_" + cmd.spec.names)(a)

    # -- what a command does to the names beyond its arguments ----------------------------

    def _on_unmap(self, a) -> None:
        self.mms[self.tasks[a.task]][a.vma].mapped = False

    def _on_advise(self, a) -> None:
        if a.advice in ("dontfork", "dofork"):
            self.mms[self.tasks[a.task]][a.vma].dontfork = a.advice == "dontfork"

    def _on_fork(self, a) -> None:
        vmas = {n: VmaName(v.pages, v.mapped and not v.dontfork, v.dontfork)
                for n, v in self.mms[self.tasks[a.task]].items()}
        self.tasks[a.child] = self._new_mm(vmas)

    def _on_thread(self, a) -> None:
        self.tasks[a.child] = self.tasks[a.task]

    def _on_exit(self, a) -> None:
        del self.tasks[a.task]

    def _on_exec(self, a) -> None:
        mm = self.tasks[a.task]
        for other in [t for t, m in self.tasks.items() if m == mm and t != a.task]:
            del self.tasks[other]
        self.tasks[a.task] = self._new_mm({n: VmaName(v.pages, False) for n, v in self.mms[mm].items()})

    def page_ref(self, ref) -> None:
        """Check that TASK VMA[I] names a page (a pick question's `of`).  Raises CommandError."""
        self._page(_NOWHERE, ref.task, ref.vma, ref.index)

    # -- for completion in the console ---------------------------------------------

    def task_names(self) -> list[str]:
        return list(self.tasks)

    def vma_names(self, task: str) -> list[str]:
        mm = self.tasks.get(task)
        return list(self.mms[mm]) if mm is not None else []

    def holder_names(self, kind: str | None = None) -> list[str]:
        return [n for n, k in self.holders.items() if kind is None or k == kind]


class _Nowhere:
    """Columns of a name that is not on a command line: the message alone says what."""

    @staticmethod
    def col(what: str) -> int:
        return 1


_NOWHERE = _Nowhere()


def _kind_clash(name: str, have: str) -> str:
    if have == "pipe":
        return f"'{name}' is a pipe (filled by vmsplice); a pipe is read with pipe-read"
    return f"'{name}' is a device holder (from gup/pin), not a pipe"
