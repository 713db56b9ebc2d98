"""Record: a sandbox session turned into a scenario file, with narration, questions and expectations.

    record_yaml(commands, era, {"title", "summary", "eras": [...], "steps": [{"say", "ask"}...]}) -> YAML text

The author types a narration per step and may add a question (a choice, or "pick the page TASK
VMA[I] maps"), and ticks the eras the file should hold for.  `expect:` is computed by running the
commands under each ticked era: one value when they agree, a per-era map when they differ.  A plain
`ok` in every era is left out (it says nothing).  The file goes through the loader before it is
handed back, so what the editor opens is a scenario that loads.
"""
from __future__ import annotations

import datetime

import yaml

from ..eras import ERA_IDS
from ..mm import InvariantError
from ..scenario import ScenarioError, parse_scenario, run_commands
from .library import WebError

MAX_TEXT = 4000            # characters of one narration, question, choice or explanation


def _text(value, what: str, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise WebError(f"record: {what} is empty")
        return None
    if not isinstance(value, str):
        raise WebError(f"record: {what} must be text")
    if len(value) > MAX_TEXT:
        raise WebError(f"record: {what} is longer than {MAX_TEXT} characters")
    return value.strip() or None


def _eras(value, default: str) -> list:
    if value in (None, []):
        return [default]
    if not isinstance(value, list) or not all(isinstance(e, str) for e in value):
        raise WebError("record: eras must be a list of era ids")
    bad = [e for e in value if e not in ERA_IDS]
    if bad:
        raise WebError(f"record: unknown era {bad[0]!r} (eras: {', '.join(ERA_IDS)})")
    return [e for e in ERA_IDS if e in value]


def _ask(data, n: int) -> dict | None:
    if data in (None, {}):
        return None
    if not isinstance(data, dict):
        raise WebError(f"record: step {n}'s question must be an object")
    kind = data.get("kind", "choice")
    question = _text(data.get("question"), f"step {n}'s question", required=True)
    out = {"question": question}
    if kind == "pick":
        of = _text(data.get("of"), f"step {n}'s page (TASK VMA[I])", required=True)
        out.update(pick="page", of=of)
    elif kind == "choice":
        choices = data.get("choices")
        if not isinstance(choices, list) or len([c for c in choices if isinstance(c, str) and c.strip()]) < 2:
            raise WebError(f"record: step {n}'s question needs at least two choices")
        choices = [_text(c, f"a choice of step {n}") for c in choices if isinstance(c, str) and c.strip()]
        answer = _text(data.get("answer"), f"step {n}'s answer", required=True)
        if answer not in choices:
            raise WebError(f"record: step {n}'s answer '{answer}' is not one of its choices")
        out.update(choices=choices, answer=answer)
    else:
        raise WebError(f"record: step {n}'s question is a 'choice' or a 'pick'")
    explain = _text(data.get("explain"), f"step {n}'s explanation")
    if explain:
        out["explain"] = explain
    return out


def record_yaml(commands: list, era: str, data) -> str:
    """The session as a scenario file.  Raises WebError for bad input or a file that would not load."""
    if not isinstance(data, dict):
        data = {}
    if not commands:
        raise WebError("record: type some commands first")
    eras = _eras(data.get("eras"), era)
    meta = data.get("steps") or []
    if not isinstance(meta, list):
        raise WebError("record: steps must be a list")
    runs = {}
    for e in eras:
        try:
            runs[e] = run_commands(commands, e)
        except InvariantError as exc:
            raise WebError(f"record: the model broke an invariant under {e}: {exc}") from None
    steps = []
    for i, cmd in enumerate(commands):
        info = meta[i] if i < len(meta) and isinstance(meta[i], dict) else {}
        step = {"do": cmd.text}
        say = _text(info.get("say"), f"step {i + 1}'s narration")
        if say:
            step["say"] = say
        results = {e: runs[e].steps[i].result for e in eras}
        if len(set(results.values())) == 1:
            value = next(iter(results.values()))
            if value != "ok":
                step["expect"] = value
        else:
            step["expect"] = results
        ask = _ask(info.get("ask"), i + 1)
        if ask:
            step["ask"] = ask
        steps.append(step)
    doc = {"title": _text(data.get("title"), "the title") or "Sandbox session",
           "summary": _text(data.get("summary"), "the summary") or f"Recorded in the cowviz sandbox under {era}.",
           "eras": eras, "kernel": era if era in eras else eras[-1], "steps": steps}
    if len(eras) == 2 and len({tuple(r.result for r in runs[e].steps) for e in eras}) == 2:
        doc["compare"] = eras
    head = (f"# Recorded in the cowviz sandbox on {datetime.date.today().isoformat()}; expectations computed "
            f"under {', '.join(eras)}.\n# Check it with: cowviz run THIS_FILE --kernel all\n")
    text = head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    try:
        parse_scenario(text, "recorded.yaml")
    except ScenarioError as e:
        raise WebError(f"record: the file would not load: {e}") from None
    return text
