"""The fast lane (cowviz/web/ordered.py): a `step` the shared caches answer is answered as it arrives,
and everything else still runs in order through the connection's queue.  The mechanism with a stand-in
server, then real servers (development and production mode) driven by real Socket.IO clients."""
from __future__ import annotations

import json
import threading

import pytest
import socketio

from cowviz.web import ordered
from cowviz.web.frames import FrameSource
from cowviz.web.library import Library
from cowviz.web.packets import encode
from cowviz.web.session import Session

from .conftest import NAMESPACE, SCENARIOS, connect, start_server, stop_server


class FakeServer:
    """What ordered.install needs of python-socketio's Server."""

    async_handlers = True
    logger = None

    def __init__(self):
        self.ran, self.tasks, self.sent = [], [], []
        outer = self

        class Manager:
            def sid_from_eio_sid(self, eio_sid, namespace):
                return "s-" + eio_sid

            def is_connected(self, sid, namespace):
                return True
        self.manager = Manager()
        self.packet_class = socketio.packet.Packet
        self._outer = outer

    def _handle_event(self, *a):
        raise AssertionError("not used")

    def _handle_event_internal(self, server, sid, eio_sid, data, namespace, id):
        self.ran.append(data)

    def start_background_task(self, fn, *args):
        self.tasks.append((fn, args))

    def _send_packet(self, eio_sid, pkt):
        self.sent.append((eio_sid, pkt.packet_type, pkt.id, pkt.data))


def test_an_idle_connections_cheap_event_is_answered_at_once():
    srv = FakeServer()
    asked = []

    def inline(sid, namespace, data):
        asked.append((sid, namespace, data))
        return {"ok": True, "step": data[1]["step"]} if data[0] == "step" else None

    ordered.install(srv, inline=inline)
    srv._handle_event("e1", "/cowviz", 7, ["step", {"step": 2}])
    assert asked == [("s-e1", "/cowviz", ["step", {"step": 2}])]
    assert srv.sent == [("e1", socketio.packet.ACK, 7, [{"ok": True, "step": 2}])]
    assert srv.tasks == [] and srv.ran == []                 # no task, no queue


def test_what_the_fast_lane_declines_and_whatever_follows_it_go_through_the_queue_in_order():
    srv = FakeServer()
    asked = []

    def inline(sid, namespace, data):
        asked.append(data[0])
        return {"ok": True} if data[0] == "step" else None

    ordered.install(srv, inline=inline)
    srv._handle_event("e1", "/cowviz", 1, ["open", {"name": "x"}])       # declined: queued, a worker starts
    srv._handle_event("e1", "/cowviz", 2, ["step", {"step": 1}])        # behind it: never answered first
    srv._handle_event("e2", "/cowviz", 3, ["step", {"step": 1}])        # another, idle connection: at once
    assert asked == ["open", "step"]
    assert srv.sent == [("e2", socketio.packet.ACK, 3, [{"ok": True}])]
    assert len(srv.tasks) == 1
    fn, args = srv.tasks[0]
    fn(*args)
    assert srv.ran == [["open", {"name": "x"}], ["step", {"step": 1}]]
    srv._handle_event("e1", "/cowviz", 4, ["step", {"step": 2}])        # the queue is empty again: at once
    assert srv.sent[-1] == ("e1", socketio.packet.ACK, 4, [{"ok": True}])


@pytest.fixture(scope="module", params=["development", "production"])
def server(request):
    proc, url = start_server(extra=["--no-warm"] + (["--production"] if request.param == "production" else []),
                             quiet=True)
    yield url
    stop_server(proc)


def plain(reply):
    """A reply as the server encodes it, decoded (what a client receives)."""
    return json.loads(encode([reply]))[0]


def test_a_fast_lane_reply_is_the_reply_the_handler_makes(server):
    library, frames = Library(SCENARIOS), FrameSource()
    local = Session(library, frames)
    local.handle("open", {"name": "01-rdma", "eras": ["5.9-rc", "5.9"], "reveal": True})
    c = connect(server)
    try:
        ask = {"name": "01-rdma", "eras": ["5.9-rc", "5.9"], "reveal": True}
        assert c.call("open", ask, namespace=NAMESPACE, timeout=60)["ok"]          # (lays out: queued)
        for again in ({**ask, "step": 2}, ask):                                    # (laid out: at once)
            assert c.call("open", again, namespace=NAMESPACE, timeout=30) == plain({"ok": True, **local.handle("open", again)})
        assert c.call("open", {**ask, "step": 7}, namespace=NAMESPACE, timeout=30) == {
            "ok": False, "error": "step 7 is out of range: this walkthrough has steps 0-6"}
        for step, reveal in [(1, True), (4, False), (4, ["5.9"]), (6, True), (0, True)]:
            got = c.call("step", {"step": step, "reveal": reveal}, namespace=NAMESPACE, timeout=30)
            assert got == plain({"ok": True, **local.handle("step", {"step": step, "reveal": reveal})})
        # Bad input on the fast lane gets the same clear message, and the state stays.
        assert c.call("step", {"step": 99}, namespace=NAMESPACE, timeout=30) == {
            "ok": False, "error": "step 99 is out of range: this walkthrough has steps 0-6"}
        assert c.call("step", {"step": "٣"}, namespace=NAMESPACE, timeout=30)["ok"] is False
        assert c.call("step", ({"step": 1}, "extra"), namespace=NAMESPACE, timeout=30) == {
            "ok": False, "error": "'step' takes one argument (a JSON object), got 2"}
        assert c.call("step", {"step": 2}, namespace=NAMESPACE, timeout=30)["step"] == 2
    finally:
        c.disconnect()


def test_steps_sent_behind_an_open_without_waiting_are_answered_after_it_in_order(server):
    c = connect(server)
    try:
        assert c.call("open", {"name": "02-zero-page", "reveal": True}, namespace=NAMESPACE, timeout=60)["ok"]
        replies, done = [], threading.Event()

        def ack(r):
            replies.append(r)
            if len(replies) == 8:
                done.set()
        # step (fast), open of another walkthrough (queued: may lay out), then steps that must see it.
        c.emit("step", {"step": 1, "reveal": True}, namespace=NAMESPACE, callback=ack)
        c.emit("open", {"name": "01-rdma", "eras": ["5.9"], "reveal": True}, namespace=NAMESPACE, callback=ack)
        for step in (1, 2, 3, 4, 5, 6):
            c.emit("step", {"step": step, "reveal": True}, namespace=NAMESPACE, callback=ack)
        assert done.wait(120)
        assert all(r["ok"] for r in replies), replies
        assert replies[1]["scenario"]["name"] == "01-rdma"
        assert [r["step"] for r in replies[2:]] == [1, 2, 3, 4, 5, 6]
        assert all(r["panes"][0]["total"] == 6 and r["panes"][0]["era"] == "5.9" for r in replies[2:])
    finally:
        c.disconnect()


def test_a_polling_client_upgrades_to_the_websocket(server):
    c = socketio.Client(reconnection=False)
    c.connect(server, namespaces=[NAMESPACE], wait_timeout=30)         # polling first, then the upgrade
    try:
        assert c.call("open", {"name": "01-rdma", "reveal": True}, namespace=NAMESPACE, timeout=60)["ok"]
        for _ in range(50):
            if c.transport() == "websocket":
                break
            c.sleep(0.1)
        assert c.transport() == "websocket"
        assert c.call("step", {"step": 3, "reveal": True}, namespace=NAMESPACE, timeout=30)["step"] == 3
    finally:
        c.disconnect()
