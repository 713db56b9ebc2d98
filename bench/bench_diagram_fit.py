"""How large the tutorial diagrams are drawn on a 1080p projector: union layout size and fit.

    .venv/bin/python bench/bench_diagram_fit.py [--png DIR] [--steps all|last|N,...] [--no-legend]

For every tutorial scenario (scenarios/[0-9][0-9]-*.yaml) under each of its eras it
lays out the run (layout_run, with the legend, as the web player asks for it) and
prints the union layout's size in points (the frames' `vb`, which the player fits
into its pane), its aspect ratio, and the scale in px per pt when that `vb` is fitted
("meet") into a 1300x720 px pane (the single-era player) and a 930x330 px pane (one
pane of the side-by-side comparison), and the worse of the two.  Labels are 16 pt,
so the text is drawn at 16 x scale px.  `legend` is the height of the caption and
legend block under the drawing (part of `vb`; --no-legend leaves it out).  The summary
gives the median and the minimum of each scale.  With --png, frames are written as PNG
(96 dpi) for looking at.
"""
from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cowviz.diagram import layout_run  # noqa: E402
from cowviz.diagram.style import FONT_SIZE  # noqa: E402
from cowviz.scenario import load_scenario, run_scenario  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PANES = {"single": (1300, 720), "compare": (930, 330)}


def fit(w: float, h: float, pane: tuple) -> float:
    """px per pt when a w x h pt drawing is fitted, aspect kept, into a pane of px."""
    return min(pane[0] / w, pane[1] / h)


def tutorial_runs():
    """(name, era, run) for every tutorial scenario under each of its eras."""
    for path in sorted(glob.glob(os.path.join(ROOT, "scenarios", "[0-9][0-9]-*.yaml"))):
        s = load_scenario(path)
        for era in s.eras:
            yield os.path.basename(path)[:-5], era, run_scenario(s, era)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--png", metavar="DIR", help="write PNG frames of every run into DIR")
    p.add_argument("--steps", default="last", help="which frames to write: last, all, or N,N,...")
    p.add_argument("--no-legend", action="store_true",
                   help="lay out without the caption and legend, as a player that draws its own key may")
    args = p.parse_args()
    print(f"{'scenario':<34}{'era':<8}{'nodes':>6}{'w pt':>8}{'h pt':>8}{'legend':>8}{'w/h':>6}"
          f"{'1300x720':>10}{'930x330':>9}{'worst':>7}{'16pt→px':>9}")
    rows = []
    for name, era, run in tutorial_runs():
        rl = layout_run(run, legend=not args.no_legend)
        nodes = len({n.id for f in rl.frames for n in f.nodes})
        w, h = rl.width, rl.height
        legend = rl.frames[0].to_json().get("legend")
        single, compare = fit(w, h, PANES["single"]), fit(w, h, PANES["compare"])
        worst = min(single, compare)
        rows.append((single, compare, worst, w / h))
        print(f"{name[:33]:<34}{era:<8}{nodes:>6}{w:>8.0f}{h:>8.0f}{legend[3] if legend else 0:>8.0f}"
              f"{w / h:>6.2f}{single:>10.3f}{compare:>9.3f}{worst:>7.3f}{FONT_SIZE * worst:>9.1f}")
        if args.png:
            os.makedirs(args.png, exist_ok=True)
            last = len(rl.frames) - 1
            steps = (range(len(rl.frames)) if args.steps == "all" else [last] if args.steps == "last"
                     else [min(int(v), last) for v in args.steps.split(",")])
            for i in steps:
                with open(os.path.join(args.png, f"{name[:2]}-{era}-{i:02d}.png"), "wb") as f:
                    f.write(rl.frames[i].to_png())
    cols = list(zip(*rows))
    print(f"\n{len(rows)} runs.  median / min:  1300x720 {statistics.median(cols[0]):.3f} / {min(cols[0]):.3f}"
          f"   930x330 {statistics.median(cols[1]):.3f} / {min(cols[1]):.3f}"
          f"   worst {statistics.median(cols[2]):.3f} / {min(cols[2]):.3f}"
          f"   w/h median {statistics.median(cols[3]):.2f}")
    print(f"16 pt text at the median worst scale: {FONT_SIZE * statistics.median(cols[2]):.1f} px "
          f"(single pane {FONT_SIZE * statistics.median(cols[0]):.1f} px, "
          f"comparison pane {FONT_SIZE * statistics.median(cols[1]):.1f} px)")


if __name__ == "__main__":
    main()
