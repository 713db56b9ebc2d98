"""How runs are printed: a readable step-by-step trace, and the --json format (docs/cli.md)."""
from __future__ import annotations

import textwrap

from .runner import Run


def run_to_json(run: Run) -> dict:
    """One run in the CLI's JSON shape."""
    return {
        "kernel": run.era,
        "ok": run.ok,
        "steps": [{
            "index": s.index,
            "line": s.step.line if s.step is not None else None,
            "command": s.command,
            "output": s.output,
            "error": s.error,
            "ok": s.ok,
            "expect": s.expected,
            "message": s.message,
            "say": s.step.say_for(run.era) if s.step is not None else None,
            "events": [{"fn": e.fn, "text": e.text, "tag": e.tag, "objs": list(e.objs),
                        "what": e.what, "facts": dict(e.facts),
                        "decisions": [{"fn": d.fn, "line": d.line, "seen": dict(d.seen), "answer": d.answer}
                                      for d in e.decisions]} for e in s.events],
        } for s in run.steps],
    }


def format_run(run: Run, path: str, width: int = 100) -> str:
    """A readable trace: each command, its result, the kernel functions that acted, and the verdicts."""
    out = []
    title = run.scenario.title if run.scenario is not None else ""
    out.append(f"== {path}: {title} (kernel {run.era})")
    for s in run.steps:
        result = s.result
        verdict = ""
        if s.expected is not None or s.command.startswith("assert"):
            verdict = "ok" if s.ok else "FAIL"
            if s.expected is not None:
                verdict = f"expect {s.expected}: {verdict}"
        out.append(f"{s.index:4}  {s.command:<44} {result:<10} {verdict}".rstrip())
        say = s.step.say_for(run.era) if s.step is not None else None
        if say and say.strip():
            lines = textwrap.wrap(" ".join(say.split()), width - 10) or [""]
            out.append(f"        \"{lines[0]}")
            out.extend(f"         {line}" for line in lines[1:])
            out[-1] += '"'
        for e in s.events:
            lines = textwrap.wrap(e.text, width - 30) or [""]
            out.append(f"        {e.fn:<22}{lines[0]}")
            out.extend(f"        {'':<22}{line}" for line in lines[1:])
        if not s.ok and s.message:
            out.append(f"        !! {s.message}")
    failed = run.failures()
    out.append(f"== {run.era}: " + ("all expectations hold" if not failed else
                                     f"{len(failed)} of {len(run.steps)} steps failed"))
    return "\n".join(out)


def failure_lines(run: Run, path: str) -> list[str]:
    """`file:line:col: ...` for each failed step."""
    lines = []
    for s in run.failures():
        where = f"{path}:{s.step.line}:{s.step.col}" if s.step is not None else path
        lines.append(f"{where}: step {s.index} ({s.command}) under {run.era}: {s.message}")
    return lines
