"""The session (cowviz/web/session.py): a player and a sandbox as two classes, and every Socket.IO
event answered by the handler of its own name (docs/web.md)."""
from __future__ import annotations

import ast
import os
import re

import pytest

from cowviz.web.frames import FrameSource
from cowviz.web.library import Library, WebError
from cowviz.web.namespace import CowvizNamespace
from cowviz.web.session import PlayerSession, SandboxSession, Session
from tests.web.conftest import ROOT, SCENARIOS


@pytest.fixture
def session():
    return Session(Library(SCENARIOS), FrameSource())


def _namespace_events() -> dict:
    """on_<name> -> the event its body hands to the session, read from namespace.py."""
    tree = ast.parse(open(os.path.join(ROOT, "cowviz", "web", "namespace.py")).read())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "CowvizNamespace")
    out = {}
    for fn in cls.body:
        if isinstance(fn, ast.FunctionDef) and fn.name.startswith("on_") and fn.name not in ("on_connect", "on_disconnect"):
            calls = [c for c in ast.walk(fn) if isinstance(c, ast.Call) and getattr(c.func, "attr", "") == "_handle"]
            out[fn.name[3:]] = calls[0].args[0].value
    return out


def test_every_handler_is_named_as_its_event():
    events = _namespace_events()
    assert {"open", "step", "era", "answer", "lab", "sandbox", "command", "undo", "reset", "complete",
            "export", "draft", "record"} <= set(events)
    assert all(name == handed for name, handed in events.items()), events
    for event in events:
        owners = [c for c in (PlayerSession, SandboxSession) if event in c.EVENTS] or [Session]
        for c in owners:
            assert callable(getattr(c, event, None)), (c.__name__, event)
    # And on an instance too: no attribute of the same name hides a handler.
    library, frames = Library(SCENARIOS), FrameSource()
    for view in (PlayerSession(library, frames, lab=object()), SandboxSession(frames, lab=object())):
        assert all(callable(getattr(view, e)) for e in view.EVENTS), view
    for c in (PlayerSession, SandboxSession):
        assert set(c.EVENTS) <= set(events), c.__name__
        assert not hasattr(c, "goto") and not hasattr(c, "set_eras") and not hasattr(c, "run_lab")


def test_the_documented_events_are_the_two_classes_events():
    doc = open(os.path.join(ROOT, "docs", "web.md")).read()

    def table(title):
        part = doc.split(f"### {title}", 1)[1].split("\n### ", 1)[0]
        return {m.group(1) for m in re.finditer(r"^\| `(\w+)` \|", part, re.M)}

    assert table("Player events") == set(PlayerSession.EVENTS)
    assert table("Sandbox events") | {"lab"} == set(SandboxSession.EVENTS)


def test_open_starts_a_player_and_sandbox_a_sandbox(session):
    with pytest.raises(WebError, match="open a walkthrough first"):
        session.handle("step", {"step": 1})
    with pytest.raises(WebError, match="open the sandbox first"):
        session.handle("command", {"text": "mmap P buf 1"})
    reply = session.handle("open", {"name": "01-rdma", "eras": ["5.9"], "step": 2})
    assert reply["mode"] == "play" and isinstance(session.view, PlayerSession)
    assert session.handle("step", {"step": 3})["step"] == 3 and session.step == 3
    assert session.handle("era", {"eras": ["5.9-rc"]})["step"] == 3 and session.eras == ["5.9-rc"]
    with pytest.raises(WebError, match="open the sandbox first"):
        session.handle("undo", {})
    # A refused open changes nothing: the walkthrough stays where it was.
    with pytest.raises(WebError):
        session.handle("open", {"name": "no-such-walkthrough"})
    assert session.mode == "play" and session.name == "01-rdma" and session.step == 3
    reply = session.handle("sandbox", {"era": "5.9", "commands": ["mmap P buf 2"]})
    assert reply["mode"] == "sandbox" and isinstance(session.view, SandboxSession)
    assert session.mode == "sandbox" and session.name is None and session.step == 0 and session.box.era == "5.9"
    assert session.handle("command", {"text": "write P buf[0] A"})["history"][-1] == "write P buf[0] A"
    assert session.handle("era", {"eras": ["6.x"]})["era"] == "6.x"
    with pytest.raises(WebError, match="open a walkthrough first"):
        session.handle("answer", {"step": 1, "era": "5.9", "choice": "yes"})
    # The reply counter goes on across a new sandbox on the same connection (a page's `rev` stays unique).
    rev = session.view._rev
    assert session.handle("sandbox", {"era": "5.9"})["rev"] == rev + 1


def test_the_lab_says_it_is_off_before_anything_else(session):
    with pytest.raises(WebError, match="lab is off"):
        session.handle("lab", {})


def test_the_socket_events_keep_their_documented_names():
    """The handlers were renamed, never the events (step, era, lab: the contract)."""
    events = set(_namespace_events())
    assert {"step", "era", "lab"} <= events and not {"goto", "set_eras", "run_lab"} & events
    assert all(hasattr(CowvizNamespace, f"on_{e}") for e in events)
