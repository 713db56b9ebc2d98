"""The command line: cowviz (or python -m cowviz) run|check|eras|schema|render|probe (docs/cli.md).

Exit status: 0 when every expectation holds, 1 when one fails, 2 for a bad
file or bad arguments.  Sub-commands of other packages plug in through an
`add_parser(subparsers)` function in cowviz.diagram.cli and cowviz.lab.cli.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

from .eras import ERAS, resolve
from .mm import InvariantError
from .scenario import ScenarioError, load_scenario, run_scenario
from .scenario.trace import failure_lines, format_run, run_to_json

PLUGINS = ("cowviz.diagram.cli", "cowviz.lab.cli")


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def cmd_eras(args) -> int:
    for era in ERAS.values():
        alias = " (latest)" if era.id == "6.x" else ""
        print(f"{era.id:<8}{era.kernels:<32}{era.summary}{alias}")
    return 0


def cmd_check(args) -> int:
    bad = 0
    for path in args.files:
        try:
            s = load_scenario(path)
        except ScenarioError as e:
            print(e, file=sys.stderr)
            bad += 1
            continue
        print(f"{path}: ok ({len(s.steps)} steps, eras {', '.join(s.eras)})")
    return 2 if bad else 0


def cmd_schema(args) -> int:
    from .scenario.schema import scenario_schema
    json.dump(scenario_schema(), sys.stdout, indent=args.indent)
    print()
    return 0


def eras_to_run(scenario, kernel: str | None) -> list[str]:
    """Which eras `--kernel` asks for: one era, `all` of the scenario's, or the scenario's default."""
    if kernel is None:
        return [scenario.kernel]
    if kernel == "all":
        return list(scenario.eras)
    canonical = resolve(kernel)
    if canonical is None:
        raise ValueError(f"unknown era '{kernel}' (eras: {', '.join(ERAS)}, latest, or all)")
    return [canonical]


def cmd_run(args) -> int:
    try:
        scenario = load_scenario(args.file)
        eras = eras_to_run(scenario, args.kernel)
    except ScenarioError as e:
        print(e, file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"cowviz run: {e}", file=sys.stderr)
        return 2
    runs = []
    for era in eras:
        try:
            runs.append(run_scenario(scenario, era))
        except InvariantError as e:
            print(f"{args.file}: INVARIANT BROKEN: {e}", file=sys.stderr)
            return 1
        except ScenarioError as e:                 # past a run limit: a bad file
            print(e, file=sys.stderr)
            return 2
    if args.json:
        json.dump({"scenario": args.file, "title": scenario.title,
                   "runs": [run_to_json(r) for r in runs]}, sys.stdout, indent=1)
        print()
    else:
        for r in runs:
            print(format_run(r, args.file))
            if r.era not in scenario.eras:
                print(f"   (note: {args.file} is written for {', '.join(scenario.eras)}, not {r.era})")
    failed = [line for r in runs for line in failure_lines(r, args.file)]
    for line in failed:
        print(line, file=sys.stderr)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog=_prog(),
                            description="Linux fork / copy-on-write / page pinning, modelled per kernel era.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    p = sub.add_parser("run", help="run a scenario headless and print a trace")
    p.add_argument("file")
    p.add_argument("--kernel", metavar="ERA|all", help="an era id, latest, or all of the scenario's eras")
    p.add_argument("--json", action="store_true", help="print the runs as JSON")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("check", help="validate scenario files without running them")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("eras", help="list the kernel eras")
    p.set_defaults(func=cmd_eras)
    p = sub.add_parser("schema", help="print the JSON Schema of scenario files (for YAML editors)")
    p.add_argument("--indent", type=int, default=1, help="JSON indentation (default 1)")
    p.set_defaults(func=cmd_schema)
    for name in PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name is not None and name.startswith(e.name):
                continue
            raise
        module.add_parser(sub)
    return parser


def _prog() -> str:
    """`cowviz` when started as the installed command, `python -m cowviz` otherwise."""
    import os
    return "cowviz" if os.path.basename(sys.argv[0] or "") == "cowviz" else "python -m cowviz"


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        # `run ... | head`: the reader has what it wanted.  Point stdout at /dev/null so the
        # interpreter's final flush does not complain, and exit as a closed pipe should.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def main_exit() -> None:
    """The `cowviz` command (pyproject.toml)."""
    sys.exit(main())
