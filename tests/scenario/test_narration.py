"""The narration of the walkthroughs is true in each of their eras, and never points at the screen.

A step whose outcome differs between a walkthrough's eras (its output or error, or the kinds of
event it causes: copy, reuse, early copy, lost DMA, ...) cannot be narrated by one text for all
of them: one of the eras would read a sentence its diagram contradicts.  Such a step must have a
`say:` map (docs/scenarios.md, "Narration per era").
"""
import glob
import os
import re

import pytest

from cowviz.scenario import load_scenario, parse_scenario, run_scenario

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WALKTHROUGHS = sorted(glob.glob(os.path.join(ROOT, "scenarios", "[0-9][0-9]-*.yaml")))
ALL_FILES = WALKTHROUGHS + sorted(glob.glob(os.path.join(ROOT, "scenarios", "reference", "*.yaml")))

# Words that place things on the screen: the same text is read in one pane, in a comparison, on a
# phone and in a terminal trace, where none of these mean anything.
LAYOUT = re.compile(r"\b(left|right)[- ]hand\b|\b(left|right|top|bottom|upper|lower|second|first)"
                    r" (pane|panel|side|column|diagram|half)\b|\b(above|below)\b|\bon the (left|right)\b"
                    r"|\bpane\b|\bside[- ]by[- ]side\b|\bscreen\b", re.I)


def outcome(step_result) -> tuple:
    kinds = frozenset(e.tag for e in step_result.events if e.tag)
    return step_result.output, step_result.error, kinds


def era_dependent_steps(scenario) -> dict:
    """{step index: {era: outcome}} for the steps whose outcome differs between the scenario's eras."""
    runs = {era: run_scenario(scenario, era) for era in scenario.eras}
    out = {}
    for i, step in enumerate(scenario.steps):
        per_era = {era: outcome(run.steps[i]) for era, run in runs.items()}
        if len(set(per_era.values())) > 1:
            out[step.index] = per_era
    return out


@pytest.mark.parametrize("path", WALKTHROUGHS, ids=os.path.basename)
def test_a_step_whose_outcome_differs_by_era_has_a_text_per_era(path):
    s = load_scenario(path)
    one_text = [f"{os.path.basename(path)}:{s.steps[n - 1].line}: step {n} ({s.steps[n - 1].command.text})"
                for n in era_dependent_steps(s) if not s.steps[n - 1].say_varies]
    assert not one_text, ("outcome differs by era but `say:` is one text for all of them: "
                          + "; ".join(one_text))


def test_eras_that_differ_get_different_texts():
    # Not only a map: two eras with different outcomes must not be given the same words.
    same = []
    for path in WALKTHROUGHS:
        s = load_scenario(path)
        for n, per_era in era_dependent_steps(s).items():
            step = s.steps[n - 1]
            for a in s.eras:
                for b in s.eras:
                    if a < b and per_era[a] != per_era[b] and step.say_for(a) == step.say_for(b):
                        same.append(f"{os.path.basename(path)} step {n}: {a} and {b}")
    assert not same, "different outcomes, same narration: " + "; ".join(same)


def test_the_detector_finds_an_era_dependent_step_and_passes_one_that_is_not():
    text = ("title: t\neras: [5.7, 5.9-rc]\nsteps:\n  - do: mmap P b 1\n  - do: write P b[0] A\n"
            "  - do: fork P C\n  - do: exit C\n  - do: vmsplice P b[0] pipe\n  - do: write P b[0] B\n")
    found = era_dependent_steps(parse_scenario(text))
    assert set(found) == {6}                              # 5.7 reuses, 5.9-rc copies
    assert "reuse" in found[6]["5.7"][2] and "cow_copy" in found[6]["5.9-rc"][2]


def test_about_fifty_walkthrough_steps_are_era_dependent():
    # A guard for the detector itself: if it found nothing the test above could not fail.
    total = sum(len(era_dependent_steps(load_scenario(p))) for p in WALKTHROUGHS)
    assert total >= 45, total


@pytest.mark.parametrize("path", ALL_FILES, ids=os.path.basename)
def test_no_narration_refers_to_screen_layout(path):
    s = load_scenario(path)
    texts = [("summary", s.summary)]
    for st in s.steps:
        for era in s.eras:
            texts.append((f"step {st.index} say ({era})", st.say_for(era) or ""))
        if st.ask is not None:
            texts.append((f"step {st.index} question", st.ask.question))
            texts += [(f"step {st.index} explain ({era})", st.ask.explain_for(era) or "") for era in s.eras]
    bad = sorted({f"{where}: '{m.group(0)}'" for where, t in texts for m in [LAYOUT.search(t)] if m})
    assert not bad, f"{os.path.basename(path)} points at the screen: " + "; ".join(bad)


@pytest.mark.parametrize("words", ["see the right-hand side", "in the left pane", "shown above",
                                   "the diagram below", "side by side", "on the right"])
def test_the_layout_check_catches_screen_words(words):
    assert LAYOUT.search(f"The copy is {words}.")
