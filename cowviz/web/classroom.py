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
import json
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
from .packs import pack_urls
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


@bp.route("/room/<code>/sandbox.json")
def sandbox_state(code):
    """A sandbox room's state as its presenter shows it (`state` in the room's messages): the
    sandbox reply whole (docs/web.md), with the room's `seq`.  Built once per change of the room."""
    import gzip
    try:
        code = normalise_code(code)
        _rooms().get(code)
        text = _rooms().store.get_blob(code, "sandbox")
        if text is None:
            raise WebError(f"the presenter of room {code} has not started the sandbox yet")
    except WebError as e:
        return str(e) + "\n", 404, {"Content-Type": "text/plain; charset=utf-8"}
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        return gzip.compress(text.encode("utf-8"), 6), 200, {**headers, "Content-Encoding": "gzip"}
    return text, 200, headers


# -- what goes to followers ---------------------------------------------------------------------

def public(code: str, room: dict, presenter_here=None) -> dict:
    """The room as every follower may see it: no key, no connection ids, no notes, no vote counts.

    Small (a few hundred bytes) whatever the step: a follower draws the step from the walkthrough's
    pack, whose URL `packs` gives per era shown (packs.py), fetched once and cached."""
    poll = room.get("poll")
    view = room["view"]
    out = {"code": code, "seq": room["seq"], "ended": room["ended"],
           "presenter": room.get("presenter") is not None if presenter_here is None else presenter_here,
           "view": view,
           "poll": None if poll is None else {**{k: poll[k] for k in
                                                 ("key", "step", "era", "kind", "question", "choices", "status", "right")},
                                              "parts": [{k: q[k] for k in ("key", "era", "kind", "question", "choices", "right")}
                                                        for q in poll_parts(poll)]}}
    if view.get("mode") == "sandbox" and view.get("era"):
        out["state"] = f"/room/{code}/sandbox.json?seq={room['seq']}"
    if view.get("mode") == "play" and view.get("eras"):
        try:
            out["packs"] = pack_urls(view["name"], view["eras"])
        except WebError:                       # the file went away: the page asks the server instead
            out["packs"] = {}
    return out


def poll_parts(poll: dict) -> list:
    """The questions a vote is on: one per era ({key, era, kind, question, choices, right})."""
    return poll.get("parts") or [{k: poll[k] for k in ("key", "era", "kind", "question", "choices", "right")}]


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

    def _broadcast(self, code: str, room: dict) -> dict:
        """Tell every follower: one small message to the room, encoded once, the same for all
        (followers draw the step from the pack they have).  Returns the message."""
        msg = public(code, room)
        self.emit("room", msg, room=f"f:{code}")
        return msg

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
            self._watch_rooms()
            self._broadcast(code, room)
            reply = {"room": public(code, room), "followers": self.rooms.store.follower_count(code),
                     "notes": self._notes(room)}
            if room["poll"]:
                reply["tally"] = self.rooms.store.tally(code, room["poll"]["key"])
                reply["tallies"] = self._tallies(code, room["poll"])
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
            if new["mode"] == "sandbox":
                # Followers draw the presenter's sandbox from this (one build for the room), not by replaying it.
                self.rooms.store.put_blob(m["code"], "sandbox", json.dumps(
                    {"seq": room["seq"], **session.sandbox_view()}, separators=(",", ":")))
            msg = self._broadcast(m["code"], room)
            return {"seq": room["seq"], "room": msg}
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
        """{action: open | close | reveal, era?}: the vote on the question at the presenter's step.

        Opening without `era` puts the step's question to the vote under every era shown that asks it
        and has not been revealed (a comparison votes on both at once: revealing one era first would
        show the outcome the other asks about); with `era`, under that era only."""
        def poll(d):
            m = self._role("presenter")
            code = m["code"]
            room = self.rooms.get(code)
            view = room["view"]
            action = d.get("action")
            if view.get("mode") != "play":
                raise WebError("polls run on a walkthrough's questions")
            if action == "open":
                parts, asks = self._poll_parts(view, d.get("era"))
                room = self.rooms.open_poll(code, request.sid, {**parts[0], "name": view["name"],
                                                                "step": view["step"], "parts": parts})
                for q, ask in zip(parts, asks):
                    self._remember_question(code, q["key"], ask, None)
            elif action in ("close", "reveal"):
                rights = self._poll_rights(code, room["poll"]) if action == "reveal" else None
                room = self.rooms.close_poll(code, request.sid, "revealed" if action == "reveal" else "closed", rights)
            else:
                raise WebError("action: open, close or reveal")
            self._broadcast(code, room)
            return {"room": public(code, room), "tally": self.rooms.store.tally(code, room["poll"]["key"]),
                    "tallies": self._tallies(code, room["poll"])}
        return self._room_call(poll, data, extra)

    def _poll_parts(self, view: dict, era) -> tuple[list[dict], list]:
        """The questions a vote opened at the presenter's step puts, and their asks: one per era shown
        that asks one and has not revealed it (`era` given: that era's only).  WebError when there is none."""
        if era is not None and era not in view["eras"]:
            raise WebError(f"era {era!r} is not shown")
        parts, asks = [], []
        for e in [era] if era is not None else view["eras"]:
            if era is None and f"{view['step']}:{e}" in view.get("revealed", []):
                continue                        # revealed already: nothing left to predict there
            prepared = self.sessions_library().prepared(view["name"], e)
            try:
                ask, _, _ = _ask_at(prepared, view["step"])
            except WebError:
                if era is not None:
                    raise
                continue                        # this era's step asks nothing
            parts.append({"key": Rooms.question_key(view["name"], view["step"], e), "era": e,
                          "kind": ask.kind, "question": render_inline(ask.question),
                          "choices": list(ask.choices), "right": None})
            asks.append(ask)
        if not parts:
            _ask_at(self.sessions_library().prepared(view["name"], view["eras"][0]), view["step"])
            raise WebError(f"step {view['step']}'s question has been revealed under every era shown")
        return parts, asks

    def _poll_rights(self, code: str, p) -> dict:
        """Question key -> the right answer, for each question of the open vote `p` (revealing it)."""
        if p is None:
            raise WebError("no vote is open")
        rights = {}
        for q in poll_parts(p):
            ask, answer, before = _ask_at(self.sessions_library().prepared(p["name"], q["era"]), p["step"])
            rights[q["key"]] = _right(ask, answer, before)
            self._remember_question(code, q["key"], ask, rights[q["key"]])
        return rights

    def _tallies(self, code: str, poll: dict) -> dict:
        return {q["key"]: self.rooms.store.tally(code, q["key"]) for q in poll_parts(poll)}

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
            self._watch_rooms()
            self.emit("room_followers", {"count": count}, room=f"p:{code}")
            poll = room["poll"]
            votes = {q["key"]: self.rooms.store.vote_of(code, q["key"], fid) for q in poll_parts(poll)} if poll else {}
            return {"room": public(code, room), "fid": fid, "vote": votes.get(poll["key"]) if poll else None,
                    "votes": {k: v for k, v in votes.items() if v is not None}}
        return self._room_call(join_, data, extra)

    def on_room_vote(self, data=None, *extra):
        """{choice, era?}: a follower's answer to the open vote under `era` (default: the vote's first
        era); a later vote replaces the earlier one."""
        def vote(d):
            m = self._role("follower")
            self._limited()
            code = m["code"]
            room = self.rooms.get(code)
            p = room["poll"]
            if p is None or p["status"] != "open":
                raise WebError("the vote is closed" if p else "no vote is open")
            parts = poll_parts(p)
            era = d.get("era", parts[0]["era"])
            q = next((q for q in parts if q["era"] == era), None)
            if q is None:
                raise WebError(f"the vote is on {' and '.join(x['era'] for x in parts)}, not {str(era)[:12]!r}")
            prepared = self.sessions_library().prepared(p["name"], q["era"])
            ask, _, before = _ask_at(prepared, p["step"])
            choice = _check_choice(ask, before, d.get("choice"))
            room, tally = self.rooms.vote(code, request.sid, m["fid"], choice, q["key"])
            self.emit("room_tally", {"key": q["key"], "tally": tally}, room=f"p:{code}")
            return {"choice": choice, "key": q["key"], "era": q["era"]}
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

    # -- rooms that have gone ---------------------------------------------------------------------
    #
    # A room expires quietly (its record times out in the store), so a task of each server process
    # looks every `sweep` seconds at the rooms its own connections are in, and tells the members of
    # one that has gone: `room_closed` {code, reason: "expired" | "ended", message}.  Their membership
    # ends there; the pages keep what they show.

    def _watch_rooms(self) -> None:
        if getattr(self, "_sweeper", None) is None:
            self._sweeper = self.socketio.start_background_task(self._sweep_loop)

    def _sweep_loop(self) -> None:
        while True:
            self.socketio.sleep(self.rooms.limits["sweep"])
            try:
                self.sweep_rooms()
            except Exception:                           # the store may be unreachable a while
                log.exception("checking rooms for expiry")

    def sweep_rooms(self) -> list:
        """Tell the members of every room of this process that has gone.  Returns the codes."""
        members = self._members()
        ended = self.__dict__.setdefault("_room_ended", set())
        # Last round's members leave their Socket.IO rooms now, once the notice has surely gone out
        # (with a message queue it travels through Redis and back).
        leaving = self.__dict__.get("_room_leaving", [])
        self._room_leaving = []
        for sid, name in leaving:
            try:
                self.socketio.server.leave_room(sid, name, namespace=self.namespace)
            except Exception:                           # it has gone meanwhile
                pass
        gone = []
        for code in {m["code"] for m in list(members.values())}:
            try:
                room = self.rooms.get(code)
            except WebError:
                room = None
            if room is not None:
                if room["ended"]:
                    ended.add(code)
                continue
            gone.append(code)
            reason = "ended" if code in ended else "expired"
            ended.discard(code)
            message = (f"The presenter ended room {code}. You can go on exploring." if reason == "ended" else
                       f"Room {code} has expired (its presenter was away too long). You can go on exploring; "
                       "ask the presenter for a new code to follow again.")
            msg = {"code": code, "reason": reason, "message": message}
            self.emit("room_closed", msg, room=f"f:{code}")
            self.emit("room_closed", msg, room=f"p:{code}")
            for sid, m in list(members.items()):
                if m["code"] == code:
                    members.pop(sid, None)
                    self.rooms.rate.forget(sid)
                    self._room_leaving.append((sid, ("f:" if m["role"] == "follower" else "p:") + code))
        return gone
