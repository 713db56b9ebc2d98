"""Layout cost per step, uncached: the scenarios, and a 1 GiB mm drawn collapsed.

    .venv/bin/python bench/bench_layout.py [--all-eras] [--repeat N]

For each scenario (scenarios/*.yaml and tests/diagram/scenarios/*.yaml) it prints
the cost per frame of layout_run (graphs for every step plus one Graphviz
layout of their union), of one frame's SVG (one Graphviz run), and of the
sandbox layouter (which re-lays out when something new appears), with the
sandbox's displacement of objects already on screen.  Then it builds a 1 GiB
mm with the engine and times build_graph and the layout of each step.
Caches are cleared before every measurement.
"""
from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import networkx as nx  # noqa: E402

from cowviz.diagram import SandboxLayouter, build_graph, dot_text, layout_run  # noqa: E402
from cowviz.diagram import layout as _layout  # noqa: E402
from cowviz.diagram.graphviz import CACHE, run_dot  # noqa: E402
from cowviz.diagram.layout import assign_sizes, merge_into  # noqa: E402
from cowviz.eras import get_era  # noqa: E402
from cowviz.mm import Kernel, take_snapshot  # noqa: E402
from cowviz.scenario import load_scenario, run_scenario  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GIB_PAGES = 262144


def clear() -> None:
    CACHE.clear()
    _layout._geometry_cache.clear()


def timed(fn, repeat: int) -> float:
    """Median wall time of fn() in ms, caches cleared before each call."""
    times = []
    for _ in range(repeat):
        clear()
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def bench_scenarios(all_eras: bool, repeat: int) -> None:
    paths = sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml"))) + \
        sorted(glob.glob(os.path.join(ROOT, "tests", "diagram", "scenarios", "*.yaml")))
    print(f"{'scenario':<34}{'era':<8}{'frames':>7}{'nodes':>7}{'run/frame':>11}{'svg/frame':>11}"
          f"{'sandbox/step':>14}{'relayouts':>11}{'moved med/max pt':>18}")
    worst = 0.0
    for path in paths:
        s = load_scenario(path)
        for era in (s.eras if all_eras else (s.kernel,)):
            run = run_scenario(s, era)
            n = len(run.steps) + 1
            per_run = timed(lambda: layout_run(run), repeat) / n
            rl = layout_run(run)
            nodes = max(len(f.nodes) for f in rl.frames)
            svg = timed(lambda: rl.frames[-1].to_svg(), repeat)

            def sandbox():
                sb = SandboxLayouter(run.era)
                sb.add(run.initial)
                for st in run.steps:
                    sb.add(st.snapshot, st.events)
                return sb
            per_sb = timed(sandbox, repeat) / n
            sb = sandbox()
            moved = [st for st in sb.stats[1:] if st["relayout"]]
            med = statistics.median(st["median"] for st in moved) if moved else 0.0
            mx = max((st["max"] for st in moved), default=0.0)
            worst = max(worst, per_run)
            name = os.path.relpath(path, ROOT)
            print(f"{name[-33:]:<34}{era:<8}{n:>7}{nodes:>7}{per_run:>9.1f}ms{svg:>9.1f}ms"
                  f"{per_sb:>12.1f}ms{len(moved):>6}/{n - 1:<4}{med:>9.1f} /{mx:>7.1f}")
    print(f"worst layout_run cost per frame: {worst:.1f} ms (target < 100 ms)")


def bench_gib(repeat: int) -> None:
    print("\n1 GiB mm (262,144 PTEs), built with the engine ...", flush=True)
    k = Kernel(get_era("6.x"))
    k.mmap("P", "buf", GIB_PAGES)
    for i in range(GIB_PAGES):
        k.access("P", "buf", i, True, "A")
    k.take_events()
    states = [("written", take_snapshot(k), ())]
    k.gup("P", "buf", 5, "nic", write=True, pin=True, longterm=True)
    states.append(("pinned", take_snapshot(k), tuple(k.take_events())))
    k.fork("P", "C")
    states.append(("forked", take_snapshot(k), tuple(k.take_events())))
    for i in range(0, GIB_PAGES, GIB_PAGES // 16):
        k.access("C", "buf", i + 7, True, "X")
    states.append(("16 child writes", take_snapshot(k), tuple(k.take_events())))
    print(f"{'state':<18}{'nodes':>7}{'build_graph':>13}{'DOT text':>10}{'dot -Tjson':>12}{'svg':>9}")
    for name, snap, events in states:
        build = timed(lambda: build_graph(snap, events), repeat)
        union = nx.MultiDiGraph(legend=True)
        g = build_graph(snap, events)
        merge_into(union, g)
        assign_sizes(union)
        text = dot_text(union)
        write = timed(lambda: dot_text(union), repeat)
        lay = timed(lambda: run_dot(text, "json", cache=False), repeat)

        class One:
            era = "6.x"
            initial = snap
            steps = ()
        frame = layout_run(One).frames[0]
        svg = timed(lambda: run_dot(frame.to_dot(), "svg", cache=False), repeat)
        print(f"{name:<18}{g.number_of_nodes():>7}{build:>11.0f}ms{write:>8.0f}ms{lay:>10.0f}ms{svg:>7.0f}ms")
    print("(the engine's own take_snapshot of this mm takes about as long again; it is not counted)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--all-eras", action="store_true", help="every era of each scenario, not only its own")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--skip-gib", action="store_true")
    args = p.parse_args()
    bench_scenarios(args.all_eras, args.repeat)
    if not args.skip_gib:
        bench_gib(args.repeat)


if __name__ == "__main__":
    main()
