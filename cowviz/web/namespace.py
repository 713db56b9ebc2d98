"""The Socket.IO namespace: one short handler per event, each handing off to the connection's Session,
whose handler of the same name answers it (`on_step` -> the player's `step`; session.py).

Every event is a request with an acknowledgement; the reply always has one
shape: {"ok": true, ...} or {"ok": false, "error": "what went wrong"}.
The message format is documented in docs/web.md.
"""
from __future__ import annotations

import logging

from flask import request
from flask_socketio import ConnectionRefusedError, Namespace

from .classroom import RoomEvents
from .library import WebError
from .sandbox import Cancelled
from .session import Session

log = logging.getLogger(__name__)


class CowvizNamespace(RoomEvents, Namespace):
    """Socket.IO events of /cowviz (the room_* events: classroom.py)."""

    def __init__(self, namespace: str, make_session, max_clients: int | None = None, rooms=None):
        super().__init__(namespace)
        self.make_session = make_session
        self.max_clients = max_clients        # refuse connects past this many (None: no limit)
        self.sessions: dict[str, Session] = {}
        self.rooms = rooms

    def _handle(self, event: str, data, extra=(), sid=None) -> dict:
        session = self.sessions.get(request.sid if sid is None else sid)
        if session is None:
            return {"ok": False, "error": "not connected; reload the page"}
        if extra:
            return {"ok": False, "error": f"'{request.event['message']}' takes one argument (a JSON object), "
                                          f"got {1 + len(extra)}"}
        try:
            with session.lock:
                if session.gone.is_set():
                    return {"ok": False, "error": "the connection has closed"}
                return {"ok": True, **session.handle(event, data)}
        except WebError as e:
            return {"ok": False, "error": str(e)}
        except Cancelled:
            return {"ok": False, "error": "the connection has closed"}
        except Exception:                                 # a bug: log it, answer without a traceback
            log.exception("%s failed", event)
            return {"ok": False, "error": f"the server failed on '{event}' (a bug; it is in the server log)"}

    FAST = ("step", "open")

    def answer_at_once(self, sid, namespace, data):
        """The fast lane (ordered.py): the reply to a `step` or `open` the shared caches answer, else None (queued)."""
        if namespace != self.namespace or type(data) is not list or len(data) != 2:
            return None
        method = data[0] if type(data[0]) is str and data[0] in self.FAST else None
        session = self.sessions.get(sid)
        if method is None or session is None or not session.warm(method, data[1]):
            return None
        return self._handle(method, data[1], sid=sid)

    def trigger_event(self, event, *args):
        # An event with no handler gets an answer too (a client waiting for its acknowledgement
        # would otherwise wait until its timeout).
        if event not in ("connect", "disconnect") and not hasattr(self, "on_" + (event or "")):
            return {"ok": False, "error": f"unknown event {str(event)[:40]!r}"}
        return super().trigger_event(event, *args)

    def on_connect(self, auth=None):
        if self.max_clients is not None and len(self.sessions) >= self.max_clients:
            raise ConnectionRefusedError(f"the cowviz server is full ({self.max_clients} connections); "
                                         "try again in a minute")
        self.sessions[request.sid] = self.make_session()

    def on_disconnect(self, reason=None):
        self.room_disconnect(request.sid)
        session = self.sessions.pop(request.sid, None)
        if session is not None:
            session.gone.set()             # work it asked for stops at its next check

    def on_open(self, data=None, *extra):
        return self._handle("open", data, extra)

    def on_step(self, data=None, *extra):
        return self._handle("step", data, extra)

    def on_era(self, data=None, *extra):
        return self._handle("era", data, extra)

    def on_answer(self, data=None, *extra):
        return self._handle("answer", data, extra)

    def on_sandbox(self, data=None, *extra):
        return self._handle("sandbox", data, extra)

    def on_command(self, data=None, *extra):
        return self._handle("command", data, extra)

    def on_undo(self, data=None, *extra):
        return self._handle("undo", data, extra)

    def on_reset(self, data=None, *extra):
        return self._handle("reset", data, extra)

    def on_complete(self, data=None, *extra):
        return self._handle("complete", data, extra)

    def on_export(self, data=None, *extra):
        return self._handle("export", data, extra)

    def on_lab(self, data=None, *extra):
        return self._handle("lab", data, extra)

    def on_draft(self, data=None, *extra):
        return self._handle("draft", data, extra)

    def on_record(self, data=None, *extra):
        return self._handle("record", data, extra)
