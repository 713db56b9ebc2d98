"""Classroom rooms (issue 12): the pages, the room events, polls, limits and refusals.

In process, with Flask's and Flask-SocketIO's test clients (every client is a real Socket.IO
session of the app, and room emits reach them as they reach browsers).  The browser test with one
presenter and two followers is in test_web_rooms_browser.py; several processes on Redis and nginx
in test_web_rooms_redis.py.
"""
from __future__ import annotations

import csv
import io
import json
import re
import time

import pytest

from app import create_app
from cowviz.web.rooms import ALPHABET

from tests.web.conftest import NAMESPACE, SCENARIOS

NAME = "01-rdma"          # step 4: a choice question; step 5: pick a page; step 4 has presenter notes


def make_app(**rooms):
    return create_app({"TESTING": True, "COWVIZ_SCENARIOS": SCENARIOS, "COWVIZ_ROOMS": rooms or None})


class Client:
    def __init__(self, app, http):
        self.raw = app.extensions["socketio"].test_client(app, namespace=NAMESPACE, flask_test_client=http)

    def call(self, event, data=None):
        return self.raw.emit(event, data, namespace=NAMESPACE, callback=True)

    def received(self, name=None):
        got = self.raw.get_received(NAMESPACE)
        return [m["args"][0] for m in got if name is None or m["name"] == name] if name else got

    def close(self):
        if self.raw.is_connected(NAMESPACE):
            self.raw.disconnect(namespace=NAMESPACE)


class Room:
    """A room made the way a browser makes one: GET /present/NAME, then the page's socket claims it."""

    def __init__(self, app, query=""):
        self.app = app
        self.http = app.test_client()
        r = self.http.get(f"/present/{NAME}{query}")
        assert r.status_code == 200, r.text
        self.page = r.text
        self.boot = json.loads(re.search(r'id="room-boot">(.*?)</script>', r.text, re.S).group(1))
        self.code, self.secret = self.boot["code"], self.boot["secret"]
        self.clients = []

    def client(self):
        c = Client(self.app, self.http)
        self.clients.append(c)
        return c

    def presenter(self, step=0, eras=("5.9",)):
        p = self.client()
        assert p.call("room_claim", {"code": self.code, "secret": self.secret})["ok"]
        assert p.call("open", {"name": NAME, "eras": list(eras), "step": step})["ok"]
        assert p.call("room_view", {})["ok"]
        return p

    def follower(self):
        f = self.client()
        reply = f.call("room_join", {"code": self.code})
        assert reply["ok"], reply
        return f, reply

    def close(self):
        for c in self.clients:
            c.close()


@pytest.fixture
def app():
    return make_app()


@pytest.fixture
def room(app):
    r = Room(app)
    yield r
    r.close()


def everything_sent(client) -> str:
    return json.dumps(client.raw.get_received(NAMESPACE))


# -- creating and joining ------------------------------------------------------------------------

def test_present_makes_a_room_with_a_short_unambiguous_code_a_join_link_and_a_qr_code(app):
    r = Room(app, "?era=5.9&step=2")
    assert re.search(rf'id="room-code"[^>]*>{r.code}<', r.page)
    assert 4 <= len(r.code) <= 6 and all(ch in ALPHABET for ch in r.code)
    assert not set("0O1IL2Z5S8B") & set(ALPHABET)
    assert r.boot["join_url"].endswith(f"/join/{r.code}") and r.boot["role"] == "presenter"
    qr = r.http.get(f"/room/{r.code}/qr.svg")
    assert qr.status_code == 200 and qr.content_type.startswith("image/svg+xml")
    assert b"<svg" in qr.data and b'xmlns="http://www.w3.org/2000/svg"' in qr.data
    assert r.http.get(f"/room/{r.code}/qr.svg").data == qr.data         # the same link each time
    other = Room(app)
    assert other.code != r.code and other.secret != r.secret


def test_the_presenter_page_is_the_player_and_takes_its_query(app):
    r = Room(app, "?compare=5.9-rc,5.9&step=3")
    assert 'id="boot"' in r.page and "js/play-page.js" in r.page and "js/room-play.js" in r.page
    p = r.client()
    assert p.call("room_claim", {"code": r.code, "secret": r.secret})["ok"]
    assert p.call("open", {"name": NAME, "eras": ["5.9-rc", "5.9"], "step": 3})["ok"]
    view = p.call("room_view", {})["room"]["view"]
    assert view["eras"] == ["5.9-rc", "5.9"] and view["step"] == 3
    r.close()


def test_sandbox_room_and_unknown_walkthrough(app):
    http = app.test_client()
    r = http.get("/present/sandbox")
    assert r.status_code == 200 and 'id="room-code"' in r.text and "js/room-sandbox.js" in r.text
    boot = json.loads(re.search(r'id="room-boot">(.*?)</script>', r.text, re.S).group(1))
    p = Client(app, http)
    assert p.call("room_claim", {"code": boot["code"], "secret": boot["secret"]})["ok"]
    assert p.call("sandbox", {"era": "5.9", "commands": ["mmap P buf 2"]})["ok"]
    assert p.call("command", {"text": "write P buf[0] A"})["ok"]
    view = p.call("room_view", {})["room"]["view"]
    assert view == {"mode": "sandbox", "name": None, "era": "5.9", "commands": ["mmap P buf 2", "write P buf[0] A"],
                    "selected": None}
    f = Client(app, http)
    join = f.call("room_join", {"code": boot["code"]})
    assert join["ok"] and join["room"]["view"]["commands"] == view["commands"]
    page = http.get(f"/join/{boot['code']}")
    assert page.status_code == 200 and "js/room-sandbox.js" in page.text and boot["secret"] not in page.text
    missing = http.get("/present/no-such-walkthrough")
    assert missing.status_code == 404 and "no-such-walkthrough" in missing.text
    p.close()
    f.close()


def test_join_page_form_and_bad_codes(room):
    http = room.http
    page = http.get(f"/join/{room.code}")
    assert page.status_code == 200 and f'id="room-code" class="room-code">{room.code}<' in page.text
    assert 'data-step' not in page.text or True
    form = http.get("/join")
    assert form.status_code == 200 and 'name="code"' in form.text
    typed = http.get(f"/join?code={room.code.lower()[:2]}+{room.code.lower()[2:]}")
    assert typed.status_code == 302 and typed.headers["Location"].endswith(f"/join/{room.code}")
    for bad, words in (("AB", "is not a room code"), ("HELLO", "is not a room code"), ("KKKKK", "has ended or expired")):
        r = http.get(f"/join/{bad}")
        assert r.status_code == 404 and words in r.text, (bad, r.text)
    assert http.get("/join?code=<b>x").status_code == 400


def test_a_follower_lands_on_the_presenters_state_and_late_joiners_too(room):
    p = room.presenter(step=2)
    f1, join1 = room.follower()
    assert join1["room"]["view"]["step"] == 2 and join1["room"]["presenter"] is True
    assert p.received("room_followers")[-1] == {"count": 1}
    assert p.call("step", {"step": 3})["ok"]
    assert p.call("room_view", {"selected": {"pane": 0, "id": "page:1"}})["ok"]
    got = f1.received("room")[-1]
    assert got["view"]["step"] == 3 and got["view"]["selected"] == {"pane": 0, "id": "page:1"}
    assert p.call("era", {"eras": ["5.9-rc", "5.9"]})["ok"]
    assert p.call("room_view", {})["ok"]
    assert f1.received("room")[-1]["view"]["eras"] == ["5.9-rc", "5.9"]
    # A late joiner gets what is on screen now, with no need of the history.
    f2, join2 = room.follower()
    assert join2["room"]["view"]["step"] == 3 and join2["room"]["view"]["eras"] == ["5.9-rc", "5.9"]
    assert p.received("room_followers")[-1] == {"count": 2}


def test_followers_break_away_on_their_own_session_without_changing_the_room_or_each_other(room):
    p = room.presenter(step=1)
    f1, _ = room.follower()
    f2, _ = room.follower()
    f2.received()
    # f1 breaks away: it opens and steps on its own connection, like the player does.
    assert f1.call("open", {"name": NAME, "eras": ["5.9"], "step": 1})["ok"]
    assert f1.call("step", {"step": 5})["step"] == 5
    assert f1.call("era", {"eras": ["5.7"]})["ok"]
    assert f2.received("room") == []                       # nobody else was told anything
    assert room.client().call("room_join", {"code": room.code})["room"]["view"]["step"] == 1
    # The presenter moves on; the broken-away follower still hears it (to re-sync with one key).
    assert p.call("step", {"step": 2})["ok"] and p.call("room_view", {})["ok"]
    assert f1.received("room")[-1]["view"]["step"] == 2 and f2.received("room")[-1]["view"]["step"] == 2


def test_a_follower_cannot_drive_the_room(room):
    p = room.presenter(step=4)
    f, _ = room.follower()
    f.call("open", {"name": NAME, "eras": ["5.9"], "step": 6})
    for event, data in (("room_view", {}), ("room_view", {"revealed": ["4:5.9"]}), ("room_poll", {"action": "open"}),
                        ("room_poll", {"action": "reveal"}), ("room_end", {})):
        reply = f.call(event, data)
        assert reply == {"ok": False, "error": "only the presenter can change what the room sees"}, (event, reply)
    # Claiming needs the key; guessing one is refused and changes nothing.
    reply = f.call("room_claim", {"code": room.code, "secret": room.secret})
    assert reply == {"ok": False, "error": "this window follows a room; open the presenter's page to present"}
    reply = room.client().call("room_claim", {"code": room.code, "secret": "x" * 32})
    assert not reply["ok"] and "not the presenter's key" in reply["error"]
    assert f.call("room_results", {"code": room.code, "secret": "nope"})["ok"] is False
    assert room.client().call("room_join", {"code": room.code})["room"]["view"]["step"] == 4
    assert p.call("room_view", {})["ok"]                   # the presenter still presents


def test_forged_and_stale_keys_are_refused(app):
    a, b = Room(app), Room(app)
    p = a.client()
    for secret, words in ((b.secret, "not the presenter's key"), ("", "not the presenter's key"),
                          (None, "not the presenter's key"), (a.secret + "x", "not the presenter's key")):
        reply = p.call("room_claim", {"code": a.code, "secret": secret})
        assert not reply["ok"] and words in reply["error"], secret
    assert not p.call("room_claim", {"code": "QQQQ", "secret": a.secret})["ok"]
    # A key of a room that has ended is stale: it cannot present again.
    pa = a.presenter()
    assert pa.call("room_end", {})["ok"]
    reply = a.client().call("room_claim", {"code": a.code, "secret": a.secret})
    assert reply == {"ok": False, "error": f"room {a.code} has ended"}
    late = a.client().call("room_join", {"code": a.code})
    assert late == {"ok": False, "error": f"room {a.code} has ended"}
    a.close()
    b.close()


def test_the_presenters_key_and_notes_never_reach_a_follower(room):
    p = room.presenter(step=3)
    claim = room.client().call("room_claim", {"code": room.code, "secret": room.secret})  # a second window
    assert {k: v.strip() for k, v in claim["notes"].items()} == {"4": "<p>Poll first; SECRET-NOTE the early copy is the 5.9 fix.</p>"}
    f, join = room.follower()
    page = room.http.get(f"/join/{room.code}").text
    assert room.secret not in page and "SECRET-NOTE" not in page
    assert room.secret not in json.dumps(join) and "SECRET-NOTE" not in json.dumps(join)
    assert f.call("open", {"name": NAME, "eras": ["5.9"], "step": 4})["ok"]
    assert "SECRET-NOTE" not in json.dumps(f.call("step", {"step": 4, "reveal": True}))
    assert "SECRET-NOTE" not in page
    sent = everything_sent(f)
    assert room.secret not in sent and "SECRET-NOTE" not in sent and "secret" not in sent


# -- polls ----------------------------------------------------------------------------------------

def test_a_poll_its_live_tally_and_the_reveal(room):
    p = room.presenter(step=4)
    f1, _ = room.follower()
    f2, _ = room.follower()
    f3, _ = room.follower()
    assert f1.call("room_vote", {"choice": "yes"}) == {"ok": False, "error": "no vote is open"}
    opened = p.call("room_poll", {"action": "open"})
    assert opened["ok"] and opened["room"]["poll"]["status"] == "open" and opened["room"]["poll"]["choices"] == ["yes", "no"]
    seen = f1.received("room")[-1]
    poll = seen["poll"]
    assert poll["status"] == "open" and poll["right"] is None and "answer" not in json.dumps(poll)
    p.received()
    assert f1.call("room_vote", {"choice": "no"})["ok"]
    assert f1.call("room_vote", {"choice": "yes"})["choice"] == "yes"       # a vote can be changed
    assert f2.call("room_vote", {"choice": "no"})["ok"]
    assert f3.call("room_vote", {"choice": "yes"})["ok"]
    bad = f3.call("room_vote", {"choice": "maybe"})
    assert bad == {"ok": False, "error": "'maybe' is not one of the choices (yes, no)"}
    assert p.received("room_tally")[-1]["tally"] == {"yes": 2, "no": 1}
    # Until the reveal a follower's own view of the step stays held.
    assert seen["view"]["revealed"] == []
    revealed = p.call("room_poll", {"action": "reveal"})
    assert revealed["ok"] and revealed["tally"] == {"yes": 2, "no": 1}
    last = f2.received("room")[-1]
    assert last["poll"]["status"] == "revealed" and last["poll"]["right"] == ["yes"]
    assert last["view"]["revealed"] == ["4:5.9"]
    assert "tally" not in json.dumps(last) and "yes\": 2" not in json.dumps(last)
    assert f2.call("room_vote", {"choice": "yes"}) == {"ok": False, "error": "the vote is closed"}
    # The results, per question, without anyone's id.
    csv_text = p.call("room_results", {"code": room.code, "secret": room.secret})["csv"]
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert [(r["choice"], r["right"], r["votes"]) for r in rows] == [("yes", "yes", "2"), ("no", "no", "1")]
    assert rows[0]["question"] == "Does fork copy the pinned page for the child?" and rows[0]["step"] == "4"
    fids = [c.call("room_join", {"code": room.code})["fid"] for c in (f1, f2)]
    assert not any(fid in csv_text for fid in fids)


def test_a_pick_a_page_poll_checks_pages_and_counts_new_as_the_player_does(room):
    p = room.presenter(step=5, eras=("5.9-rc",))
    f1, _ = room.follower()
    f2, _ = room.follower()
    assert p.call("room_poll", {"action": "open"})["room"]["poll"]["kind"] == "pick"
    assert f1.call("room_vote", {"choice": "page:999"})["error"].startswith("pick a page in the diagram")
    assert not f1.call("room_vote", {"choice": "page:٣"})["ok"]
    assert not f1.call("room_vote", {"choice": {"page": 1}})["ok"]
    assert f1.call("room_vote", {"choice": "new"})["ok"]
    assert f2.call("room_vote", {"choice": "page:1"})["ok"]
    right = p.call("room_poll", {"action": "reveal"})["room"]["poll"]["right"]
    prepared = room.app.extensions["cowviz"]["library"].prepared(NAME, "5.9-rc")
    answer = prepared.run.steps[4].answer
    assert right[0] == answer
    assert ("new" in right) == (prepared.run.steps[3].snapshot.page(int(answer.split(":")[1])) is None)


def test_stepping_on_closes_the_vote_and_a_poll_needs_a_question(room):
    p = room.presenter(step=3)
    assert p.call("room_poll", {"action": "open"}) == {"ok": False, "error": "step 3 asks no question"}
    p.call("step", {"step": 4})
    p.call("room_view", {})
    assert p.call("room_poll", {"action": "open"})["ok"]
    p.call("step", {"step": 5})
    assert p.call("room_view", {})["room"]["poll"]["status"] == "closed"
    f, _ = room.follower()
    assert f.call("room_vote", {"choice": "yes"}) == {"ok": False, "error": "the vote is closed"}
    assert p.call("room_poll", {"action": "dance"}) == {"ok": False, "error": "action: open, close or reveal"}


def test_the_presenter_reveals_a_question_without_a_poll(room):
    p = room.presenter(step=4)
    f, _ = room.follower()
    assert p.call("answer", {"step": 4, "era": "5.9", "choice": "skip"})["revealed"]
    assert p.call("room_view", {"revealed": ["4:5.9"]})["ok"]
    assert f.received("room")[-1]["view"]["revealed"] == ["4:5.9"]
    for bad in (["3:5.9"], ["4:9.9"], ["x"], [{"a": 1}], "4:5.9"):
        reply = p.call("room_view", {"revealed": bad})
        assert not reply["ok"], bad


# -- reconnects, expiry, limits -------------------------------------------------------------------

def test_the_presenter_resumes_after_a_reconnect(room):
    p = room.presenter(step=4)
    f, _ = room.follower()
    p.call("room_poll", {"action": "open"})
    f.call("room_vote", {"choice": "no"})
    p.close()                                               # the laptop slept
    gone = f.received("room")[-1]
    assert gone["presenter"] is False and gone["view"]["step"] == 4
    p2 = room.client()
    back = p2.call("room_claim", {"code": room.code, "secret": room.secret})
    assert back["ok"] and back["room"]["view"]["step"] == 4 and back["followers"] == 1
    assert back["tally"] == {"no": 1} and back["room"]["poll"]["status"] == "open"
    assert f.received("room")[-1]["presenter"] is True
    assert p2.call("open", {"name": NAME, "eras": ["5.9"], "step": 5})["ok"] and p2.call("room_view", {})["ok"]
    assert f.received("room")[-1]["view"]["step"] == 5


def test_a_follower_resumes_after_a_reconnect_with_its_vote(room):
    p = room.presenter(step=4)
    f, join = room.follower()
    p.call("room_poll", {"action": "open"})
    assert f.call("room_vote", {"choice": "yes"})["ok"]
    f.close()
    assert p.received("room_followers")[-1] == {"count": 0}
    p.call("room_view", {"selected": {"pane": 0, "id": "page:1"}})
    again = room.client().call("room_join", {"code": room.code, "fid": join["fid"]})
    assert again["ok"] and again["fid"] == join["fid"] and again["vote"] == "yes"
    assert again["room"]["view"]["selected"] == {"pane": 0, "id": "page:1"}
    assert p.received("room_followers")[-1] == {"count": 1}
    assert p.call("room_poll", {"action": "reveal"})["tally"] == {"yes": 1}   # counted once


def test_rooms_expire_when_their_presenter_has_been_gone_a_while():
    app = make_app(idle=1)
    room = Room(app)
    p = room.presenter(step=2)
    f, _ = room.follower()
    time.sleep(1.3)
    assert room.client().call("room_join", {"code": room.code})["ok"]   # alive while the presenter is here
    p.close()
    time.sleep(1.3)
    gone = room.client().call("room_join", {"code": room.code})
    assert gone == {"ok": False, "error": f"room {room.code} has ended or expired: ask the presenter for the new code"}
    assert f.call("room_vote", {"choice": "yes"})["ok"] is False
    assert room.http.get(f"/join/{room.code}").status_code == 404
    stale = room.client().call("room_claim", {"code": room.code, "secret": room.secret})
    assert not stale["ok"] and "has ended or expired" in stale["error"]
    # A room made but never presented expires the same way.
    unclaimed = Room(app)
    time.sleep(1.3)
    assert not unclaimed.client().call("room_join", {"code": unclaimed.code})["ok"]
    room.close()


def test_followers_per_room_rooms_per_server_and_the_rate_limit():
    app = make_app(followers=2, rooms=2, rate=2.0, burst=3)
    room = Room(app)
    room.presenter(step=4)
    room.follower()
    room.follower()
    full = room.client().call("room_join", {"code": room.code})
    assert full == {"ok": False, "error": f"room {room.code} is full (2 followers): ask the presenter"}
    Room(app)
    third = app.test_client().get(f"/present/{NAME}")
    assert third.status_code == 503 and "already has 2 rooms" in third.text
    f = room.clients[1]
    room.clients[0].call("room_poll", {"action": "open"})
    replies = [f.call("room_vote", {"choice": "yes"}) for _ in range(6)]
    assert replies[0]["ok"] and {"ok": False, "error": "too many requests: wait a moment and try again"} in replies
    time.sleep(0.6)
    assert f.call("room_vote", {"choice": "no"})["ok"]              # the bucket refills
    room.close()


def test_bad_room_requests_get_a_clear_message(room):
    f = room.client()
    assert f.call("room_join", "K7MHX") == {"ok": False, "error": "a request carries a JSON object"}
    assert f.call("room_join", {}) == {"ok": False, "error": "a room code is text, like K7MHX"}
    assert "is not a room code" in f.call("room_join", {"code": "x" * 5000})["error"]
    assert f.call("room_vote", {"choice": "yes"}) == {"ok": False, "error": "join a room first"}
    p = room.presenter()
    assert not p.call("room_join", {"code": room.code})["ok"]            # the presenter's window does not follow
    assert "selected" in p.call("room_view", {"selected": {"id": "x" * 500}})["error"]


def test_the_room_tells_followers_the_step_and_its_reveal_and_the_pack_holds_the_outcome_back(room):
    p = room.presenter(step=3)
    f, _ = room.follower()
    # The presenter's own view may be revealed; what the room tells followers is held.
    assert p.call("step", {"step": 4, "reveal": True})["panes"][0]["held"] is False
    assert p.call("room_view", {})["ok"]
    msg = f.received("room")[-1]
    assert msg["view"]["step"] == 4 and "4:5.9" not in msg["view"]["revealed"] and "panes" not in msg
    pack = room.http.get(msg["packs"]["5.9"]).get_json()
    held = pack["steps"][4]["held"]              # what a follower shows until the room reveals
    assert held["step"] == 4 and held["held"] is True and held["events"] == [] and held["narration"] == ""
    assert held["ask"]["answer"] is None and held["ask"]["explain"] is None
    assert p.call("room_poll", {"action": "open"})["ok"]
    assert f.received("room")[-1]["poll"]["status"] == "open"
    assert p.call("room_poll", {"action": "reveal"})["ok"]
    msg = f.received("room")[-1]
    assert "4:5.9" in msg["view"]["revealed"] and msg["poll"]["right"] == ["yes"]
    shown = pack["steps"][4]["shown"]
    assert shown["held"] is False and shown["ask"]["answer"] == "yes" and shown["events"]


def test_a_follower_shown_a_pushed_step_switches_era_at_that_step(room):
    p = room.presenter(step=1)
    f, _ = room.follower()
    assert f.call("open", {"name": NAME, "eras": ["5.9"], "step": 1})["ok"]
    p.call("step", {"step": 3})
    p.call("room_view", {})
    assert f.received("room")[-1]["view"]["step"] == 3     # shown from the pack, without its own session
    switched = f.call("era", {"eras": ["5.7"], "step": 3})
    assert switched["ok"] and switched["step"] == 3 and switched["panes"][0]["era"] == "5.7"
    assert f.call("era", {"eras": ["5.8"], "step": 99})["error"] == "step 99 is out of range: this walkthrough has steps 0-6"


def test_extra_event_arguments_are_refused_with_a_message(room):
    f = room.client()
    reply = f.raw.emit("room_join", {"code": room.code}, "extra", namespace=NAMESPACE, callback=True)
    assert reply == {"ok": False, "error": "'room_join' takes one argument (a JSON object), got 2"}
