"""Scenarios: the command language, the YAML files that script walkthroughs, and the runner."""
from ..eras import resolve as resolve_era   # for readers of runs (the diagram) that take an era id
from .command import Command, CommandError, PageRef, parse_command
from .loader import Ask, Scenario, ScenarioError, Step, load_scenario, parse_console_line, parse_scenario
from .names import Names
from .runner import Run, StepResult, execute, new_kernel, run_commands, run_scenario

__all__ = ["Ask", "Command", "CommandError", "Names", "PageRef", "Run", "Scenario", "ScenarioError",
           "Step", "StepResult", "execute", "load_scenario", "new_kernel", "parse_command",
           "parse_console_line", "parse_scenario", "resolve_era", "run_commands", "run_scenario"]
