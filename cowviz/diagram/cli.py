"""`python -m cowviz render`: draw a scenario's frames as SVG, PNG, DOT or layout JSON (docs/diagram.md).

Errors a user can cause end in one line and exit status 2: a bad scenario
(`file:line:col: message`), a bad option, a missing Graphviz, an unwritable
output.  A broken model invariant exits 1, as `cowviz run` does.
"""
from __future__ import annotations

import json
import os
import sys

FORMATS = ("svg", "png", "dot", "json")


def add_parser(subparsers) -> None:
    """Add the `render` sub-command to the cowviz command line."""
    p = subparsers.add_parser("render", help="draw a scenario's diagram as svg, png, dot or json")
    p.add_argument("file", help="a scenario file (YAML)")
    p.add_argument("--kernel", metavar="ERA", help="an era id or latest (default: the scenario's own)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--step", type=int, metavar="N", help="draw the state after step N (0: before step 1; "
                                                             "default: after the last step)")
    which.add_argument("--all-steps", action="store_true", help="draw every frame, one file each")
    p.add_argument("--format", "-f", choices=FORMATS, required=True)
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file ('-' for stdout); with --all-steps a directory or a name with {step}")
    p.add_argument("--expand", action="append", default=[], metavar="ID",
                   help="draw a collapsed PTE run in full, e.g. pte:P:buf:0-511 or vma:P:buf (repeatable)")
    p.add_argument("--no-legend", action="store_true", help="leave the legend out")
    p.add_argument("--dpi", type=int, default=96, help="PNG resolution (default 96)")
    p.set_defaults(func=cmd_render)


def _fail(message: str, status: int = 2) -> int:
    print(f"cowviz render: {message}", file=sys.stderr)
    return status


def cmd_render(args) -> int:
    """Carry out `cowviz render`; returns the exit status."""
    from ..mm import InvariantError
    from ..scenario import ScenarioError, load_scenario, resolve_era, run_scenario
    from .graphviz import GraphvizError, GraphvizMissing
    from ..ids import parse_expanded
    from .layout import layout_run

    try:
        scenario = load_scenario(args.file)
    except ScenarioError as e:
        print(e, file=sys.stderr)
        return 2
    era = scenario.kernel
    if args.kernel is not None:
        era = resolve_era(args.kernel)
        if era is None:
            return _fail(f"unknown era '{args.kernel}' (render draws one era: give an era id or latest)")
    if not 1 <= args.dpi <= 600:
        return _fail(f"--dpi must be between 1 and 600, got {args.dpi}")
    try:
        parse_expanded(args.expand)
        if args.all_steps and "{" in args.output:
            _format_path(args.output, 0)
    except BadOutput as e:
        return _fail(str(e))
    except ValueError as e:
        return _fail(str(e))
    try:
        run = run_scenario(scenario, era)
    except InvariantError as e:
        return _fail(f"{args.file}: INVARIANT BROKEN: {e}", 1)
    last = len(run.steps)
    if args.step is not None and not 0 <= args.step <= last:
        return _fail(f"--step {args.step} is out of range: {args.file} has steps 0 to {last} under {era}")
    try:
        layout = layout_run(run, expanded=tuple(args.expand), legend=not args.no_legend)
        if args.all_steps:
            if args.output == "-":
                return _fail("--all-steps writes one file per frame: give a directory or a name with {step}")
            for frame in layout.frames:
                _write(frame, args, _frame_path(args.output, frame.step, args.format, last))
        else:
            frame = layout.frames[last if args.step is None else args.step]
            out = args.output if args.output == "-" else _format_path(args.output, frame.step)
            _write(frame, args, out)
    except GraphvizMissing as e:
        return _fail(str(e))
    except GraphvizError as e:
        return _fail(f"Graphviz failed: {e}", 1)
    except BadOutput as e:
        return _fail(str(e))
    except OSError as e:
        return _fail(f"cannot write {e.filename or args.output}: {e.strerror or e}")
    return 0


class BadOutput(ValueError):
    """An output name the command cannot fill in."""


def _format_path(pattern: str, step: int) -> str:
    try:
        return pattern.format(step=step)
    except (KeyError, IndexError, ValueError, AttributeError):
        raise BadOutput(f"bad output name '{pattern}': the only placeholder is {{step}} "
                         f"(e.g. {{step}} or {{step:02d}})") from None


def _frame_path(out: str, step: int, fmt: str, last: int) -> str:
    """Where frame `step` goes: OUT with {step} filled in, or OUT/step-NN.FMT."""
    if "{" in out:
        return _format_path(out, step)
    os.makedirs(out, exist_ok=True)
    width = max(2, len(str(last)))
    return os.path.join(out, f"step-{step:0{width}d}.{fmt}")


def _write(frame, args, path: str) -> None:
    fmt = args.format
    if fmt == "png":
        data = frame.to_png(dpi=args.dpi)
    elif fmt == "svg":
        data = frame.to_svg().encode("utf-8")
    elif fmt == "dot":
        data = frame.to_dot().encode("utf-8")
    else:
        data = (json.dumps(frame.to_json(), separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    with open(path, "wb") as f:
        f.write(data)
