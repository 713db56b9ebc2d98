"""The layout cache: keyed by DOT text, shared by threads, one Graphviz run per distinct layout."""
import threading

from cowviz.diagram import graphviz, layout_run
from cowviz.diagram.graphviz import CACHE, run_dot


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
