"""Fixtures for the diagram tests: scenario runs, and layouts of them."""
import glob
import os

import pytest

from cowviz.scenario import load_scenario, parse_scenario, run_scenario

HERE = os.path.dirname(__file__)
ROOT = os.path.dirname(os.path.dirname(HERE))
OWN = sorted(glob.glob(os.path.join(HERE, "scenarios", "*.yaml")))
SHARED = sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml")))


def scenario_eras(paths):
    """(path, era) for every era each scenario file names."""
    return [pytest.param(p, era, id=f"{os.path.relpath(p, ROOT)}@{era}")
            for p in paths for era in load_scenario(p).eras]


def run_text(text: str, era: str):
    """Run scenario text (a `steps:` list of commands) under one era."""
    return run_scenario(parse_scenario(text, "<test>"), era)


def run_commands_text(commands: str, era: str):
    """Run one command per line under one era."""
    steps = "\n".join(f"  - do: {line.strip()}" for line in commands.strip().splitlines())
    return run_text(f"title: test\nsteps:\n{steps}\n", era)


@pytest.fixture(scope="session")
def early_copy_runs():
    """tests/diagram/scenarios/early_copy.yaml under each of its eras."""
    s = load_scenario(os.path.join(HERE, "scenarios", "early_copy.yaml"))
    return {era: run_scenario(s, era) for era in s.eras}
