"""The layout cache: keyed by DOT text, shared by threads, one Graphviz run per distinct layout."""
import os
import subprocess
import threading

import pytest

from cowviz.diagram import graphviz, layout_run
from cowviz.diagram.graphviz import CACHE, run_dot

from .conftest import ROOT


def test_same_text_runs_graphviz_once_across_threads():
    text = 'digraph cache_test_%d { a -> b; }' % threading.get_ident()
    before = CACHE.runs
    results = []
    barrier = threading.Barrier(8)

    def ask():
        barrier.wait()
        results.append(run_dot(text, "json"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert CACHE.runs - before == 1
    assert len(results) == 8 and len(set(results)) == 1


def test_a_second_layout_of_the_same_run_costs_no_graphviz_run(early_copy_runs):
    run = early_copy_runs["5.9"]
    first = layout_run(run)
    before = CACHE.runs
    second = layout_run(run)
    assert CACHE.runs == before
    assert first.frames[-1].to_json() == second.frames[-1].to_json()


def test_cache_is_bounded():
    cache = graphviz._Cache(3)
    for i in range(10):
        cache.get(i, lambda i=i: i)
    assert len(cache.done) == 3 and cache.runs == 10


def test_cache_is_bounded_in_bytes():
    """Finding (issue 14): 512 entries of a big drawing held 274 MB; the cache is capped in bytes too."""
    cache = graphviz._Cache(512, max_bytes=10_000)
    for i in range(50):
        cache.get(("x" * 1000 + str(i), "json", ()), lambda: b"y" * 1000)
    assert cache.bytes <= 10_000 and 1 <= len(cache.done) <= 5 and cache.runs == 50
    cache.clear()
    assert cache.bytes == 0


SANDBOX = ["mmap P buf 8", "fork P C", "mmap P sh 4 shared", "mmap P big 16"] + [
    line.replace("N", str(k)) for k in range(3) for line in (
        "write P buf[0] A", "write C buf[0] B", "pin P buf[2] as nicN write longterm", "fork P D",
        "write D buf[2] X", "dma-write nicN Z", "unpin nicN", "gup P buf[3] as devN x64",
        "vmsplice C buf[0] pipeN", "write C buf[0] R", "pipe-read pipeN", "exit D", "write P sh[0] S",
        "write P big[N] bN", "write P big[1N] cN", "mprotect P buf ro", "mprotect P buf rw")]


def _layout_texts(monkeypatch):
    """The DOT texts of the layouts of some walkthroughs under each of their eras, and of a sandbox
    history typed line by line (its full layouts: small to about 100 objects)."""
    from cowviz.diagram import history
    from cowviz.diagram.layout import bare_text
    from cowviz.scenario import Names, load_scenario, parse_console_line
    from cowviz.scenario.runner import LiveRun, run_scenario
    texts = []
    for name in ("01-fork-and-cow", "05-vmsplice-leak", "08-rdma-regression", "10-has-pinned-early-copy",
                 "13-threads", "14-exclusive-pages", "15-false-positives"):
        s = load_scenario(os.path.join(ROOT, "scenarios", name + ".yaml"))
        for era in s.eras:
            lay = layout_run(run_scenario(s, era), legend=False)
            texts.append(lay.dot)
            texts.append(bare_text(lay.frames[-1]._union))      # what fit_drawing lays out
    laid = history.layout

    def layout(union):
        geom, text = laid(union)
        texts.append(text)
        return geom, text

    monkeypatch.setattr(history, "layout", layout)
    names, live = Names(), LiveRun("5.9")
    h = history.HistoryLayouter("5.9", legend=False)
    h.push(live.initial)
    for line in SANDBOX:
        step = live.add(parse_console_line(line, names, scratch=True))
        h.push(step.snapshot, step.events, line)
        h.frame()
    return texts


def test_a_primed_dot_answers_byte_for_byte_what_a_fresh_one_does(monkeypatch):
    """A layout runs in a dot that laid out PRIME (an empty graph) first.  Graphviz 2.43 carries state
    from one graph to the next, and a prime that loads the fonts changed 1 in 4 layouts of one of the
    sandbox's graphs here; this checks the empty prime on this machine's dot, each graph twice."""
    prog = graphviz.find_dot()
    texts = _layout_texts(monkeypatch)
    assert len(texts) >= 60
    graphviz.PRIMED.start(prog)
    for text in texts + texts:
        fresh = subprocess.run([prog, "-Tjson0"], input=text.encode(), capture_output=True)
        primed = graphviz._primed_layout(prog, text)
        assert primed is not None and primed[0] == 0 == fresh.returncode
        assert primed[1] == fresh.stdout


def test_a_layout_takes_the_waiting_dot_and_leaves_another_waiting():
    prog = graphviz.find_dot()
    graphviz.PRIMED.start(prog)
    waiting = graphviz.PRIMED.waiting[prog][1]
    run_dot('digraph primed_%d { a -> b; }' % threading.get_ident(), "json0")
    assert waiting.returncode == 0                       # it ran the layout and ended
    after = graphviz.PRIMED.waiting[prog][1]
    assert after is not waiting and after.poll() is None


def test_a_process_forked_from_the_server_starts_its_own_dot(monkeypatch):
    """gunicorn forks workers: a dot the parent left waiting shares its pipes with every worker, so a
    worker never takes it."""
    prog = graphviz.find_dot()
    graphviz.PRIMED.start(prog)
    parents = graphviz.PRIMED.waiting[prog][1]
    monkeypatch.setattr(graphviz.os, "getpid", lambda: -1)
    assert graphviz.PRIMED.take(prog) is None
    assert parents.poll() is not None                    # ended, not left waiting
    monkeypatch.undo()
    graphviz._drop(graphviz.PRIMED.waiting.pop(prog)[1])


def test_a_bad_graph_in_a_primed_dot_is_a_graphviz_error():
    graphviz.PRIMED.start(graphviz.find_dot())
    with pytest.raises(graphviz.GraphvizError) as e:
        run_dot("digraph broken_%d { a -> ; }" % threading.get_ident(), "json0")
    assert "syntax error" in str(e.value) and "\n" not in str(e.value)


def test_a_started_layout_is_the_answer_of_run_dot_and_a_bad_one_its_error():
    text = 'digraph started_%d { a -> b; }' % threading.get_ident()
    started = graphviz.Started(text)
    assert run_dot(text, "json0", started=started) == subprocess.run(
        [graphviz.find_dot(), "-Tjson0"], input=text.encode(), capture_output=True).stdout
    assert started._proc.returncode == 0 and started._files[1].closed
    bad = graphviz.Started("digraph started_bad_%d { a -> ; }" % threading.get_ident())
    with pytest.raises(graphviz.GraphvizError) as e:
        run_dot(bad.text, "json0", started=bad)
    assert "syntax error" in str(e.value)
    other = graphviz.Started(text + " ")          # not the text asked for: ended, not used
    run_dot(text, "json0", started=other)
    assert other._proc.poll() is not None and other._files[1].closed
