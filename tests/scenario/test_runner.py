"""The runner: expectations per era, asserts, events and snapshots per step, invariants."""
import pytest

from cowviz.mm import InvariantError
from cowviz.scenario import parse_scenario, run_scenario

TEXT = """\
title: t
steps:
  - do: mmap P buf 1
  - do: write P buf[0] A
  - do: pin P buf[0] as nic write longterm
  - do: fork P C
  - do: write P buf[0] B
  - do: dma-write nic C
  - do: read P buf[0]
    expect: {5.9-rc: B, 5.9: C}
  - do: assert same-page P buf[0] C buf[0]
    expect: {5.9: failed}
  - do: read C buf[0]
    ask: {question: q, pick: page, of: "C buf[0]"}
"""


def test_expectations_are_checked_per_era():
    s = parse_scenario(TEXT)
    r = run_scenario(s, "5.9")
    assert r.ok and r.era == "5.9" and r.steps[6].result == "C"
    r = run_scenario(s, "5.9-rc")
    bad = r.failures()
    assert [f.index for f in bad] == [8]      # P was copied away, and no expectation excuses it in 5.9-rc
    assert "assertion failed" in bad[0].message
    r = run_scenario(s, "5.7")                           # no expectation for 5.7 on step 7
    assert r.steps[6].expected is None


def test_each_step_has_events_and_its_own_snapshot():
    r = run_scenario(parse_scenario(TEXT), "5.9")
    fork = r.steps[3]
    assert "copy_present_page" in [e.fn for e in fork.events]
    assert r.initial.tasks == () and len(r.steps[0].snapshot.tasks) == 1
    assert r.steps[3].snapshot.vma("C", "buf") is not None and r.steps[2].snapshot.task("C") is None
    page = r.steps[3].snapshot.page_at("C", "buf", 0)
    assert page.refcount == 1 and page.mapcount == 1 and page.exclusive is None
    assert r.steps[-1].answer == f"page:{page.pfn}"


def test_a_broken_invariant_is_loud_and_names_the_step(monkeypatch):
    from cowviz.mm import memory
    monkeypatch.setattr(memory, "page_dup_rmap", lambda page: None)     # forget a mapcount
    with pytest.raises(InvariantError, match=r"step 4 \(fork P C\) under 5.9-rc.*mapcount"):
        run_scenario(parse_scenario(TEXT), "5.9-rc")


def test_runs_are_deterministic():
    s = parse_scenario(TEXT)
    a, b = run_scenario(s, "6.x"), run_scenario(s, "6.x")
    assert [x.events for x in a.steps] == [y.events for y in b.steps]
    assert [x.snapshot for x in a.steps] == [y.snapshot for y in b.steps]


def test_rewind_from_a_checkpoint_gives_the_run_of_the_shorter_list():
    """An undo runs only the commands since the kernel kept last (LiveRun(checkpoints=N)), and
    ends where running the shorter list from the start ends: same results, same snapshots."""
    import random
    from cowviz.scenario import Names, parse_console_line
    from cowviz.scenario.runner import LiveRun
    names, commands = Names(), []
    lines = ["mmap P buf 8", "fork P C", "mmap P sh 4 shared"] + \
            [f"write {'PC'[i % 2]} buf[{i % 8}] V{i}" for i in range(20)] + \
            ["pin P buf[2] as nic write longterm", "fork P D", "gup D buf[1] as dev x64", "vmsplice C buf[0] pipe",
             "exit D", "pipe-read pipe", "unpin nic", "mprotect P buf ro", "write P sh[0] S", "mprotect P buf rw"] * 3
    for line in lines:
        commands.append(parse_console_line(line, names))
    for era in ("5.8", "5.9", "6.x"):
        full = LiveRun(era, max_cells=None)
        for c in commands:
            full.add(c)
        live = LiveRun(era, max_cells=None, checkpoints=8)
        for c in commands:
            live.add(c)
        rnd, n = random.Random(era), len(commands)
        for _ in range(10):
            n = rnd.randint(max(0, n - 20), n)
            live.rewind(commands[:n])
            assert [s.result for s in live.steps] == [s.result for s in full.steps[:n]]
            assert [s.snapshot for s in live.steps[-2:]] == [s.snapshot for s in full.steps[max(0, n - 2):n]]
            for c in commands[n:n + rnd.randint(0, 12)]:
                live.add(c)
            n = len(live.steps)
            assert live.steps[-1].snapshot == full.steps[n - 1].snapshot if n else not live.steps
