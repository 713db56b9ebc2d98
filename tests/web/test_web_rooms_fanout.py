"""A room's step fan-out (issue 12): one small message to the room per change, whatever the number of
followers, and followers draw the step from the walkthrough's pack (cowviz/web/packs.py); rooms
that expire or end tell their followers.  Timings are in bench/bench_classroom.py, not here."""
from __future__ import annotations

import gzip
import json
import re
import time

import pytest

from tests.web.conftest import NAMESPACE
from tests.web.test_web_rooms import NAME, Room, make_app


def polled(get, seconds: float = 12) -> list:
    """What get() returns once it returns something, asked every 0.1 s for at most `seconds`."""
    deadline = time.monotonic() + seconds
    got: list = []
    while not got and time.monotonic() < deadline:
        time.sleep(0.1)
        got = get()
    return got


@pytest.fixture
def app():
    return make_app()


def room_emits(app, monkeypatch):
    """Every `room` message the server emits (event, data, to), counted where python-socketio sends it."""
    server = app.extensions["socketio"].server
    sent = []
    original = server.emit

    def emit(event, data=None, *args, **kwargs):
        if event == "room":
            sent.append((data, kwargs.get("to") or kwargs.get("room"), kwargs.get("callback")))
        return original(event, data, *args, **kwargs)
    monkeypatch.setattr(server, "emit", emit)
    return sent


@pytest.mark.parametrize("followers", [1, 12])
def test_one_small_message_per_step_to_the_room_whatever_the_number_of_followers(app, monkeypatch, followers):
    room = Room(app)
    p = room.presenter(step=1)
    fs = [room.follower()[0] for _ in range(followers)]
    for f in fs:
        f.received()
    sent = room_emits(app, monkeypatch)
    for step in (2, 3, 4, 3):
        assert p.call("step", {"step": step, "reveal": True})["ok"]
        assert p.call("room_view", {"selected": {"pane": 0, "id": "page:1"}})["ok"]
    assert len(sent) == 4                               # one emit per step, to the followers' room, no ack
    assert {to for _, to, _ in sent} == {f"f:{room.code}"} and {cb for _, _, cb in sent} == {None}
    for f in fs:
        got = f.received("room")
        assert [m["view"]["step"] for m in got] == [2, 3, 4, 3]   # each follower hears each step once
    for msg, _, _ in sent:
        text = json.dumps(msg)
        assert len(text) < 1200, text                   # the room's state, not the step's panes
        assert "panes" not in msg and room.secret not in text and "SECRET-NOTE" not in text
        assert msg["packs"] == {"5.9": f"/pack/5.9/{NAME}.json?v={room.http.get(f'/pack/5.9/{NAME}.json').get_json()['hash']}"}
    room.close()


def test_the_pack_holds_every_step_as_the_players_step_reply_has_it(app, make_sock):
    s = make_sock()
    for eras in (["5.9"], ["5.9-rc", "5.9"]):
        opened = s.call("open", {"name": NAME, "eras": eras, "step": 0})
        packs = [app.test_client().get(f"/pack/{era}/{NAME}.json").get_json() for era in eras]
        for i, era in enumerate(eras):
            assert packs[i]["name"] == NAME and packs[i]["era"] == era
            assert packs[i]["scenario"] == opened["scenario"] and packs[i]["timeline"] == opened["timelines"][era]
        total = len(opened["scenario"]["steps"])
        asks = {st["index"] for st in opened["scenario"]["steps"] if st["ask"]}
        assert asks == {4, 5}
        for step in range(total + 1):
            shown = s.call("step", {"step": step, "reveal": True})["panes"]
            held = s.call("step", {"step": step, "reveal": []})["panes"]
            for i in range(len(eras)):
                entry = packs[i]["steps"][step]
                assert entry["shown"] == shown[i]
                assert entry["held"] == (held[i] if step in asks else None)
                if step in asks:
                    assert entry["held"]["held"] is True and entry["held"]["ask"]["answer"] is None


def test_a_pack_is_cached_by_its_hash_compressed_and_refused_with_a_reason(app):
    http = app.test_client()
    plain = http.get(f"/pack/5.9/{NAME}.json")
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "no-cache"
    digest = plain.get_json()["hash"]
    assert len(digest) == 16 and plain.headers["ETag"] == f'"{digest}"'
    fixed = http.get(f"/pack/5.9/{NAME}.json?v={digest}", headers={"Accept-Encoding": "gzip, deflate"})
    assert fixed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert fixed.headers["Content-Encoding"] == "gzip" and fixed.headers["Vary"] == "Accept-Encoding"
    assert json.loads(gzip.decompress(fixed.data)) == plain.get_json()
    assert len(fixed.data) < len(plain.data) / 4
    assert http.get(f"/pack/5.9/{NAME}.json", headers={"If-None-Match": f'"{digest}"'}).status_code == 304
    # Another hash (another process's, or a file edited since): the current pack, not kept for good.
    assert http.get(f"/pack/5.9/{NAME}.json?v=0000000000000000").headers["Cache-Control"] == "no-cache"
    bad = http.get(f"/pack/5.2/{NAME}.json")
    assert bad.status_code == 404 and "unknown era '5.2'" in bad.text
    assert http.get(f"/pack/6.x/{NAME}.json").status_code == 200
    missing = http.get("/pack/5.9/no-such-walkthrough.json")
    assert missing.status_code == 404 and "no-such-walkthrough" in missing.text
    # The two eras of a comparison are two packs, with two hashes.
    assert http.get(f"/pack/5.9-rc/{NAME}.json").get_json()["hash"] != digest


def test_a_late_joiner_gets_the_state_and_the_packs_to_draw_it_held_until_the_reveal(app):
    room = Room(app)
    p = room.presenter(step=4, eras=("5.9-rc", "5.9"))
    assert p.call("room_view", {"selected": {"pane": 1, "id": "page:1"}})["ok"]
    f, joined = room.follower()
    r = joined["room"]
    assert r["view"] == {"mode": "play", "name": NAME, "eras": ["5.9-rc", "5.9"], "step": 4,
                         "selected": {"pane": 1, "id": "page:1"}, "revealed": []}
    assert set(r["packs"]) == {"5.9-rc", "5.9"}
    for era, url in r["packs"].items():
        pack = room.http.get(url).get_json()
        assert url.endswith(f"?v={pack['hash']}") and pack["era"] == era
        assert pack["steps"][4]["held"]["held"] is True           # step 4 asks; nothing revealed yet
    # The presenter reveals under one era: a later joiner sees it revealed there, held in the other.
    assert p.call("room_view", {"revealed": ["4:5.9"]})["ok"]
    _, late = room.follower()
    assert late["room"]["view"]["revealed"] == ["4:5.9"]
    room.close()


def test_followers_are_told_when_their_room_expires():
    app = make_app(idle=3, sweep=0.2)
    room = Room(app)
    p = room.presenter(step=2)
    f, _ = room.follower()
    time.sleep(0.6)
    assert not f.received("room_closed")                      # the presenter is here: the room lives
    p.close()
    closed = polled(lambda: f.received("room_closed"))
    assert closed == [{"code": room.code, "reason": "expired",
                       "message": f"Room {room.code} has expired (its presenter was away too long). You can go on "
                                  "exploring; ask the presenter for a new code to follow again."}]
    time.sleep(0.5)
    assert not f.received("room_closed")                      # told once
    assert not f.call("room_vote", {"choice": "yes"})["ok"]
    room.close()


def test_followers_of_an_ended_room_are_told_at_once_and_not_told_it_expired():
    app = make_app(idle=3, sweep=0.2)
    room = Room(app)
    p = room.presenter(step=2)
    f, _ = room.follower()
    f.received()
    assert p.call("room_end", {})["ok"]
    assert f.received("room")[-1]["ended"] is True            # the end is pushed at once
    closed = polled(lambda: f.raw.get_received(NAMESPACE))
    assert [m["args"][0]["reason"] for m in closed if m["name"] == "room_closed"] == ["ended"]
    room.close()


def test_a_comparison_votes_on_both_eras_at_once_and_reveals_both(app):
    room = Room(app)
    p = room.presenter(step=4, eras=("5.9-rc", "5.9"))
    f, joined = room.follower()
    g, _ = room.follower()
    opened = p.call("room_poll", {"action": "open"})
    poll = opened["room"]["poll"]
    assert [q["era"] for q in poll["parts"]] == ["5.9-rc", "5.9"] and poll["status"] == "open"
    assert poll["era"] == "5.9-rc" and poll["key"] == poll["parts"][0]["key"]        # the first, as before
    assert f.received("room")[-1]["poll"]["parts"] == poll["parts"]
    # Each era's question is answered on its own; without `era` a vote goes to the first.
    assert f.call("room_vote", {"choice": "no", "era": "5.9-rc"})["key"] == f"{NAME}|4|5.9-rc"
    assert f.call("room_vote", {"choice": "yes", "era": "5.9"})["key"] == f"{NAME}|4|5.9"
    assert g.call("room_vote", {"choice": "yes"})["era"] == "5.9-rc"
    assert f.call("room_vote", {"choice": "yes", "era": "5.7"}) == {
        "ok": False, "error": "the vote is on 5.9-rc and 5.9, not '5.7'"}
    assert not f.call("room_vote", {"choice": "maybe", "era": "5.9"})["ok"]
    tallies = [m for m in p.received("room_tally")]
    assert tallies[-1] == {"key": f"{NAME}|4|5.9-rc", "tally": {"no": 1, "yes": 1}}
    # A follower that reconnects gets both of its votes back.
    back = room.client()
    again = back.call("room_join", {"code": room.code, "fid": joined["fid"]})
    assert again["votes"] == {f"{NAME}|4|5.9-rc": "no", f"{NAME}|4|5.9": "yes"} and again["vote"] == "no"
    revealed = p.call("room_poll", {"action": "reveal"})
    assert revealed["tallies"] == {f"{NAME}|4|5.9-rc": {"no": 1, "yes": 1}, f"{NAME}|4|5.9": {"yes": 1}}
    msg = f.received("room")[-1]
    assert {"4:5.9-rc", "4:5.9"} <= set(msg["view"]["revealed"])
    assert [(q["era"], q["right"]) for q in msg["poll"]["parts"]] == [("5.9-rc", ["no"]), ("5.9", ["yes"])]
    # Both revealed: nothing is left to vote on at this step.
    assert p.call("room_poll", {"action": "open"})["error"] == "step 4's question has been revealed under every era shown"
    rows = p.call("room_results", {"code": room.code, "secret": room.secret})["csv"].splitlines()
    assert f"{room.code},{NAME},4,5.9-rc,Does fork copy the pinned page for the child?,no,yes,1" in rows
    assert f"{room.code},{NAME},4,5.9,Does fork copy the pinned page for the child?,yes,yes,1" in rows
    room.close()


def test_one_era_of_a_comparison_revealed_first_leaves_the_other_to_vote_on(app):
    room = Room(app)
    p = room.presenter(step=4, eras=("5.9-rc", "5.9"))
    assert p.call("room_view", {"revealed": ["4:5.9-rc"]})["ok"]        # the presenter skipped 5.9-rc
    poll = p.call("room_poll", {"action": "open"})["room"]["poll"]
    assert [q["era"] for q in poll["parts"]] == ["5.9"]
    one = p.call("room_poll", {"action": "open", "era": "5.9-rc"})["room"]["poll"]   # or name the era
    assert [q["era"] for q in one["parts"]] == ["5.9-rc"]
    assert p.call("room_poll", {"action": "open", "era": "5.7"})["error"] == "era '5.7' is not shown"
    room.close()


def test_a_sandbox_room_builds_its_state_once_and_followers_fetch_it_without_replaying(app):
    http = app.test_client()
    r = http.get("/present/sandbox")
    boot = json.loads(re.search(r'id="room-boot">(.*?)</script>', r.text, re.S).group(1))
    from tests.web.test_web_rooms import Client
    p = Client(app, http)
    f = Client(app, app.test_client())
    assert p.call("room_claim", {"code": boot["code"], "secret": boot["secret"]})["ok"]
    assert f.call("room_join", {"code": boot["code"]})["ok"]
    assert http.get(f"/room/{boot['code']}/sandbox.json").status_code == 404      # nothing shown yet
    assert p.call("sandbox", {"era": "5.9"})["ok"]
    for line in ("mmap P buf 2", "write P buf[0] A", "fork P C"):
        mine = p.call("command", {"text": line})
        assert mine["ok"]
        assert p.call("room_view", {})["ok"]
    msg = f.received("room")[-1]
    assert msg["view"]["commands"] == ["mmap P buf 2", "write P buf[0] A", "fork P C"]
    assert msg["state"] == f"/room/{boot['code']}/sandbox.json?seq={msg['seq']}" and len(json.dumps(msg)) < 1200
    got = f.raw.flask_test_client.get(msg["state"], headers={"Accept-Encoding": "gzip"})
    assert got.headers["Content-Encoding"] == "gzip" and got.headers["Cache-Control"] == "no-store"
    shown = json.loads(gzip.decompress(got.data))
    assert shown["seq"] == msg["seq"] and shown["history"] == msg["view"]["commands"] and shown["rev"] is None
    assert shown["panes"][0]["frame"] == mine["panes"][0]["frame"]             # what the presenter's page drew
    assert shown["panes"][0]["objects"] == mine["panes"][0]["objects"]
    assert boot["secret"] not in got.data.decode("latin-1") and boot["secret"] not in json.dumps(shown)
    # The follower's own session was never set up: following cost it no replay.
    assert f.call("command", {"text": "read P buf[0]"})["error"] == "open the sandbox first"
    p.close()
    f.close()
