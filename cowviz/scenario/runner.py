"""Run a scenario (or a list of commands) on a kernel of one era, step by step.

Each step gives a StepResult: the command, what it returned, whether its
expectation or assertion held, the events it caused and the snapshot after
it.  Invariants are checked after every step; a broken one raises
InvariantError naming the step, because then the model itself is wrong.
"""
from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass

from .. import ids
from ..eras import get_era
from ..mm import InvariantError, Kernel, Outcome, check_invariants, take_snapshot
from ..mm.events import Event
from ..mm.snapshot import Snapshot
from ..mm.types import (FOLL_PIN, PageAnon, PageAnonExclusive, page_count, page_mapcount,
                        page_maybe_dma_pinned)
from .command import Command
from ..limits import MAX_RUN_CELLS
from .loader import Scenario, ScenarioError, Step


@dataclass(frozen=True)
class StepResult:
    index: int
    command: str
    output: str | None
    error: str | None
    ok: bool
    expected: str | None
    message: str | None          # why it is not ok, or what an assert checked
    events: tuple
    snapshot: Snapshot
    step: Step | None = None
    answer: str | None = None    # the right answer to the step's ask, for this era

    @property
    def result(self) -> str:
        return Outcome(self.output, self.error).result

    def forgotten(self) -> "StepResult":
        """This step without its snapshot and events (what the sandbox keeps of an old step); a
        quicker dataclasses.replace(self, snapshot=None, events=())."""
        step = object.__new__(StepResult)
        step.__dict__.update(self.__dict__, snapshot=None, events=())
        return step


@dataclass(frozen=True)
class Run:
    scenario: Scenario | None
    era: str
    initial: Snapshot
    steps: tuple

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    def failures(self) -> list[StepResult]:
        return [s for s in self.steps if not s.ok]


def new_kernel(era_id: str) -> Kernel:
    return Kernel(get_era(era_id))


def execute(k: Kernel, cmd: Command) -> tuple[Outcome, bool, str | None]:
    """Carry out one command: the one Kernel call its table entry declares.  Returns its outcome,
    whether an assert held, and the assert's message."""
    if cmd.spec.call is not None:
        return cmd.spec.call(k, cmd.args), True, None
    # An assertion's result is "ok" or "failed", so a scenario can expect
    # it to fail in some eras: expect: {5.9-rc: failed, 5.9: ok}.
    held, message = check_assert(k, cmd)
    return Outcome(output=None if held else "failed"), held, message


def check_assert(k: Kernel, cmd: Command) -> tuple[bool, str]:
    """Does the assertion hold now?  Returns (held, a sentence saying what was found)."""
    a = cmd.args
    if a.check in COUNTER_ASSERTS:
        return check_counter_assert(k, cmd)
    where = f"{a.task} {a.vma}[{a.index}]"
    pte = k.lookup_pte(a.task, a.vma, a.index)
    page = k.page_of(a.task, a.vma, a.index)
    state = _describe(pte, page)
    if a.check in ("same-page", "different-page"):
        o = a.other
        other = k.page_of(o.task, o.vma, o.index)
        same = page is not None and other is page
        found = f"{where} {state}; {o} {_describe(k.lookup_pte(o.task, o.vma, o.index), other)}"
        return (same if a.check == "same-page" else not same), found
    if a.check == "writable":
        return pte is not None and pte.write, f"{where} {state}"
    if a.check == "readonly":
        return pte is not None and not pte.write, f"{where} {state}"
    if a.check == "unmapped":
        return pte is None, f"{where} {state}"
    if a.check == "pinned":
        held = page is not None and page.kind != "zero" and page_maybe_dma_pinned(page)
        return held, f"{where} {state}" + (f", refcount {page._refcount}" if page is not None and page.kind != "zero" else "")
    raise ValueError(a.check)                  # pragma: no cover


COUNTER_ASSERTS = ("refcount", "mapcount", "pincount", "exclusive", "has-pinned", "anon-vma")


def check_counter_assert(k: Kernel, cmd: Command) -> tuple[bool, str]:
    """The asserts on counters and flags: refcount, mapcount, pincount, exclusive, has-pinned, anon-vma."""
    a = cmd.args
    era = k.era
    if a.check == "has-pinned":
        if not era.has_pinned_flag:
            return False, (f"era {era.id} has no pinned flag: mm->has_pinned came with 5.9 "
                           f"(008cfe4418b3), MMF_HAS_PINNED with 5.14 (a458b76a4171)")
        t = k.tasks.get(a.task)
        if t is None:
            return False, f"{a.task} does not exist (it exited, or its fork failed)"
        have = "yes" if t.mm.has_pinned else "no"
        return have == a.want, f"{a.task}'s mm has {era.has_pinned_flag} {'set' if have == 'yes' else 'clear'}"
    if a.check == "anon-vma" and a.index is None:
        _, v = k.find(a.task, a.vma)
        if v is None:
            return False, f"{a.task} maps no {a.vma}"
        have = str(v.anon_vma.id) if v.anon_vma is not None else "none"
        return have == a.want, f"{v.label()} has {'anon_vma ' + have if v.anon_vma else 'no anon_vma'}"
    where = f"{a.task} {a.vma}[{a.index}]"
    pte = k.lookup_pte(a.task, a.vma, a.index)
    page = k.page_of(a.task, a.vma, a.index)
    if page is None:
        return False, f"{where} maps nothing"
    if page.kind == "zero":
        return False, f"{where} maps the zero page, whose counters the model does not keep"
    if a.check == "exclusive" and not era.tracks_anon_exclusive:
        return False, (f"era {era.id} has no PG_anon_exclusive: it came with 5.19 (6c287605fd56)")
    if a.check == "refcount":
        have = str(page_count(page))
    elif a.check == "mapcount":
        have = str(page_mapcount(page))
    elif a.check == "pincount":
        have = str(sum(1 for h in k.holders.values() for r in h.refs
                       if r.page is page and r.flags & FOLL_PIN))
    elif a.check == "exclusive":
        have = "yes" if PageAnonExclusive(page) else "no"
    else:                                        # anon-vma of a page: page->mapping
        have = str(page.mapping.id) if PageAnon(page) else "none"
    words = {"refcount": "refcount", "mapcount": "mapcount", "pincount": "FOLL_PIN pins held",
             "exclusive": "PG_anon_exclusive", "anon-vma": "anon_vma (page->mapping)"}[a.check]
    return have == a.want, f"{where} maps page {page.pfn}: {words} {have}"


def _describe(pte, page) -> str:
    if pte is None:
        return "maps nothing"
    what = "the zero page" if page.kind == "zero" else f"page {page.pfn}"
    return f"maps {what}, {'writable' if pte.write else 'read-only'}"


class LiveRun:
    """A run that grows one command at a time on a live kernel (the sandbox; run_commands).

    add() carries out one command and appends its StepResult; nothing is replayed.  A run of a
    scenario file is bounded in total size (limits.MAX_RUN_CELLS: its snapshots summed over its
    steps), so a long fork chain ends in RunLimitError instead of filling the memory.
    """

    def __init__(self, era_id: str, check: bool = True, max_cells: int | None = MAX_RUN_CELLS, source=None,
                 checkpoints: int | None = None, told: int | None = None):
        self.kernel = new_kernel(era_id)
        self.era = self.kernel.era.id
        self.check = check
        self.initial = take_snapshot(self.kernel)
        self.steps: list[StepResult] = []
        self.max_cells = max_cells
        self.cells = _cells(self.initial)
        self.source = source            # the scenario, for where a RunLimitError points
        self._reuse: dict = {}          # what take_snapshot may keep from one step's snapshot to the next
        # Every `checkpoints` steps the kernel is kept (pickled), so that rewind() runs only the steps since.
        self.every = checkpoints
        self._kept: dict = {}           # step number -> (pickled kernel, cells)
        # Steps run again by rewind() are put in words only if they are among the last `told` (None: all).
        self.told = told
        self._untold: dict = {}         # step number -> its events not in words, for the last `told` untold steps (tell())

    def add(self, cmd: Command, step: Step | None = None, quiet: bool = False, untold: bool = False) -> StepResult:
        """Run one more command.  Raises InvariantError (the model is wrong) or RunLimitError.
        `quiet`: the step keeps no events, for a step run again that will not be shown (older
        than the last `told`): they are not even recorded (Kernel.muted).  `untold`: a step
        that will most likely not be shown: its events are kept, not put in words; tell() puts
        them in words if it is among the last `told` after all."""
        k, era = self.kernel, self.era
        n = len(self.steps) + 1
        k.muted = quiet
        try:
            outcome, held, message = execute(k, cmd)
        finally:
            k.muted = False
        if not (quiet or untold):
            events = tuple(k.take_events())
        else:
            events, raw = (), k.take_untold()
            if untold and self.told and raw:
                self._untold[n] = raw
                if len(self._untold) > self.told:
                    self._untold = {i: r for i, r in self._untold.items() if i > n - self.told}
        if self.check:
            problems = check_invariants(k)
            if problems:
                raise InvariantError(f"step {n} ({cmd.text}) under {era} broke an invariant: "
                                     + "; ".join(problems))
        expected = step.expect_for(era) if step is not None else None
        if expected is not None:
            ok = outcome.result == expected
            if not ok:
                message = f"expected {expected}, got {outcome.result}" + (f" ({message})" if message else "")
        else:
            ok = held
            if not held:
                message = f"assertion failed: {cmd.text}: {message}"
        snap = take_snapshot(k, self._reuse)
        if self.max_cells is not None:
            self.cells += _cells(snap)
            if self.cells > self.max_cells:
                path = getattr(self.source, "path", None) or "<commands>"
                raise RunLimitError(path, step.line if step is not None else 1, step.col if step is not None else 1,
                                    f"step {n} ({cmd.text}): the run is too big: its states add up to more than "
                                    f"{self.max_cells:,} objects (tasks, PTEs, references) over its steps; "
                                    "split the scenario or let tasks exit")
        answer = None
        if step is not None and step.ask is not None:
            if step.ask.kind == "pick":
                ref = step.ask.of
                pte = snap.pte(ref.task, ref.vma, ref.index)
                answer = ids.page(pte.pfn) if pte is not None else None
            else:
                answer = step.ask.answer_for(era)
        result = StepResult(n, cmd.text, outcome.output, outcome.error, ok, expected, message,
                            events, snap, step, answer)
        self.steps.append(result)
        if self.every and n % self.every == 0:
            self._kept[n] = (pickle.dumps(k, pickle.HIGHEST_PROTOCOL), self.cells)
        return result

    def rewind(self, commands) -> None:
        """Make this the run of `commands`, the first of the commands it ran (an undo, or a command
        taken back): the kernel as it was at the last checkpoint before their last two, and the
        steps since run again (so the last two steps have their snapshots)."""
        n = len(commands)
        if n > len(self.steps):
            raise ValueError(f"cannot rewind a run of {len(self.steps)} steps to {n}")
        at = max((i for i in self._kept if i <= n - 2), default=0)
        if at:
            kernel, self.cells = self._kept[at]
            self.kernel = pickle.loads(kernel)
        else:
            self.kernel = new_kernel(self.era)
            self.cells = _cells(self.initial)
        self._kept = {i: v for i, v in self._kept.items() if i <= at}
        self._untold = {i: r for i, r in self._untold.items() if i <= at}
        self._reuse = {}
        del self.steps[at:]
        # These steps ran on this era before, with the invariants checked; they run the same again.
        check, self.check = self.check, False
        try:
            for i, cmd in enumerate(commands[at:], at):
                self.add(cmd, quiet=self.told is not None and i < n - self.told)
        finally:
            self.check = check

    def tell(self) -> bool:
        """Put in words the events of those of the last `told` steps that were run untold (a restore
        runs its lines so but the last few, and lines after them may be dropped).  True if any was."""
        first = len(self.steps) - (self.told or 0)
        last = [(n, raw) for n, raw in self._untold.items() if first < n <= len(self.steps)]
        self._untold = {}
        for n, raw in last:
            self.steps[n - 1] = dataclasses.replace(self.steps[n - 1], events=tuple(self.kernel.tell(raw)))
        return bool(last)

    def run(self, scenario=None) -> Run:
        return Run(scenario, self.era, self.initial, tuple(self.steps))


class RunLimitError(ScenarioError):
    """A run past limits.MAX_RUN_CELLS: a bad file, reported like one (where, and what)."""


def _cells(snap: Snapshot) -> int:
    return len(snap.tasks) + sum(len(v.ptes) for m in snap.mms for v in m.vmas) + \
        sum(len(h.refs) for h in snap.holders)


def run_commands(commands, era_id: str, check: bool = True, steps=None, scenario=None) -> Run:
    """Run parsed commands (or a scenario's steps) on a fresh kernel of the era."""
    live = LiveRun(era_id, check, source=scenario)
    for n, cmd in enumerate(commands, 1):
        live.add(cmd, steps[n - 1] if steps is not None else None)
    return live.run(scenario)


def run_scenario(scenario: Scenario, era_id: str | None = None, check: bool = True) -> Run:
    """Run every step of the scenario under one era (default: the scenario's own)."""
    return run_commands([s.command for s in scenario.steps], era_id or scenario.kernel, check,
                        scenario.steps, scenario)


__all__ = ["Event", "LiveRun", "Run", "RunLimitError", "StepResult", "check_assert", "execute", "new_kernel", "run_commands",
           "run_scenario"]
