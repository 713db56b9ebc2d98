"""Nothing that persists moves: 0 displacement with the union layout, for every scenario file.

Picks up every scenarios/*.yaml (the tutorial, added over time) and this
folder's own scenarios, each under every era it names.
"""
import statistics

import pytest

from cowviz.diagram import SandboxLayouter, layout_run
from cowviz.scenario import load_scenario, run_scenario

from .conftest import OWN, SHARED, scenario_eras


def displacements(a, b) -> list[float]:
    """How far each node present in both frames moved (points), and how much its size changed."""
    out = []
    for n in a.nodes:
        m = b.node(n.id)
        if m is not None:
            out.append(((n.x - m.x) ** 2 + (n.y - m.y) ** 2) ** 0.5 + abs(n.w - m.w) + abs(n.h - m.h))
    return out


def test_own_scenarios_exist():
    assert len(OWN) >= 5


@pytest.mark.parametrize("path, era", scenario_eras(SHARED + OWN))
def test_union_layout_holds_still(path, era):
    run = run_scenario(load_scenario(path), era)
    frames = layout_run(run).frames
    moves = []
    for a, b in zip(frames, frames[1:]):
        moves += displacements(a, b)
        paths_a = {e.id: e.d for e in a.edges}
        for e in b.edges:
            if e.id in paths_a:
                assert e.d == paths_a[e.id], (b.step, e.id)
        assert a.vb == b.vb
    assert moves, "no node persists from one step to the next"
    assert statistics.median(moves) == 0 and max(moves) == 0


def test_displacement_is_measured():
    """The measure sees a move when there is one (so the test above can fail)."""
    s = load_scenario([p for p in OWN if p.endswith("early_copy.yaml")][0])
    one = layout_run(run_scenario(s, "5.8")).frames[-1]
    other = layout_run(run_scenario(s, "6.x")).frames[-1]
    assert max(displacements(one, other)) > 0


@pytest.mark.parametrize("path", OWN)
def test_sandbox_moves_nothing_when_nothing_is_new(path):
    s = load_scenario(path)
    run = run_scenario(s, s.kernel)
    sb = SandboxLayouter(run.era)
    frames = [sb.add(run.initial)] + [sb.add(st.snapshot, st.events) for st in run.steps]
    assert len(frames) == len(run.steps) + 1 and sb.stats[0]["relayout"]
    for a, b, stat in zip(frames, frames[1:], sb.stats[1:]):
        if not stat["relayout"]:
            assert max(displacements(a, b), default=0) == 0
        assert stat["max"] >= stat["median"] >= 0
    # The last frame shows the same objects as the union layout's last frame.
    assert {n.id for n in frames[-1].nodes} == {n.id for n in layout_run(run).frames[-1].nodes}
