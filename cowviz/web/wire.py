"""The data the server sends: built here, documented once in docs/web.md.

A *pane* is one era's view of one step: what the diagram shows, what the
step did, and what the inspector needs.  The player shows one pane, the
comparison view two (same step, two eras), the sandbox one.

    pane = {"era": "5.9", "step": 4, "total": 6,
            "held": false,                     # an ask holds the outcome back; see below
            "command": "fork P C" | null,      # null at step 0 (the start)
            "result": "ok" | "A" | "ENOMEM" | ... | null,
            "expected": str | null, "ok": bool, "message": str | null,
            "narration": html,                 # the step's `say:` for this pane's era (safe HTML)
            "narration_varies": bool,          # the step's `say:` is a per-era map (texts differ)
            "events": [{"fn", "text", "tag", "objs"} + {"count", "last"} for a run],
            "tags": [event tags of the step],
            "code": null | {"path": [fn, ...], "decided": fn | null, "tag": "v5.9",    # the code panel
                            "fns": [{"fn", "form", "title", "file", "href", "decided",
                                     "lines": [{"text", "indent", "id", "lit", "seen", "answer"}]}]},
            "ask": null | {"question": html, "kind": "choice" | "pick", "choices": [...],
                           "answer": str | null, "answer_text": str | null, "explain": html | null},
            "frame": the diagram frame (Frame.to_json(), docs/diagram.md) | null,
            "objects": {id: inspector entry (cowviz/web/inspector.py)},
            "alt": what the step changed, in words (cowviz/web/words.py)}

A run of four or more consecutive events from the same function, with the same
tag and objects (`gup ... x1023` makes 1023), travels as one event with
`count` and the `last` event's text.

While an ask is held, the pane shows the state *before* the step (its frame
and objects), the command, and the question without its answer; events,
result and narration are left out so the outcome stays hidden.
"""
from __future__ import annotations

from .. import ids
from ..eras import get_era
from ..mm.narration import alike_runs
from ..pseudocode import step_code
from ..scenario.runner import Run, StepResult
from .inspector import Inspector
from .glossary import render_narration
from .markdown import render_inline, render_markdown
from .words import step_words


def scenario_info(name: str, scenario) -> dict:
    """What the player needs to know about a walkthrough before its first step."""
    return {"name": name, "title": scenario.title, "summary": render_markdown(scenario.summary),
            "eras": list(scenario.eras), "kernel": scenario.kernel, "level": scenario.level,
            "tags": list(scenario.tags), "compare": list(scenario.compare),
            "references": [{"title": render_inline(r["title"]), "url": _safe_url(r.get("url"))}
                           for r in scenario.references],
            "steps": [{"index": s.index, "command": s.command.text, "ask": s.ask is not None,
                       "ask_kind": s.ask.kind if s.ask is not None else None}
                      for s in scenario.steps]}


def _safe_url(url):
    # Only web links: a reference must never be a javascript: or data: URL.
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def timeline(run: Run) -> list:
    """Per step: its event tags and whether its expectations held (for the scrubber's markers)."""
    return [{"tags": step_tags(s), "ok": s.ok} for s in run.steps]


def step_tags(s: StepResult) -> list:
    out = []
    for e in s.events:
        if e.tag and e.tag not in out:
            out.append(e.tag)
    return out


def snapshot_at(run: Run, index: int):
    return run.initial if index == 0 else run.steps[index - 1].snapshot


def pane(run: Run, index: int, frame_at, held: bool, intro: str | None = None,
         objects: list | None = None) -> dict:
    """The pane for step `index` (0 = the start) of `run`.

    `frame_at(i)` gives the diagram frame after step i; `objects[i]` caches
    the inspector entries of step i (filled here when empty).
    """
    objs = objects if objects is not None else [None] * (len(run.steps) + 1)

    def objects_at(i):
        if objs[i] is None:
            ins = Inspector(snapshot_at(run, i))
            entries = ins.all()
            # The diagram may draw runs (`pte:P:buf:0-511`, `page:8-15`): give those ids entries too.
            frame = frame_at(i) or {}
            for node in frame.get("nodes", ()):
                if node["id"] not in entries and node.get("kind") != "legend":
                    entry = ins.describe(node["id"])
                    if entry is not None:
                        entries[node["id"]] = entry
            objs[i] = entries
        return objs[i]

    total = len(run.steps)
    base = {"era": run.era, "step": index, "total": total, "held": False, "command": None,
            "result": None, "expected": None, "ok": True, "message": None, "narration": "",
            "narration_varies": False, "events": [], "tags": [], "ask": None, "code": None}
    if index == 0:
        base.update(narration=intro or "", frame=frame_at(0), objects=objects_at(0),
                    alt=step_words(None, frame_at(0), None))
        return base
    s = run.steps[index - 1]
    ask = s.step.ask if s.step is not None else None
    base["command"] = s.command
    if ask is not None and held:
        base.update(held=True, frame=frame_at(index - 1), objects=objects_at(index - 1),
                    alt=f"{s.command}: a question waits; the diagram still shows the state before this step",
                    ask={"question": render_inline(ask.question), "kind": ask.kind,
                         "choices": list(ask.choices), "answer": None, "answer_text": None,
                         "explain": None})
        return base
    base.update(result=s.result, expected=s.expected, ok=s.ok, message=s.message,
                 narration=render_narration(s.step.say_for(run.era) if s.step is not None else None),
                 narration_varies=bool(s.step is not None and s.step.say_varies),
                 events=events_json(s.events), code=step_code(s.events, get_era(run.era)),
                 tags=step_tags(s), frame=frame_at(index), objects=objects_at(index),
                 alt=step_words(frame_at(index - 1), frame_at(index), s.command))
    if ask is not None:
        base["ask"] = {"question": render_inline(ask.question), "kind": ask.kind,
                       "choices": list(ask.choices), "answer": s.answer,
                       "answer_text": answer_text(s.answer), "explain": render_markdown(ask.explain_for(run.era))}
    return base


RUN = 4      # this many alike events in a row travel as one


def events_json(events) -> list:
    """The step's events for the wire, runs of alike events folded into one with a count."""
    out = []
    for e, count, last in alike_runs(events, RUN):
        item = {"fn": e.fn, "text": e.text, "tag": e.tag, "objs": list(e.objs)}
        if count > 1:
            item.update(count=count, last=last.text)
        out.append(item)
    return out


def answer_text(answer: str | None) -> str | None:
    """How an answer reads: `page:7` is page 7, `page:0` the zero page."""
    if answer is None:
        return None
    p = ids.parse(answer)
    if p is not None and p.kind == "page":
        return "the zero page" if p.first == 0 else f"page {p.span}"
    return answer
