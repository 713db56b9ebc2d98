"""Every scenario file is a regression test: it must load and hold under each of its eras."""
import glob
import os

import pytest

from cowviz.scenario import load_scenario, run_scenario

ROOT = os.path.join(os.path.dirname(__file__), "..", "scenarios")
FILES = sorted(glob.glob(os.path.join(ROOT, "**", "*.yaml"), recursive=True))
CASES = [(path, era) for path in FILES for era in load_scenario(path).eras]


def test_there_are_scenarios():
    assert len(FILES) >= 15


@pytest.mark.parametrize("path, era", CASES, ids=[f"{os.path.relpath(p, ROOT)}@{e}" for p, e in CASES])
def test_scenario_holds(path, era):
    run = run_scenario(load_scenario(path), era)          # invariants are checked after every step
    assert run.ok, "\n".join(f"step {s.index} ({s.command}): {s.message}" for s in run.failures())


TUTORIAL = sorted(glob.glob(os.path.join(ROOT, "[0-9][0-9]-*.yaml")))


@pytest.mark.parametrize("path", TUTORIAL, ids=[os.path.basename(p) for p in TUTORIAL])
def test_tutorial_walkthroughs_narrate_every_step_and_ask_something(path):
    s = load_scenario(path)
    assert s.summary and s.level and s.references
    missing = [st.index for st in s.steps if not all((st.say_for(e) or "").strip() for e in s.eras)]
    assert not missing, f"steps without narration: {missing}"
    assert any(st.ask is not None for st in s.steps), "no predict-then-reveal question"
