"""The sandbox's layout: a command places what is new into the drawing without Graphviz, nothing
already drawn moves, and the drawing is a function of the history (cowviz/diagram/history.py)."""
from __future__ import annotations

import os
import sys

import pytest

from cowviz import ids
from cowviz.diagram.graphviz import CACHE
from cowviz.web.frames import SandboxFrames
from cowviz.web.library import WebError
from cowviz.web.sandbox import CHECKPOINT, Sandbox

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
from bench_adversarial import session_lines  # noqa: E402

HEAD = ["mmap P buf 8", "fork P C", "write P buf[0] A", "write C buf[0] B"]


def sandbox(lines=(), era="5.9", typed=False):
    """A sandbox after `lines`: drawn after each (typed, as the server replies) or once (a restore)."""
    view = SandboxFrames(era)
    box = Sandbox(era, view=view)
    for line in lines:
        box.apply(line)
        if typed:
            view.frame_json()
    view.frame_json()
    return box, view


def places(frame) -> dict:
    return {n["id"]: (n["x"], n["y"], n["w"], n["h"]) for n in frame["nodes"]}


@pytest.mark.parametrize("line", ["write P buf[1] X", "pin P buf[2] as nic write longterm", "gup C buf[3] as dev x8",
                                  "vmsplice C buf[0] pipe", "read P buf[4]"])
def test_a_command_that_adds_pages_or_holders_runs_no_graphviz_and_moves_nothing(line):
    box, view = sandbox(HEAD)
    before = places(view.frame_json())
    runs, layouts = CACHE.runs, view.layouter.layouts
    box.apply(line)
    after = places(view.frame_json())
    assert CACHE.runs == runs and view.layouter.layouts == layouts
    assert view.layouter.placements >= 1
    assert set(after) - set(before), "the command added something to draw"
    assert {n: after[n] for n in before if n in after} == {n: before[n] for n in before if n in after}


def test_graphviz_runs_for_few_commands_of_a_long_session():
    """Finding: every new object re-laid out the whole union with Graphviz (0.72 s p95 at 200 commands)."""
    view = SandboxFrames("5.9")
    box = Sandbox("5.9", view=view)
    runs0, ran = CACHE.runs, 0
    lines = session_lines(120)
    for line in lines:
        runs = CACHE.runs
        box.apply(line)
        view.frame_json()
        ran += CACHE.runs > runs
    assert view.layouter.layouts <= 8 and ran <= view.layouter.layouts
    assert CACHE.runs - runs0 <= 8
    assert view.layouter.placements >= 30


def test_placed_objects_overlap_nothing():
    box, view = sandbox(session_lines(120))
    frame = view.frame_json()
    rects = [(n["id"], n["x"] - n["w"] / 2, n["y"] - n["h"] / 2, n["x"] + n["w"] / 2, n["y"] + n["h"] / 2)
             for n in frame["nodes"] if n["kind"] not in ("pte", "vma")]
    # VMA tables whole: the header and its rows.
    tables: dict = {}
    for n in frame["nodes"]:
        if n["kind"] in ("pte", "vma"):
            key = ids.vma_of(n["id"]) if n["kind"] == "pte" else n["id"]
            x0, y0, x1, y1 = n["x"] - n["w"] / 2, n["y"] - n["h"] / 2, n["x"] + n["w"] / 2, n["y"] + n["h"] / 2
            t = tables.setdefault(key, [x0, y0, x1, y1])
            tables[key] = [min(t[0], x0), min(t[1], y0), max(t[2], x1), max(t[3], y1)]
    rects += [("table of " + k, *r) for k, r in tables.items()]
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            assert not (a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]), f"{a[0]} overlaps {b[0]}"
    x0, y0, w, h = frame["vb"]
    assert all(x0 <= r[1] and r[3] <= x0 + w and y0 <= r[2] and r[4] <= y0 + h for r in rects)
    for e in frame["edges"]:
        assert e["d"].startswith("M") and e["tip"]


def test_typed_restored_and_undone_to_lay_out_the_same_with_placements():
    lines = session_lines(70)
    typed, tview = sandbox(lines + ["write P buf[5] U", "pin C buf[1] as extra write longterm"], typed=True)
    assert tview.layouter.placements > 20
    typed.undo()
    typed.undo()
    runs = CACHE.runs
    restored, rview = sandbox(lines)
    # A restore lays out its last full state only: at most one Graphviz run (none when cached).
    assert rview.layouter.layouts == 1 and CACHE.runs - runs <= 1
    assert tview.frame_json() == rview.frame_json()


def test_an_undo_draws_the_drawing_before_the_command():
    box, view = sandbox(HEAD + ["read P buf[1]"])
    before = view.frame_json()
    box.apply("pin P buf[2] as nic write longterm")
    view.frame_json()
    box.undo()
    assert view.frame_json() == before


def test_command_and_undo_repeated_keep_nothing_and_run_no_graphviz():
    """Finding: command + undo repeated grew the layouter without bound; each cycle got slower."""
    box, view = sandbox(HEAD + ["mmap P sh 4 shared"], typed=True)
    h = view.layouter
    kept = lambda: (len(h.records), len(h.union), h.union.number_of_edges(), sum(r.geom is not None for r in h.records))
    before, layouts, runs = kept(), h.layouts, CACHE.runs
    for i in range(15):
        box.apply(f"gup P buf[{i % 8}] as dev{i} x4")
        view.frame_json()
        box.apply(f"write P sh[{i % 4}] S{i}")
        view.frame_json()
        box.undo()
        view.frame_json()
        box.undo()
        view.frame_json()
    assert kept() == before
    assert h.layouts == layouts and CACHE.runs == runs


# -- the diagram's size is a limit ----------------------------------------------------------------

def state(box, view):
    """Everything a refused command must leave as it was."""
    return (box.history, [s.result for s in box.run.steps], box.run.steps[-1].snapshot if box.run.steps else None,
            view.frame_json(), view.objects(), len(view.layouter))


def test_a_command_past_the_objects_limit_is_taken_back_and_changes_nothing():
    lines = HEAD + ["mmap P sh 4 shared"]
    box, view = sandbox(lines)
    limit = view.objects() + 2
    box = Sandbox("5.9", {"objects": limit}, view=SandboxFrames("5.9"))
    view = box.view
    for line in lines:
        box.apply(line)
    before = state(box, view)
    with pytest.raises(WebError, match=rf"sandbox limit: the diagram keeps a place for every object .* at most {limit}"):
        box.apply("fork P D")                 # a process, its mm, its VMA tables: far more than 2
    assert state(box, view) == before
    # The session goes on as if the line had never been typed, and lays out as a restore of it does.
    box.apply("write P buf[1] X")
    box.undo()
    box.apply("read P buf[2]")
    restored, rview = sandbox(lines + ["read P buf[2]"])
    assert view.frame_json() == rview.frame_json()
    assert box.run.steps[-1].snapshot == restored.run.steps[-1].snapshot


def test_a_restore_stops_at_the_first_line_past_the_objects_limit(monkeypatch):
    from cowviz.scenario import runner
    lines = HEAD + [f"fork P D{i}" for i in range(3)] + [f"write P buf[{i}] X" for i in range(8)] * 10
    calls = []
    real = runner.execute
    monkeypatch.setattr(runner, "execute", lambda k, cmd: (calls.append(cmd.text), real(k, cmd))[1])
    box = Sandbox("5.9", {"objects": 60}, view=SandboxFrames("5.9"))
    errors = box.restore(lines)
    n = len(box.history)
    assert errors[0].startswith(f"saved line {n + 1} dropped: console:1:1: sandbox limit: the diagram")
    assert errors[1] == f"saved lines {n + 2}-{len(lines)} dropped: the diagram is full"
    # Each line ran once, the refused one was taken back by running the last few again: no line after it ran.
    assert len(calls) <= n + 1 + CHECKPOINT + 2
    assert box.view.objects() <= 60


def test_an_era_switch_past_the_objects_limit_is_refused_and_changes_nothing():
    # 5.9 copies the pinned pages for the child at fork (early copies): more pages than in 5.8.
    lines = ["mmap P buf 8"] + [f"write P buf[{i}] V{i}" for i in range(8)] + \
            [f"pin P buf[{i}] as nic{i} write longterm" for i in range(8)] + ["fork P C"]
    counts = {era: sandbox(lines, era)[1].objects() for era in ("5.8", "5.9")}
    assert counts["5.9"] > counts["5.8"]
    box = Sandbox("5.8", {"objects": counts["5.8"]}, view=SandboxFrames("5.8"))
    for line in lines:
        box.apply(line)
    before = state(box, box.view)
    with pytest.raises(WebError, match=r"sandbox limit: the diagram .*\(under 5\.9; the session stays under 5\.8\)"):
        box.set_era("5.9")
    assert box.era == "5.8" and state(box, box.view) == before
    box.apply("read C buf[0]")                # and it goes on from there, under 5.8
    assert box.run.steps[-1].output == "V0" and box.run.steps[-1].snapshot.era == "5.8"


def test_switching_back_to_the_era_before_replays_nothing_and_draws_what_a_replay_draws(monkeypatch):
    """Comparing two eras back and forth: the second switch takes back the run and the drawing the
    first left, as a replay would make them again; a typed line or an undo makes them stale."""
    from cowviz.scenario import runner
    lines = HEAD + ["pin P buf[1] as nic write longterm", "fork P D"]
    box, view = sandbox(lines, "5.8")
    first = (view.frame_json(), [s.result for s in box.run.steps], box.run.steps[-1].snapshot)
    box.set_era("5.9")
    view.frame_json()
    calls = []
    real = runner.execute
    monkeypatch.setattr(runner, "execute", lambda k, cmd: (calls.append(cmd.text), real(k, cmd))[1])
    box.set_era("5.8")
    assert calls == [] and box.era == "5.8"
    assert (view.frame_json(), [s.result for s in box.run.steps], box.run.steps[-1].snapshot) == first
    box.set_era("5.9")
    assert calls == [] and box.run.era == "5.9"
    assert view.frame_json() == sandbox(lines, "5.9")[1].frame_json()
    box.apply("read P buf[0]")                 # the 5.8 run left behind no longer has these commands
    box.set_era("5.8")
    assert calls and view.frame_json() == sandbox(lines + ["read P buf[0]"], "5.8")[1].frame_json()
    box.undo()
    calls.clear()
    box.set_era("5.9")
    assert calls and view.frame_json() == sandbox(lines, "5.9")[1].frame_json()


def test_a_width_group_younger_than_the_last_full_layout_that_grows_lays_out_again():
    """Found by the fuzz test: holder B is placed (the first holder: its width group is new since
    the last full layout), then holder A's longer line widens the group.  Typed, B kept its old
    width while a restore drew it wider; now the widening is a full layout either way."""
    lines = ["mmap P buf 4", "write P buf[0] A", "gup P buf[0] as B", "pin P buf[0] as A write longterm"]
    typed, tview = sandbox(lines, era="5.7", typed=True)
    restored, rview = sandbox(lines, era="5.7")
    assert tview.frame_json() == rview.frame_json()
    assert tview.layouter.records[-1].full


def test_a_replay_puts_in_words_only_the_steps_it_keeps_and_keeps_what_typing_keeps(monkeypatch):
    """An era switch and an undo run commands again; only the last three steps keep their events
    (sandbox._forget), so only theirs are put in words, and the steps, frame and pane are those of the
    same lines typed under that era."""
    from cowviz.mm import kernel
    told = []
    real = kernel.Kernel.take_events
    monkeypatch.setattr(kernel.Kernel, "take_events", lambda k: (told.append(1), real(k))[1])
    untold = []
    real_untold = kernel.Kernel.take_untold
    monkeypatch.setattr(kernel.Kernel, "take_untold", lambda k: (untold.append(len(k.events)), real_untold(k))[1])
    lines = session_lines(40)
    box, view = sandbox(lines, "5.8")
    told.clear()
    untold.clear()
    box.set_era("6.x")
    assert len(told) == 3
    assert len(untold) == len(lines) and untold[:-3] == [0] * (len(lines) - 3)   # the others recorded none (muted)
    typed, tview = sandbox(lines, "6.x", typed=True)
    assert box.run.steps == typed.run.steps and view.frame_json() == tview.frame_json()
    assert [bool(s.events) for s in box.run.steps[-4:]] == [False, True, True, True]
    told.clear()
    box.undo()
    assert len(told) == 3                      # the checkpoint is 7 steps back (CHECKPOINT 32)
    typed.undo()
    assert box.run.steps == typed.run.steps
    assert view.frame_json() == tview.frame_json()


def test_an_era_switch_starts_the_layout_of_its_last_full_state_while_it_replays(monkeypatch):
    """The drawing under the new era extends (most likely) a full state near the one it extended
    before: that state's Graphviz run starts when the replay pushes it, beside the rest of the
    replay; what is drawn is what the same lines typed under that era draw."""
    from cowviz.diagram import graphviz
    from cowviz.diagram.history import EARLY
    started = []
    real = graphviz.Started.__init__

    def start(self, text):
        real(self, text)
        started.append(self)

    monkeypatch.setattr(graphviz.Started, "__init__", start)
    lines = session_lines(120)
    box, view = sandbox(lines, "5.8")
    assert started == []                       # typing starts nothing ahead
    base = view.last_full()
    box.set_era("5.9")
    frame = view.frame_json()
    assert len(started) == 1 and view.layouter.layouts == 1
    assert (started[0].text, "json0", ()) in CACHE.done     # its answer is the layout drawn
    assert started[0]._proc.poll() is not None and started[0]._files[1].closed
    assert abs(view.last_full() - base) <= EARLY
    CACHE.clear()
    assert frame == sandbox(lines, "5.9", typed=True)[1].frame_json()
    for line in session_lines(200)[120:]:       # typed after it: nothing is started ahead
        box.apply(line)
        view.frame_json()
    assert len(started) == 1


def _started(monkeypatch) -> list:
    """The graphviz.Started runs made from now on."""
    from cowviz.diagram import graphviz
    started = []
    real = graphviz.Started.__init__
    monkeypatch.setattr(graphviz.Started, "__init__", lambda self, text: (real(self, text), started.append(self))[0])
    return started


@pytest.mark.parametrize("era", ["5.7", "5.9"])
def test_a_restore_starts_the_layout_of_the_full_states_among_its_last_lines_while_it_runs(monkeypatch, era):
    """Which full state the drawing of a restore extends is known only once its lines have run:
    each full state among the last RESTORE_EARLY starts its Graphviz run when it is pushed, and
    the last one's answer is the layout drawn (a reload of a long session waits less for it)."""
    from cowviz.web.sandbox import RESTORE_EARLY
    started = _started(monkeypatch)
    lines = session_lines(200)
    box = Sandbox(era, view=SandboxFrames(era))
    box.restore(lines)
    frame = box.view.frame_json()
    records = box.view.layouter.records
    late = [i for i, r in enumerate(records) if r.full and i >= len(lines) - RESTORE_EARLY]
    assert len(started) == len(late) >= 1 and box.view.layouter.layouts == 1
    assert (started[-1].text, "json0", ()) in CACHE.done
    assert all(s._proc.poll() is not None and s._files[1].closed for s in started)
    CACHE.clear()
    assert frame == sandbox(lines, era, typed=True)[1].frame_json()
    started.clear()
    Sandbox(era, view=SandboxFrames(era)).restore(lines[:RESTORE_EARLY])    # a short one: quick, and full
    assert started == []                                                    # states come first


def _typed(lines, era="5.9", limits=None):
    """The lines typed one by one, each drawn, refused ones left out (as the console does)."""
    view = SandboxFrames(era)
    box = Sandbox(era, limits, view=view)
    for line in lines:
        try:
            box.apply(line)
        except WebError:
            pass
        view.frame_json()
    return box, view


@pytest.mark.parametrize("dropped", [0, 1, 2, 3, 5])
def test_a_restore_puts_in_words_only_its_last_steps_even_when_its_last_lines_are_dropped(monkeypatch, dropped):
    """A restore runs its lines quiet but the last SHOWN (their events are not put in words).
    When lines at the end are dropped, steps run quiet become the last ones: their events are
    put in words then, and the steps, the pane and the drawing are those of the same lines typed."""
    from cowviz.mm import kernel
    from cowviz.web.session import pane
    told = []
    real = kernel.Kernel.tell
    monkeypatch.setattr(kernel.Kernel, "tell", lambda k, raw: (told.append(1), real(k, raw))[1])
    lines = session_lines(40) + ["write P nosuch[0] X"] * dropped
    box = Sandbox("6.x", view=SandboxFrames("6.x"))
    errors = box.restore(lines)
    assert len(errors) == dropped and len(told) == 3
    typed, tview = _typed(lines, "6.x")
    assert box.run.steps == typed.run.steps
    assert [bool(s.events) for s in box.run.steps[-4:]] == [False, True, True, True]
    assert box.view.frame_json() == tview.frame_json()
    n = len(box.run.steps)
    assert pane(box.run, n, box.view.current(box.run), held=False) == pane(typed.run, n, tview.current(typed.run), held=False)


def test_a_restore_that_ends_at_the_objects_limit_draws_its_last_steps_with_their_events():
    """The line past the limit is taken back by running the last few again (those are put in
    words), and the drawing and steps are those of the lines typed (the refused one left out)."""
    lines = HEAD + [f"fork P D{i}" for i in range(3)] + [f"write P buf[{i}] X" for i in range(8)] * 3
    limit = sandbox(lines)[1].objects() - 1
    box = Sandbox("5.9", {"objects": limit}, view=SandboxFrames("5.9"))
    errors = box.restore(lines)
    assert "the diagram keeps a place" in errors[0]
    typed, tview = _typed(lines[:len(box.history) + 1], limits={"objects": limit})
    assert typed.history == box.history
    assert box.run.steps == typed.run.steps and all(s.events for s in box.run.steps[-3:])
    assert box.view.frame_json() == tview.frame_json()


def test_a_layout_started_for_a_state_that_is_not_the_last_full_one_is_ended(monkeypatch):
    from cowviz.diagram import graphviz
    started = []
    real = graphviz.Started.__init__
    monkeypatch.setattr(graphviz.Started, "__init__", lambda self, text: (real(self, text), started.append(self))[0])
    lines = session_lines(120)
    box, view = sandbox(lines, "5.9")
    view.layouter.records[-1].base = 0         # as if the drawing before had been laid out at the start
    box.set_era("6.x")                         # so every full state of the replay starts one
    view.frame_json()
    fulls = [i for i, r in enumerate(view.layouter.records) if r.full and i >= 1]   # 0 is pushed first
    assert len(started) == len(fulls) > 1
    assert all(s._proc.poll() is not None and s._files[1].closed for s in started)   # ended, files closed
    assert view.frame_json() == sandbox(lines, "6.x")[1].frame_json()
