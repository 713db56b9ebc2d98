"""Replay every scenario file on this kernel and hold the model of its era against it.

The files are found when the tests run: the tutorial walkthroughs and
reference scenarios in scenarios/, and the lab's own in tests/lab/scenarios/.
Steps the lab cannot carry out for real (a read-only pin, fail-alloc,
memcg-limit) are skipped by the lab itself and the steps after them are
left unchecked when the model's state depends on them; a file fails only
where the kernel differs from the model, or the probe cannot finish.
"""
from __future__ import annotations

import glob
import os

import pytest

from cowviz.lab import replayable
from cowviz.scenario import load_scenario

from tests.lab.labkit import LAB_SCENARIOS, ROOT, needs_lab, probe_file

pytestmark = needs_lab

FILES = sorted(glob.glob(os.path.join(ROOT, "scenarios", "**", "*.yaml"), recursive=True)) + \
    sorted(glob.glob(os.path.join(LAB_SCENARIOS, "*.yaml")))


def test_there_is_something_to_replay():
    assert len(glob.glob(os.path.join(LAB_SCENARIOS, "*.yaml"))) >= 8


@pytest.mark.parametrize("path", FILES, ids=[os.path.relpath(p, ROOT) for p in FILES])
def test_the_kernel_agrees_with_the_model(path):
    scenario = load_scenario(path)
    whole, why = replayable([s.command for s in scenario.steps])
    if not whole:
        print(f"partly replayable: {why}")
    report = probe_file(path)
    assert report.error is None, report.error
    differ = [f"step {r.index} ({r.command}): {'; '.join(r.differences)}"
              for r in report.rows if r.verdict == "differ"]
    assert not differ, "\n".join(differ)
    assert any(r.verdict == "agree" for r in report.rows)
