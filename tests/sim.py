"""A small driver for engine tests: run command lines on a kernel, checking invariants after each."""
from __future__ import annotations

from cowviz.eras import ERA_IDS, get_era
from cowviz.mm import Kernel, check_invariants
from cowviz.scenario import parse_command
from cowviz.scenario.runner import execute

ERAS = ERA_IDS
PRE_59 = ("5.7", "5.8", "5.9-rc")
EARLY_COPY = ("5.9", "6.x")


class Sim:
    """A kernel of one era driven by command lines."""

    def __init__(self, era: str):
        self.k = Kernel(get_era(era))
        self.era = era
        self.events = []

    def __call__(self, *lines: str) -> str:
        """Run the lines; return the result of the last one ("ok", a value, or an error name)."""
        result = None
        for line in lines:
            cmd = parse_command(line)
            outcome, held, _ = execute(self.k, cmd)
            self.events = self.k.take_events()
            problems = check_invariants(self.k)
            assert not problems, f"{line}: {problems}"
            result = outcome.result
        return result

    def fns(self) -> list[str]:
        """The kernel functions that acted in the last command."""
        return [e.fn for e in self.events]

    def tags(self) -> list[str]:
        return [e.tag for e in self.events if e.tag]

    def vma(self, task: str, name: str):
        return self.k.tasks[task].mm.mmap[name]

    def pte(self, task: str, name: str, i: int = 0):
        return self.k.lookup_pte(task, name, i)

    def page(self, task: str, name: str, i: int = 0):
        return self.k.page_of(task, name, i)

    def mm(self, task: str):
        return self.k.tasks[task].mm
