"""Classroom rooms on the web: the presenter and follower pages, the QR code, and the room events.

    bp                  /present/NAME, /present/sandbox, /join, /join/CODE, /room/CODE/qr.svg
    RoomEvents          the namespace's room_* handlers (mixed into CowvizNamespace)

The rules live in rooms.py; this module only turns requests into calls and results into emits.
What a follower is sent is built by `public()`, and nothing else goes to the followers' channel.
Socket.IO rooms: `f:CODE` (the followers), `p:CODE` (the presenter).  With a message queue
(--message-queue) an emit reaches the members on every server process.
"""
from __future__ import annotations

import io
import logging
import re
import secrets
import socket
from urllib.parse import urlsplit

from flask import (Blueprint, current_app, g, redirect, render_template, request, url_for)
from flask_socketio import join_room, leave_room

from .. import ids
from .library import WebError
from .markdown import render_inline, render_markdown
from .rooms import Rooms, normalise_code

log = logging.getLogger(__name__)
bp = Blueprint("rooms", __name__)

MAX_ID = 120          # an inspector selection: an object id such as pte:P:buf:0-511


def _rooms() -> Rooms:
    return current_app.extensions["cowviz"]["rooms"]


# -- the join URL -------------------------------------------------------------------------------

def _lan_address():
    """This machine's address on the network it would route through (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            addr = s.getsockname()[0]
        return None if addr.startswith("127.") else addr
    except OSError:
        return None


def join_base() -> tuple:
    """(base URL for followers, note for the presenter or None).

    The presenter's own address works for students unless it is a loopback name; then the
    machine's network address stands in (reachable when the server listens on it: --host 0.0.0.0).
    COWVIZ_JOIN_URL (config or environment) overrides both, e.g. behind a proxy.
    """
    fixed = current_app.config.get("COWVIZ_JOIN_URL")
    if fixed:
        return fixed.rstrip("/") + "/", None
    base = request.host_url
    host = urlsplit(base).hostname or ""
    if host in ("localhost", "::1") or host.startswith("127."):
        lan = _lan_address()
        port = urlsplit(base).port
        if lan:
            return (f"http://{lan}{':' + str(port) if port else ''}/",
                    f"You opened this page as {host}: students use this machine's network address. "
                    "It works when the server listens on the network (./run.sh --host 0.0.0.0).")
        return base, (f"{host} is this computer only: start the server with --host 0.0.0.0 and open this "
                      "page at the laptop's network address, so the join link works for students.")
    return base, None


# -- pages --------------------------------------------------------------------------------------

@bp.route("/present/<path:name>")
def present(name):
    """Make a room for walkthrough NAME (or the sandbox) and open the presenter's view.

    ?room=CODE reopens the presenter's page of a room that exists (a reload): the page proves it is
    the presenter with the key it kept, so a reload makes no second room.
    """
    from . import views
    rooms = _rooms()
    code = request.args.get("room")
    if name != "sandbox":
        try:
            current_app.extensions["cowviz"]["library"].scenario(name)
        except WebError as e:
            return render_template("error.html", page="error", message=str(e)), 404
    secret = None
    if code is None:
        try:
            code, secret = rooms.create({"mode": "sandbox" if name == "sandbox" else "play",
                                         "name": None if name == "sandbox" else name})
        except WebError as e:
            return render_template("error.html", page="error", message=str(e)), 503
    else:
        try:
            code = normalise_code(code)
            rooms.get(code)
        except WebError as e:
            return render_template("error.html", page="error",
                                   message=f"{e}. To present again, open /present/{name} for a new room."), 404
    base, note = join_base()
    g.room = {"role": "presenter", "code": code, "secret": secret, "join_url": f"{base}join/{code}",
              "join_short": re.sub(r"^https?://", "", f"{base}join"), "note": note,
              "qr": url_for("rooms.qr", code=code)}
    return views.sandbox() if name == "sandbox" else views.play(name)


@bp.route("/join")
def join_form():
    code = request.args.get("code")
    if code is not None:
        try:
            return redirect(url_for("rooms.join", code=normalise_code(code)))
        except WebError as e:
            return render_template("join.html", page="join", error=str(e), code=code[:20]), 400
    return render_template("join.html", page="join", error=None, code="")


@bp.route("/join/<code>")
def join(code):
    from . import views
    try:
        code = normalise_code(code)
        room = _rooms().get(code)
    except WebError as e:
        return render_template("join.html", page="join", error=str(e), code=code[:20]), 404
    view = room["view"]
    g.room = {"role": "follower", "code": code}
    if view.get("mode") == "sandbox":
        return views.sandbox()
    return views.play(view["name"])


@bp.route("/room/<code>/qr.svg")
def qr(code):
    """The join URL as a QR code (segno), for the presenter's screen."""
    import segno
    try:
        code = normalise_code(code)
        _rooms().get(code)
    except WebError as e:
        return str(e) + "\n", 404, {"Content-Type": "text/plain; charset=utf-8"}
    base, _ = join_base()
    out = io.BytesIO()
    segno.make(f"{base}join/{code}", error="m").save(out, kind="svg", scale=8, border=2, dark="#000",
                                                       light="#fff", title=f"join room {code}")
    return out.getvalue(), 200, {"Content-Type": "image/svg+xml; charset=utf-8", "Cache-Control": "no-store"}


# -- what goes to followers ---------------------------------------------------------------------

def public(code: str, room: dict, presenter_here=None) -> dict:
    """The room as every follower may see it: no key, no connection ids, no notes, no vote counts."""
    poll = room.get("poll")
    return {"code": code, "seq": room["seq"], "ended": room["ended"],
            "presenter": room.get("presenter") is not None if presenter_here is None else presenter_here,
            "view": room["view"],
            "poll": None if poll is None else {k: poll[k] for k in
                                               ("key", "step", "era", "kind", "question", "choices", "status", "right")}}


def _ask_at(prepared, step: int):
    """(ask, answer, snapshot before the step) of `step`, or WebError if it asks nothing."""
    run = prepared.run
    s = run.steps[step - 1] if 0 < step <= len(run.steps) else None
    if s is None or s.step is None or s.step.ask is None:
        raise WebError(f"step {step} asks no question")
    before = run.initial if step == 1 else run.steps[step - 2].snapshot
    return s.step.ask, s.answer, before


def _check_choice(ask, before, choice) -> str:
    if not isinstance(choice, str) or not choice or len(choice) > 200:
        raise WebError("a vote is one of the offered answers")
    if ask.kind == "choice":
        if choice not in ask.choices:
            raise WebError(f"'{choice[:40]}' is not one of the choices ({', '.join(ask.choices)})")
        return choice
    if choice == "new":
        return choice
    pfn = ids.pfn(choice)
    if pfn is not None and before.page(pfn) is not None:
        return ids.page(pfn)
    raise WebError("pick a page in the diagram, or 'a page that does not exist yet'")


def _right(ask, answer, before) -> list:
    """Every vote that counts as right (as the player's answer check counts it)."""
    if ask.kind == "choice":
        return [answer]
    right = [answer] if answer else []
    if answer and before.page(ids.pfn(answer)) is None:
        right.append("new")
    return right


class RoomEvents:
    """room_* events of the /cowviz namespace.  Needs self.sessions (sid -> Session), self.rooms and
    self.emit from the namespace.  Every handler answers {"ok": true, ...} or {"ok": false, "error"}."""

    rooms: Rooms

    # membership of this process's connections: sid -> {"code", "role", "fid"}
    def _members(self) -> dict:
        if not hasattr(self, "_room_members"):
            self._room_members = {}
        return self._room_members

    def _room_call(self, fn, data, extra=()):
        if extra:
            return {"ok": False, "error": f"'{request.event['message']}' takes one argument (a JSON object), "
                                          f"got {1 + len(extra)}"}
        try:
            if data is not None and not isinstance(data, dict):
                raise WebError("a request carries a JSON object")
            return {"ok": True, **fn(data or {})}
        except WebError as e:
            return {"ok": False, "error": str(e)}
        except Exception:                               # a bug, or the store is unreachable
            log.exception("room event failed")
            return {"ok": False, "error": "the server failed on a room request (it is in the server log)"}

    def _role(self, role: str) -> dict:
        m = self._members().get(request.sid)
        if m is None or m["role"] != role:
            raise WebError("only the presenter can change what the room sees" if role == "presenter"
                           else "join a room first")
        return m

    def _broadcast(self, code: str, room: dict, panes: bool = False) -> None:
        """Tell every follower.  With panes=True the message carries the step's panes as a follower
        sees them (held until the room reveals), built once here rather than once per follower."""
        msg = public(code, room)
        view = room["view"]
        if panes and view.get("mode") == "play" and view.get("eras"):
            session = self.sessions.get(request.sid)
            revealed = [e for e in view["eras"] if f"{view['step']}:{e}" in view.get("revealed", [])]
            msg["panes"] = session._panes(view["name"], view["eras"], view["step"], revealed)
        self.emit("room", msg, room=f"f:{code}")

    # -- the presenter -----------------------------------------------------------------------

    def on_room_claim(self, data=None, *extra):
        """{code, secret}: this connection presents the room (first connect, reconnect, reload)."""
        def claim(d):
            old = self._members().get(request.sid)
            if old and old["role"] == "follower":
                raise WebError("this window follows a room; open the presenter's page to present")
            room = self.rooms.claim(d.get("code"), d.get("secret"), request.sid)
            code = normalise_code(d["code"])
            self._members()[request.sid] = {"code": code, "role": "presenter", "fid": None}
            join_room(f"p:{code}")
            self._broadcast(code, room)
            reply = {"room": public(code, room), "followers": self.rooms.store.follower_count(code),
                     "notes": self._notes(room)}
            if room["poll"]:
                reply["tally"] = self.rooms.store.tally(code, room["poll"]["key"])
            return reply
        return self._room_call(claim, data, extra)

    def _notes(self, room) -> dict:
        name = room["view"].get("name")
        if room["view"].get("mode") != "play" or not name:
            return {}
        scenario = self.sessions_library().scenario(name)
        return {str(s.index): render_markdown(s.notes) for s in scenario.steps if s.notes}

    def sessions_library(self):
        return current_app.extensions["cowviz"]["library"]

    def on_room_view(self, data=None, *extra):
        """{selected?, revealed?}: the presenter shows what its session shows now; followers follow."""
        def view(d):
            m = self._role("presenter")
            session = self.sessions.get(request.sid)
            room = self.rooms.get(m["code"])
            new = self._view_of(session, room, d)
            room = self.rooms.set_view(m["code"], request.sid, new)
            self._broadcast(m["code"], room, panes=True)
            return {"seq": room["seq"], "room": public(m["code"], room)}
        return self._room_call(view, data, extra)

    def _view_of(self, session, room, d) -> dict:
        old = room["view"]
        selected = d.get("selected")
        if selected is not None:
            if (not isinstance(selected, dict) or not isinstance(selected.get("id"), str)
                    or len(selected["id"]) > MAX_ID or selected.get("pane", 0) not in (0, 1)):
                raise WebError("selected: {pane: 0 or 1, id: an object id}")
            selected = {"pane": selected.get("pane", 0), "id": selected["id"]}
        if old.get("mode") == "sandbox":
            if session is None or session.mode != "sandbox":
                raise WebError("open the sandbox first")
            return {"mode": "sandbox", "name": None, "era": session.box.era,
                    "commands": list(session.box.history), "selected": selected}
        if session is None or session.mode != "play" or session.name != old.get("name"):
            raise WebError(f"this room shows '{old.get('name')}': open it in this window first")
        revealed = list(old.get("revealed", []))
        for key in d.get("revealed") or []:
            if not isinstance(key, str) or not re.fullmatch(r"[0-9]{1,4}:[0-9a-z.\-]{1,12}", key):
                raise WebError("revealed: a list of 'STEP:ERA'")
            step, era = key.split(":")
            _ask_at(self.sessions_library().prepared(old["name"], era), int(step))
            if key not in revealed:
                revealed.append(key)
        return {"mode": "play", "name": old["name"], "eras": list(session.eras), "step": session.step,
                "selected": selected, "revealed": revealed}

    def on_room_poll(self, data=None, *extra):
        """{action: open | close | reveal, era?}: the vote on the question at the presenter's step."""
        def poll(d):
            m = self._role("presenter")
            code = m["code"]
            room = self.rooms.get(code)
            view = room["view"]
            action = d.get("action")
            if view.get("mode") != "play":
                raise WebError("polls run on a walkthrough's questions")
            if action == "open":
                era = d.get("era", view["eras"][0])
                if era not in view["eras"]:
                    raise WebError(f"era {era!r} is not shown")
                prepared = self.sessions_library().prepared(view["name"], era)
                ask, answer, before = _ask_at(prepared, view["step"])
                key = Rooms.question_key(view["name"], view["step"], era)
                room = self.rooms.open_poll(code, request.sid, {
                    "key": key, "name": view["name"], "step": view["step"], "era": era, "kind": ask.kind,
                    "question": render_inline(ask.question), "choices": list(ask.choices)})
                self._remember_question(code, key, ask, None)
            elif action in ("close", "reveal"):
                right = None
                if action == "reveal":
                    p = room["poll"]
                    if p is None:
                        raise WebError("no vote is open")
                    prepared = self.sessions_library().prepared(p["name"], p["era"])
                    ask, answer, before = _ask_at(prepared, p["step"])
                    right = _right(ask, answer, before)
                    self._remember_question(code, p["key"], ask, right)
                room = self.rooms.close_poll(code, request.sid, "revealed" if action == "reveal" else "closed", right)
            else:
                raise WebError("action: open, close or reveal")
            self._broadcast(code, room, panes=action == "reveal")
            return {"room": public(code, room), "tally": self.rooms.store.tally(code, room["poll"]["key"])}
        return self._room_call(poll, data, extra)

    def _remember_question(self, code, key, ask, right):
        room = self.rooms.get(code)
        q = room.setdefault("questions", {}).setdefault(key, {})
        q.update(question=re.sub(r"<[^>]+>", "", render_inline(ask.question)), choices=list(ask.choices))
        if right is not None:
            q["right"] = right
        self.rooms.store.put(code, room)

    def on_room_end(self, data=None, *extra):
        def end(d):
            m = self._role("presenter")
            room = self.rooms.end(m["code"], request.sid)
            self._broadcast(m["code"], room)
            return {"room": public(m["code"], room)}
        return self._room_call(end, data, extra)

    def on_room_results(self, data=None, *extra):
        """{code, secret}: the votes per question as CSV (also after the room ended)."""
        def results(d):
            code = normalise_code(d.get("code"))
            return {"filename": f"cowviz-room-{code}-results.csv",
                    "csv": self.rooms.results_csv(code, d.get("secret"))}
        return self._room_call(results, data, extra)

    # -- followers ------------------------------------------------------------------------------

    def _limited(self):
        if not self.rooms.rate.allow(request.sid):
            raise WebError("too many requests: wait a moment and try again")

    def on_room_join(self, data=None, *extra):
        """{code, fid?}: follow a room.  fid: the id this tab was given before (a reconnect keeps its vote)."""
        def join_(d):
            self._limited()
            code = normalise_code(d.get("code"))
            old = self._members().get(request.sid)
            if old and old["role"] == "presenter":
                raise WebError("this window presents the room; open the join link in another window")
            room = self.rooms.get(code)
            if room["ended"]:
                raise WebError(f"room {code} has ended")
            fid = d.get("fid")
            if not (isinstance(fid, str) and re.fullmatch(r"[A-Za-z0-9_-]{16,40}", fid)):
                fid = secrets.token_urlsafe(12)
            if old and old["code"] != code:
                self._leave(request.sid)
            count = self.rooms.store.add_follower(code, request.sid, self.rooms.limits["followers"])
            self._members()[request.sid] = {"code": code, "role": "follower", "fid": fid}
            join_room(f"f:{code}")
            self.emit("room_followers", {"count": count}, room=f"p:{code}")
            poll = room["poll"]
            vote = self.rooms.store.vote_of(code, poll["key"], fid) if poll else None
            return {"room": public(code, room), "fid": fid, "vote": vote}
        return self._room_call(join_, data, extra)

    def on_room_vote(self, data=None, *extra):
        """{choice}: a follower's answer to the open vote (a later vote replaces the earlier one)."""
        def vote(d):
            m = self._role("follower")
            self._limited()
            code = m["code"]
            room = self.rooms.get(code)
            p = room["poll"]
            if p is None or p["status"] != "open":
                raise WebError("the vote is closed" if p else "no vote is open")
            prepared = self.sessions_library().prepared(p["name"], p["era"])
            ask, _, before = _ask_at(prepared, p["step"])
            choice = _check_choice(ask, before, d.get("choice"))
            room, tally = self.rooms.vote(code, request.sid, m["fid"], choice)
            self.emit("room_tally", {"key": p["key"], "tally": tally}, room=f"p:{code}")
            return {"choice": choice, "key": p["key"]}
        return self._room_call(vote, data, extra)

    def _leave(self, sid: str) -> None:
        m = self._members().pop(sid, None)
        if m is None:
            return
        code = m["code"]
        try:
            if m["role"] == "follower":
                leave_room(f"f:{code}", sid=sid)
                count = self.rooms.store.remove_follower(code, sid)
                self.emit("room_followers", {"count": count}, room=f"p:{code}")
            else:
                leave_room(f"p:{code}", sid=sid)
                self.rooms.presenter_left(code, sid)
                room = self.rooms.store.get(code)
                if room is not None:
                    self.emit("room", public(code, room, presenter_here=False), room=f"f:{code}")
        except Exception:                               # the store may be gone; the connection is anyway
            log.exception("leaving room %s", code)
        self.rooms.rate.forget(sid)

    def room_disconnect(self, sid: str) -> None:
        self._leave(sid)
