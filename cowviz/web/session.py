"""One connection's state, and every request it can make.  The namespace hands each event here.

    Session          one connection: its lock, and the player or the sandbox it has open
    PlayerSession    a walkthrough under one era or two, at a step (the player, the editor's preview)
    SandboxSession   the sandbox: an era and the command list

Each handler is named as its Socket.IO event (docs/web.md): `Session.handle("step", data)` calls
`PlayerSession.step`.  `open` starts a player and `sandbox` a sandbox, replacing what was open.

State is small and replayable: in the player, the walkthrough's name, the
era (or two eras to compare) and the step; in the sandbox, the era and the
command list.  Everything shown is recomputed from that state (runs are
cached), so a reconnect or reload that sends the same state back gets the
same view.  Each request is validated first; a bad one raises WebError and
leaves the state as it was.
"""
from __future__ import annotations

import threading

from .. import ids
from ..limits import LimitError, ascii_int
from .frames import FrameSource
from .library import Library, WebError, check_era
from .markdown import render_markdown
from .packets import cached_pane
from .packs import walkthrough_pane
from .sandbox import Sandbox
from .wire import pane, scenario_info, timeline


def _args(data, *required) -> dict:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise WebError("a request carries a JSON object")
    missing = [k for k in required if k not in data]
    if missing:
        raise WebError(f"the request is missing {', '.join(missing)}")
    return data


def _int(value, what: str, low: int = 0, high: int = 10 ** 9) -> int:
    """A whole number from an event: an int, or plain ASCII digits (not '٣', '³' or 5,000 digits)."""
    try:
        return ascii_int(value, what, low, high)
    except LimitError as e:
        raise WebError(str(e)) from None


def panes(library: Library, frames: FrameSource, name: str, eras: list, step: int, reveal) -> list:
    """The pane of each era at a step (`reveal`: True, or the eras whose question is answered)."""
    out = []
    for era in eras:
        held = not (reveal is True or (isinstance(reveal, list) and era in reveal))
        out.append(walkthrough_pane(library.prepared(name, era), frames, step, held))
    return out


class PlayerSession:
    """A walkthrough under one era or two, at a step: the player's state and its handlers."""

    MODE = "play"
    EVENTS = ("open", "step", "era", "answer", "lab")

    def __init__(self, library: Library, frames: FrameSource, lab=None):
        self.library = library
        self.frames = frames
        self.runner = lab                 # the live-kernel lab (a LabRunner), or None
        self.name: str | None = None
        self.eras: list = []
        self.at = 0                       # the step on screen

    def _eras(self, scenario, eras) -> list:
        if eras is None:
            return [scenario.kernel]
        if isinstance(eras, str):
            eras = [e for e in eras.split(",") if e]
        if not isinstance(eras, list) or not 1 <= len(eras) <= 2:
            raise WebError("eras: one era, or two to compare")
        for e in eras:
            check_era(e)
            if e not in scenario.eras:
                raise WebError(f"this walkthrough is written for {', '.join(scenario.eras)}, not {e}")
        if len(eras) == 2 and eras[0] == eras[1]:
            raise WebError("compare two different eras")
        return list(eras)

    def _step(self, value, total: int) -> int:
        n = _int(value, "step")
        if not 0 <= n <= total:
            raise WebError(f"step {n} is out of range: this walkthrough has steps 0-{total}")
        return n

    def _panes(self, name: str, eras: list, step: int, reveal) -> list:
        return panes(self.library, self.frames, name, eras, step, reveal)

    def _timelines(self, name: str, eras: list) -> dict:
        out = {}
        for e in eras:
            prepared = self.library.prepared(name, e)
            out[e] = cached_pane(prepared, "timeline", lambda: timeline(prepared.run))
        return out

    def open(self, data) -> dict:
        """Open a walkthrough at a step under one era or two.  {name, eras?, step?, reveal?}"""
        data = _args(data, "name")
        scenario = self.library.scenario(data["name"])
        name = data["name"]
        eras = self._eras(scenario, data.get("eras"))
        step = self._step(data.get("step", 0), len(scenario.steps))
        shown = self._panes(name, eras, step, data.get("reveal", False))
        self.name, self.eras, self.at = name, eras, step
        info = cached_pane(self.library.prepared(name, eras[0]), "info", lambda: scenario_info(name, scenario))
        return {"mode": "play", "scenario": info, "eras": eras, "step": step,
                "timelines": self._timelines(name, eras), "panes": shown}

    def step(self, data) -> dict:
        """Show another step.  {step, reveal?}"""
        data = _args(data, "step")
        scenario = self.library.scenario(self.name)
        step = self._step(data["step"], len(scenario.steps))
        shown = self._panes(self.name, self.eras, step, data.get("reveal", False))
        self.at = step
        return {"step": step, "panes": shown}

    def era(self, data) -> dict:
        """Switch era (or start or stop comparing) at the current step.  {eras, reveal?, step?}"""
        data = _args(data, "eras")
        scenario = self.library.scenario(self.name)
        eras = self._eras(scenario, data["eras"])
        # `step` (optional): the step on screen, when the page showed one it did not ask for (a room's).
        step = self._step(data["step"], len(scenario.steps)) if "step" in data else min(self.at, len(scenario.steps))
        shown = self._panes(self.name, eras, step, data.get("reveal", False))
        self.eras, self.at = eras, step
        return {"eras": eras, "step": step, "timelines": self._timelines(self.name, eras),
                "panes": shown}

    def answer(self, data) -> dict:
        """Check an answer to the current step's ask under one era.  {step, era, choice}; choice "skip" reveals."""
        data = _args(data, "step", "era", "choice")
        era, choice = data["era"], data["choice"]
        if era not in self.eras:
            raise WebError(f"era {era!r} is not shown")
        prepared = self.library.prepared(self.name, era)
        run = prepared.run
        step = self._step(data["step"], len(run.steps))
        s = run.steps[step - 1] if step > 0 else None
        if s is None or s.step is None or s.step.ask is None:
            raise WebError(f"step {step} asks no question")
        if not isinstance(choice, str) or not choice:
            raise WebError("choice must be one of the offered answers")
        ask = s.step.ask
        if choice == "skip":
            correct = None
        elif ask.kind == "choice":
            if choice not in ask.choices:
                raise WebError(f"'{choice}' is not one of the choices ({', '.join(ask.choices)})")
            correct = choice == s.answer
        else:
            before = run.initial if step == 1 else run.steps[step - 2].snapshot
            if choice == "new":
                correct = s.answer is not None and before.page(ids.pfn(s.answer)) is None
            elif ids.pfn(choice) is not None:
                correct = choice == s.answer
            else:
                raise WebError("pick a page in the diagram (page:N), or 'new' for a page not allocated yet")
        if correct is False:
            return {"correct": False, "revealed": False, "pane": None,
                    "hint": "Not quite. Look at the diagram again and try another answer, or skip to see it."}
        frame_at = self.frames.walkthrough(prepared)
        self.at = step
        return {"correct": correct, "revealed": True, "hint": None,
                "pane": pane(run, step, frame_at, held=False, objects=prepared.objects)}

    def lab(self, data) -> dict:
        """Replay the walkthrough on this machine's kernel.  {}"""
        return {"lab": self.runner.probe(scenario=self.library.scenario(self.name))}


class SandboxSession:
    """The sandbox: an era and the command list, and the handlers of the console."""

    MODE = "sandbox"
    EVENTS = ("sandbox", "command", "undo", "reset", "era", "complete", "export", "record", "lab")

    def __init__(self, frames: FrameSource, limits: dict | None = None, lab=None, cancelled=lambda: False,
                 rev: int = 0):
        self.frames = frames
        self.limits = limits
        self.runner = lab                 # the live-kernel lab (a LabRunner), or None
        self.cancelled = cancelled        # true once the client has gone: queued work stops
        self.box: Sandbox | None = None
        self.layouter = None
        self._rev = rev                   # sandbox replies sent (a page names the one it has to get deltas)
        self._sent = None                 # (rev, history length, objects) of the last sandbox reply

    def _reply(self, data=None, **extra) -> dict:
        """The sandbox state; as a delta (only what changed) when the request names the `rev` it has."""
        n = len(self.box.run.steps)
        p = pane(self.box.run, n, self.layouter.current(self.box.run), held=False,
                 intro="<p>An empty machine. Type a command below, e.g. <code>mmap P buf 4</code>.</p>")
        history, results = self.box.history, [s.result for s in self.box.run.steps]
        base = self._sent
        self._rev += 1
        self._sent = (self._rev, len(history), p["objects"])
        reply = {"mode": "sandbox", "era": self.box.era, "rev": self._rev, "history": history,
                 "results": results, "limits": self.box.limits, "panes": [p], **extra}
        have = data.get("rev") if isinstance(data, dict) else None
        if base is None or have is None or have != base[0] or isinstance(have, bool):
            return reply
        # The page has the state of reply `have`: send only what changed since (docs/web.md "Deltas").
        k = min(base[1], len(history))
        old = base[2]
        changed = {i: e for i, e in p["objects"].items() if old.get(i) != e}
        removed = [i for i in old if i not in p["objects"]]
        dp = {key: v for key, v in p.items() if key != "objects"}
        dp["objects_delta"] = {"changed": changed, "removed": removed}
        reply.update(base=have, length=len(history), **{"from": k}, history=history[k:], results=results[k:],
                     panes=[dp])
        return reply

    def whole(self) -> dict:
        """The sandbox state whole, as a classroom room's followers draw it (no delta; no `rev` of this session)."""
        p = pane(self.box.run, len(self.box.run.steps), self.layouter.current(self.box.run), held=False)
        return {"mode": "sandbox", "era": self.box.era, "rev": None, "history": list(self.box.history),
                "results": [s.result for s in self.box.run.steps], "limits": self.box.limits, "panes": [p]}

    def sandbox(self, data) -> dict:
        """Start the sandbox, or restore one (a reload).  {era?, commands?}"""
        data = _args(data)
        view = self.frames.sandbox("5.9")
        box = Sandbox(data.get("era", "5.9"), self.limits, view=view)
        errors = box.restore(data.get("commands", []), cancelled=self.cancelled)
        self.box, self.layouter = box, view
        self._sent = None
        return self._reply(dropped=errors)

    def command(self, data) -> dict:
        """Run one console line.  {text, rev?}"""
        data = _args(data, "text")
        self.box.apply(data["text"])
        return self._reply(data)

    def undo(self, data) -> dict:
        undone = self.box.undo()
        return self._reply(data, undone=undone)

    def reset(self, data) -> dict:
        self.box.reset()
        self._sent = None
        return self._reply()

    def era(self, data) -> dict:
        """Replay the commands under another era.  {eras: [era]}"""
        data = _args(data, "eras")
        eras = data["eras"]
        era = eras[0] if isinstance(eras, list) and len(eras) == 1 else eras
        self.box.set_era(era, cancelled=self.cancelled)
        self._sent = None
        return self._reply()

    def complete(self, data) -> dict:
        data = _args(data, "text")
        return self.box.complete(data["text"])

    def export(self, data) -> dict:
        return {"filename": f"sandbox-{self.box.era}.yaml", "yaml": self.box.export_yaml()}

    def record(self, data) -> dict:
        """The session as a scenario with narration, questions and expectations.  {title?, summary?, eras?, steps?}"""
        from .record import record_yaml
        return {"filename": "recorded.yaml", "yaml": record_yaml(list(self.box.commands), self.box.era, _args(data))}

    def lab(self, data) -> dict:
        """Replay the sandbox's commands on this machine's kernel.  {}"""
        if not self.box.commands:
            raise WebError("type some commands first")
        return {"lab": self.runner.probe(commands=list(self.box.commands))}


class Session:
    """One browser tab's connection: the player or the sandbox it has open (or neither yet)."""

    def __init__(self, library: Library, frames: FrameSource, limits: dict | None = None, lab=None):
        self.lock = threading.Lock()
        self.library = library
        self.frames = frames
        self.limits = limits
        self.lab = lab                    # a LabRunner when the server runs with --lab, else None
        self.view: PlayerSession | SandboxSession | None = None
        self.gone = threading.Event()     # set when the client disconnects: its queued work is dropped

    def handle(self, event: str, data) -> dict:
        """Answer one event with the handler of the same name (docs/web.md).  `open` and `sandbox`
        start a player or a sandbox, which replaces the one open once the request is good."""
        if event == "draft":
            return self.draft(data)
        if event == "open":
            view = PlayerSession(self.library, self.frames, self.lab)
        elif event == "sandbox":
            view = SandboxSession(self.frames, self.limits, self.lab, self.gone.is_set,
                                  rev=self.view._rev if isinstance(self.view, SandboxSession) else 0)
        else:
            view = None
        if view is not None:
            reply = getattr(view, event)(data)
            self.view = view
            return reply
        if event == "lab" and self.lab is None:
            raise WebError("the live-kernel lab is off on this server (start it with --lab)")
        if self.view is not None and event in self.view.EVENTS:
            return getattr(self.view, event)(data)
        if event == "era":
            _args(data, "eras")           # a malformed request says so before anything else
        if event in PlayerSession.EVENTS:
            raise WebError("open a walkthrough first")
        if event in SandboxSession.EVENTS:
            raise WebError("open the sandbox first")
        raise WebError(f"unknown event {str(event)[:40]!r}")

    def warm(self, event: str, data=None) -> bool:
        """Whether `event` is answered from the shared caches alone (a step, or an open naming its
        eras, of laid-out runs): cheap and bounded, so the namespace may answer it as it arrives
        (cowviz/web/ordered.py)."""
        view = self.view
        if event == "step":
            return isinstance(view, PlayerSession) and all(self.library.laid_out(view.name, e) for e in view.eras)
        if event == "open" and isinstance(data, dict):
            name, eras = data.get("name"), data.get("eras")
            return (type(name) is str and type(eras) is list and 1 <= len(eras) <= 2
                    and all(type(e) is str and self.library.laid_out(name, e) for e in eras))
        return False

    # What is open, for the classroom (classroom.py): the mode, and the player's or sandbox's state.
    @property
    def mode(self) -> str | None:
        return self.view.MODE if self.view is not None else None

    @property
    def name(self) -> str | None:
        return self.view.name if isinstance(self.view, PlayerSession) else None

    @property
    def eras(self) -> list:
        if isinstance(self.view, SandboxSession):
            return [self.view.box.era]
        return self.view.eras if self.view is not None else []

    @property
    def step(self) -> int:
        return self.view.at if isinstance(self.view, PlayerSession) else 0

    @property
    def box(self) -> Sandbox | None:
        return self.view.box if isinstance(self.view, SandboxSession) else None

    def _panes(self, name: str, eras: list, step: int, reveal) -> list:
        return panes(self.library, self.frames, name, eras, step, reveal)

    def sandbox_view(self) -> dict:
        """The open sandbox's state whole, for a classroom room (classroom.py)."""
        if not isinstance(self.view, SandboxSession):
            raise WebError("open the sandbox first")
        return self.view.whole()

    # -- the editor ----------------------------------------------------------------------------

    def draft(self, data) -> dict:
        """Check scenario text from the editor.  {text, label?} -> {draft, errors, step_lines, scenario}

        `draft` names it for open/step/era like a walkthrough; nothing is written anywhere."""
        from .editor import step_lines
        data = _args(data, "text")
        label = data.get("label") or "draft.yaml"
        if not isinstance(label, str) or len(label) > 100:
            raise WebError("label: a file name")
        entry = self.library.draft(data["text"], label)
        errors = [{"line": e.line, "col": e.col, "message": e.message} for e in entry.errors]
        if entry.scenario is None and not errors:
            errors = [{"line": 1, "col": 1, "message": entry.error or "the file does not load"}]
        return {"draft": entry.name if entry.scenario is not None else None, "errors": errors,
                "step_lines": step_lines(data["text"]),
                "scenario": scenario_info(entry.name, entry.scenario) if entry.scenario is not None else None}


def scenario_info_intro(scenario) -> str:
    """What step 0 (the start) says: the walkthrough's summary."""
    return render_markdown(scenario.summary) or "<p>The start: nothing has run yet.</p>"
