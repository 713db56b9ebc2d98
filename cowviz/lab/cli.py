"""python -m cowviz probe FILE [--json] [--timeout S] [--kernel ERA] [--pfns].

Replays the scenario with real processes on this machine and prints the
agreement table (or the report as JSON).  Exit status: 0 when every step that
was compared agrees, 1 when one differs or the run stopped early, 2 for a bad
file or arguments, a scenario too large to probe, or a machine that cannot run
the lab.
"""
from __future__ import annotations

import json
import sys


def add_parser(subparsers) -> None:
    """Add the `probe` sub-command to the cowviz command line."""
    from .probe import DEFAULT_TIMEOUT
    p = subparsers.add_parser("probe", help="replay a scenario on this machine's kernel and hold "
                                            "the model against it")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"time limit of the whole run in seconds (default {DEFAULT_TIMEOUT:g})")
    p.add_argument("--kernel", metavar="ERA", help="hold this era's model against the kernel instead "
                                                   "of the running kernel's era")
    p.add_argument("--pfns", action="store_true", help="with --json: real PFNs instead of frame numbers")
    p.set_defaults(func=cmd_probe)


def cmd_probe(args) -> int:
    from ..mm import InvariantError
    from ..scenario import ScenarioError, load_scenario
    from .probe import LabError, probe_scenario

    if args.timeout <= 0:
        print("cowviz probe: --timeout must be positive", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(args.file)
    except ScenarioError as e:
        print(e, file=sys.stderr)
        return 2
    try:
        report = probe_scenario(scenario, era=args.kernel, timeout=args.timeout)
    except ValueError as e:
        print(f"cowviz probe: {e}", file=sys.stderr)
        return 2
    except InvariantError as e:
        print(f"{args.file}: INVARIANT BROKEN: {e}", file=sys.stderr)
        return 1
    except LabError as e:
        print(f"cowviz probe: {args.file}: {e}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(report.to_json(pfns=args.pfns), sys.stdout, indent=1)
        print()
    else:
        print(report.table())
    if report.error:
        print(f"{args.file}: the probe stopped: {report.error}", file=sys.stderr)
    for row in report.rows:
        if row.verdict == "differ":
            where = f"{args.file}:{row.line}" if row.line else args.file
            print(f"{where}: step {row.index} ({row.command}): the kernel differs from the "
                  f"{report.era} model: {'; '.join(row.differences)}", file=sys.stderr)
    return 0 if report.ok else 1
