"""Narration apart from mechanics (issue 9, item 5): events carry facts; their words are made in
cowviz/mm/narration.py alone; kernel functions return kernel values; repeats fold in one place."""
import ast
import glob
import os

import pytest

from cowviz.eras import ERA_IDS, get_era
from cowviz.mm import Kernel, devices, memory, narration
from cowviz.mm.types import EAGAIN, EFAULT
from cowviz.scenario.loader import load_scenario
from cowviz.scenario.runner import run_scenario
from tests.sim import Sim

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
ENGINE = glob.glob(os.path.join(ROOT, "cowviz", "mm", "*.py"))
SCENARIOS = sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml")))
PLAIN = (int, str, bool, type(None))


def _plain(v) -> bool:
    return isinstance(v, PLAIN) or (isinstance(v, tuple) and all(_plain(x) for x in v))


@pytest.fixture(scope="module")
def events():
    """Every event of every shipped tutorial scenario under every era: [(era, event)]."""
    out = []
    for path in SCENARIOS:
        sc = load_scenario(path)
        for era in ERA_IDS:
            for s in run_scenario(sc, era).steps:
                out += [(era, e) for e in s.events]
    assert len(out) > 1000
    return out


def test_each_text_is_made_from_the_events_facts_alone(events):
    """Word an event again from its `what`, `facts` and decisions: the same sentence comes out."""
    whats = set()
    for era_id, e in events:
        era = get_era(era_id)
        assert e.what in narration.WORDS, (era_id, e.fn, e.what)
        assert all(_plain(v) for _, v in e.facts), (e.what, e.facts)
        whats.add(e.what)
        again = narration.WORDS[e.what](name=era.kernel_name, flag=era.facts.has_pinned_flag,
                                        decisions=e.decisions, **dict(e.facts))
        assert again == e.text, (era_id, e.what)
    # The story's main events are all among them.
    assert {"wp_copy", "wp_reuse", "early_copy", "fork_shared", "gup_grab", "pipe_leak",
            "dma_write_lost"} <= whats


def test_no_engine_module_but_narration_writes_event_text():
    """Every emit() names what was done by a key of narration.WORDS and hands over facts, no text."""
    calls = 0
    for path in ENGINE:
        if path.endswith("narration.py"):
            continue
        for node in ast.walk(ast.parse(open(path).read())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "emit":
                calls += 1
                what = node.args[1]
                assert isinstance(what, ast.Constant) and what.value in narration.WORDS, \
                    (path, node.lineno)
                for arg in node.args + [k.value for k in node.keywords]:
                    assert not isinstance(arg, ast.JoinedStr), (path, node.lineno, "an f-string")
    assert calls >= 60


def test_copy_present_pte_returns_what_the_kernel_returns(monkeypatch):
    seen = []
    real = memory.copy_present_pte

    def spy(*a, **kw):
        ret = real(*a, **kw)
        seen.append(ret)
        return ret
    monkeypatch.setattr(memory, "copy_present_pte", spy)
    for era in ("5.7", "5.9", "6.x"):
        s = Sim(era)
        s("mmap P buf 3", "write P buf[0] A", "read P buf[1]", "pin P buf[0] as nic write",
          "mmap P shm 1 shared", "write P shm[0] S", "fork P C")
    assert set(seen) == {0, -EAGAIN}


def test_gup_repeats_are_all_done_and_told_once():
    """`xN` makes N calls, each emitted; the one fold tells the first in full and counts the rest."""
    k = Kernel(get_era("5.9"))
    k.mmap("P", "buf", 1)
    k.access("P", "buf", 0, True, "A")
    k.take_events()
    assert k.gup("P", "buf", 0, "nic", pin=True, count=5).error is None
    grabs = [r for r in k.events if r.what == "gup_grab"]
    assert len(grabs) == 5 and [r.repeat for r in grabs] == [0, 1, 2, 3, 4]
    told = k.take_events()
    assert [e.what for e in told] == ["has_pinned_set", "gup_grab", "gup_repeated"]
    assert told[-1].text == "... 5 times in all: nic holds 5 references on page 1, refcount now 5121."
    assert dict(told[-1].facts)["calls"] == 5


def test_a_failed_repeat_is_told_in_full_and_not_counted():
    r = narration.Raw
    grab = lambda n: r("pin_user_pages", "gup_grab", "pin", (), (), {"holder": "nic", "pfn": 1, "after": 1}, n)
    fail = r("handle_mm_fault", "fault_oom", "enomem", (), (), {"where": "P buf[0]"}, 2)
    folded = narration.fold_repeats([grab(0), grab(1), fail])
    assert [x.what for x in folded] == ["gup_grab", "fault_oom"]
    folded = narration.fold_repeats([grab(0), grab(1), grab(2)])
    assert [x.what for x in folded] == ["gup_grab", "gup_repeated"] and folded[-1].facts["calls"] == 3


def test_devices_and_pipes_return_kernel_values():
    k = Kernel(get_era("6.x"))
    assert devices.pipe_read(k, "p") == -EAGAIN
    assert devices.dma_write(k, "nic", "X") == -EFAULT
    assert devices.dma_read(k, "nic") == -EFAULT
    assert k.pipe_read("p").error == "EAGAIN" and k.dma_read("nic").error == "EFAULT"
    k.mmap("P", "buf", 1)
    k.access("P", "buf", 0, True, "A")
    assert k.vmsplice("P", "buf", 0, "p").error is None
    assert devices.pipe_read(k, "p") == "A"


def test_the_cli_json_carries_what_each_event_did_and_its_facts():
    from cowviz.scenario.trace import run_to_json
    run = run_scenario(load_scenario(os.path.join(ROOT, "scenarios", "05-vmsplice-leak.yaml")), "5.7")
    events = [e for s in run_to_json(run)["steps"] for e in s["events"]]
    leak = [e for e in events if e["what"] == "pipe_leak"]
    assert leak and leak[0]["tag"] == "leak"
    assert leak[0]["facts"] == {"pipe": "pipe", "data": "SECRET", "who": "P", "pfn": 1, "task": "C"}
    reuse = [e for e in events if e["what"] == "wp_reuse"][0]
    # The counters the decision read travel with it: the 5.7 rule saw mapcount 1 and ignored refcount 2.
    assert reuse["decisions"][0]["seen"] == {"mapcount": 1, "refcount": 2}
