"""Replay a scenario on the running kernel, step by step, and hold the model against it.

    probe_scenario(scenario)   ─┬─ run_scenario(scenario, era)     the model's run (one snapshot per step)
                                └─ Machine                         real processes, one per task
         for each step:  Machine.do(cmd)  ->  pagemap of every page  ->  kernel_view
                         step.snapshot                                ->  model_view
                         compare(model_view, kernel_view)             ->  a LabRow

A step the lab cannot carry out is skipped, never faked.  If the model's state
changed in that step, the machine no longer matches the model and later steps
are carried out but left unchecked; fail-alloc and memcg-limit only matter
from the first step where the model actually fails an allocation.
"""
from __future__ import annotations

import dataclasses
import os
import re

from ..eras import ERA_IDS, resolve
from ..limits import value_problem
from ..scenario import CommandError, Names, load_scenario, run_commands
from . import linux
from .machine import Deadline, Done, LabError, Machine, Skip
from .report import AGREE, DIFFER, ERROR, SKIPPED, UNCHECKED, LabReport, LabRow
from .views import assert_result, compare, describe, groups_of, kernel_view, model_view

DEFAULT_TIMEOUT = 30.0

# Bounds of one probe: it runs real processes on the caller's machine.
MAX_PAGES = 1024              # 4 MiB over all the scenario's mmap commands
MAX_TASKS = 16
MAX_PINS = 16
MAX_GUP_REFS = 2048
MAX_STEPS = 400

UNOBSERVABLE_ASSERT = {
    "writable": "pagemap does not show whether a PTE is writable",
    "readonly": "pagemap does not show whether a PTE is writable",
    "pinned": "pagemap does not show pins or reference counts",
    "same-page": "frames are hidden without CAP_SYS_ADMIN",
    "different-page": "frames are hidden without CAP_SYS_ADMIN",
    "refcount": "pagemap does not show reference counts",
    "mapcount": "pagemap does not show mapcounts (bit 56 only says mapped once)",
    "pincount": "pagemap does not show pins or reference counts",
    "exclusive": "PG_anon_exclusive is not visible from user space (bit 56 only says mapped once)",
    "has-pinned": "MMF_HAS_PINNED is not visible from user space",
    "anon-vma": "anon_vmas are not visible from user space",
}

ALWAYS_HIDDEN = (
    "whether a PTE is writable (pagemap has no write bit)",
    "reference counts and pins (page_count, page_maybe_dma_pinned)",
    "PG_anon_exclusive (bit 56 only says the page is mapped once)",
    "anon_vmas, memcgs and the has-pinned flag",
)
FRAMES_HIDDEN = ("frames: pagemap shows PFNs only to CAP_SYS_ADMIN (since Linux 4.0), so which "
                 "pages share a frame, the zero page and frame moves are not compared")


class LabUnavailable(LabError):
    """This machine cannot run the lab at all."""


class LabLimitError(LabError):
    """The scenario is larger than a probe may be."""


def kernel_era(release: str | None = None) -> str:
    """The model era that describes a Linux release string (default: the running kernel)."""
    release = release or os.uname().release
    m = re.match(r"(\d+)\.(\d+)", release)
    if not m:
        return "6.x"
    version = (int(m.group(1)), int(m.group(2)))
    # 6.0 and 6.1 have two of the three changes that separate 5.19 from 6.x; the third (the
    # zero-page unshare for R/O long-term pins) needs a R/O pin, which the lab cannot take.
    if version >= (6, 0):
        return "6.x"
    if version >= (5, 19):
        return "5.19"
    if version == (5, 9) and "-rc" in release:
        return "5.9-rc"
    if version >= (5, 9):
        return "5.9"
    if version == (5, 8):
        return "5.8"
    return "5.7"


def capabilities() -> dict:
    """What the lab can do here: {"available", "reason", "frames", "io_uring", "io_uring_reason"}."""
    ok, why = linux.supported()
    caps = {"available": ok, "reason": why, "frames": False, "io_uring": False, "io_uring_reason": ""}
    if not ok:
        return caps
    try:
        import ctypes
        buf = ctypes.create_string_buffer(linux.PAGE_SIZE * 2)
        addr = ctypes.addressof(buf)
        entry = linux.read_pagemap("self", addr, 1)[0]
    except OSError as e:
        caps.update(available=False, reason=f"cannot read /proc/self/pagemap: {e.strerror}")
        return caps
    caps["frames"] = bool(entry & linux.PM_PFN_MASK)
    caps["io_uring"], caps["io_uring_reason"] = linux.io_uring_usable()
    parts = ["frames visible" if caps["frames"] else
             "frames hidden (no CAP_SYS_ADMIN): presence and the exclusive bit only"]
    parts.append("io_uring pins" if caps["io_uring"] else f"no pins: {caps['io_uring_reason']}")
    caps["reason"] = "; ".join(parts)
    return caps


def lab_available() -> tuple[bool, str]:
    """Can this machine run probes?  (ok, a sentence saying why not, or what it can see)."""
    caps = capabilities()
    return caps["available"], caps["reason"]


def check_limits(commands) -> None:
    """Refuse a scenario that would map, fork or pin more than a probe may.  Raises LabLimitError."""
    if len(commands) > MAX_STEPS:
        raise LabLimitError(f"the scenario has {len(commands)} steps; the lab runs at most {MAX_STEPS}")
    for n, c in enumerate(commands, 1):
        # What a page cannot hold as the model writes it, refused with the model's own words.
        problem = value_problem(c.args.value) if "value" in c.args._fields else None
        if problem is not None:
            raise LabLimitError(f"step {n} ({c.text[:60]}): {c.op}: {problem}")
    pages = sum(c.spec.maps(c.args) for c in commands if c.spec.maps is not None)
    if pages > MAX_PAGES:
        raise LabLimitError(f"the scenario maps {pages} pages ({pages * 4 // 1024} MiB) in all; the lab "
                            f"maps at most {MAX_PAGES} pages ({MAX_PAGES * 4 // 1024} MiB)")
    # The tasks it starts: the new tasks of the commands the lab carries out.
    tasks = set()
    for c in commands:
        for arg in c.spec.forms[c.form]:
            if arg.kind == "new-task" or arg.kind == "task-or-new" and c.spec.lab is None:
                tasks.add(getattr(c.args, arg.key))
    if len(tasks) > MAX_TASKS:
        raise LabLimitError(f"the scenario creates {len(tasks)} tasks; the lab runs at most {MAX_TASKS}")
    refs = [c.spec.refs(c.args) for c in commands if c.spec.refs is not None]
    pins = sum(n for kind, n in refs if kind == "pin")
    if pins > MAX_PINS:
        raise LabLimitError(f"the scenario pins {pins} times; the lab pins at most {MAX_PINS} pages")
    refs = sum(n for kind, n in refs if kind == "get")
    if refs > MAX_GUP_REFS:
        raise LabLimitError(f"the scenario takes {refs} page references; the lab takes at most {MAX_GUP_REFS}")


def probe_scenario(scenario, **kwargs) -> LabReport:
    """Replay a scenario (a Scenario or a file path) on this machine; see probe_commands()."""
    if isinstance(scenario, str):
        scenario = load_scenario(scenario)
    kwargs.setdefault("title", scenario.title)
    kwargs.setdefault("path", scenario.path)
    return probe_commands([s.command for s in scenario.steps], steps=scenario.steps,
                          scenario=scenario, **kwargs)


def probe_commands(commands, *, era: str | None = None, timeout: float = DEFAULT_TIMEOUT,
                   run=None, steps=None, scenario=None, title: str | None = None,
                   path: str | None = None, on_row=None) -> LabReport:
    """Replay parsed commands with real processes and compare every step with the model.

    `era` defaults to the running kernel's; `run` may be a model Run of these
    commands made by the caller; `on_row(row)` is called as each row is made.
    Raises LabUnavailable or LabLimitError before anything runs; trouble
    during the run ends it with report.error set.
    """
    commands = list(commands)
    check_limits(commands)
    names = Names()
    for n, cmd in enumerate(commands, 1):
        try:
            names.apply(cmd)
        except CommandError as e:
            raise ValueError(f"step {n} ({cmd.text}): {e.message}") from None
    caps = capabilities()
    if not caps["available"]:
        raise LabUnavailable(caps["reason"])
    wanted = era
    era = resolve(era) if era else kernel_era()
    if era is None:
        raise ValueError(f"unknown era '{wanted}' (eras: {', '.join(ERA_IDS)}, latest)")
    if run is None:
        run = run_commands(commands, era, steps=steps, scenario=scenario)
    if len(run.steps) != len(commands):
        raise ValueError("the model run does not match the commands")
    report = LabReport(era=run.era, kernel=os.uname().release, title=title, path=path,
                       io_uring="io_uring works" if caps["io_uring"] else caps["io_uring_reason"])
    deadline = Deadline(timeout)
    machine = Machine(deadline, (caps["io_uring"], caps["io_uring_reason"]))
    try:
        with machine:
            report.frames_visible = machine.zero_pfn is not None
            report.cannot_observe = ALWAYS_HIDDEN + (() if report.frames_visible else (FRAMES_HIDDEN,))
            _replay(machine, commands, run, report, on_row)
    except LabError as e:
        # Trouble during the steps is caught there; this is trouble starting.
        report.error = f"the lab could not start: {e}" if machine.keeper_pid is None else str(e)
    finally:
        report.process_group = machine.keeper_pgid
    return report


def _replay(machine: Machine, commands, run, report: LabReport, on_row) -> None:
    names = Names()
    prev_model = prev_kernel = None
    prev_snap = run.initial
    tainted = None            # why later steps are not compared, once they are not
    deferred = []             # skipped fail-alloc / memcg-limit steps still waiting to matter
    for n, (cmd, step) in enumerate(zip(commands, run.steps), 1):
        line = step.step.line if step.step is not None else None
        names.apply(cmd)            # checked before the run started
        model_result = step.result
        try:
            check = cmd.spec.kernel is None      # an assert: evaluated on the observation
            outcome = Skip("") if check else machine.do(cmd)
            live = machine.live_tasks()
            groups = groups_of(names, live)
            raw = machine.observe([(g.label, g.task, g.vmas) for g in groups])
        except (LabError, OSError) as e:
            message = str(e) if isinstance(e, LabError) else f"{cmd.text} failed: {e}"
            report.error = f"step {n}: {message}"
            _add(report, LabRow(n, cmd.text, ERROR, "", message, line=line), on_row)
            return
        kernel_result = outcome.result if isinstance(outcome, Done) else None
        mview = model_view(step.snapshot, names, model_result, prev_model, report.frames_visible)
        kview = kernel_view(raw, groups, live, machine.zero_pfn, kernel_result, prev_kernel)
        note = outcome.note if isinstance(outcome, Done) else None
        if check:
            mview = dataclasses.replace(mview, result=assert_result(cmd, mview))
            kview = dataclasses.replace(kview, result=assert_result(cmd, kview))
            if kview.result is None:
                note = f"the assertion itself cannot be checked: {UNOBSERVABLE_ASSERT[cmd.args.check]}"
        if deferred and tainted is None and any(e.tag == "enomem" for e in step.events):
            tainted = (f"not compared: the model failed an allocation here that step {deferred[0]} "
                       f"({commands[deferred[0] - 1].op}) set up, and the lab could not do that for real")
        differences = ()
        if isinstance(outcome, Skip) and not check:
            verdict = SKIPPED
            note = outcome.reason
            if step.snapshot != prev_snap:
                if cmd.spec.lab_later:
                    deferred.append(n)
                elif tainted is None:
                    tainted = (f"not compared: step {n} ({cmd.text}) was skipped, and it changed "
                               f"the model's state")
        elif tainted is not None:
            verdict = UNCHECKED
            note = tainted
        else:
            differences = tuple(compare(mview, kview))
            verdict = DIFFER if differences else AGREE
        kernel_text = "skipped" if verdict == SKIPPED else describe(kview)
        _add(report, LabRow(n, cmd.text, verdict, describe(mview), kernel_text, differences, note,
                            mview, kview, line), on_row)
        prev_model, prev_kernel, prev_snap = mview, kview, step.snapshot


def _add(report: LabReport, row: LabRow, on_row) -> None:
    report.rows.append(row)
    if on_row is not None:
        on_row(row)


def replayable(commands) -> tuple[bool, str]:
    """Can every command be carried out for real?  (True, "") or (False, why not, for the first that cannot)."""
    for c in commands:
        why = c.spec.lab_skip(c.args)
        if why:
            return False, f"'{c.text}': {why}"
    return True, ""
