"""Several server processes share rooms through Redis (issue 14 item 5, docs/deploy.md).

A real redis-server, two `python app.py --message-queue redis://...` processes (one in the default
mode, one in production mode), and nginx in front of both with sticky sessions (by client address).  The presenter is on one process, the
followers on the other: directly, and through nginx (clients bind distinct loopback addresses,
so the hash spreads them; the X-Cowviz-Upstream header of the test config says where each went).
"""
from __future__ import annotations

import http.client
import json
import queue
import re
import socket
from urllib.parse import urlsplit

import pytest

socketio = pytest.importorskip("socketio")

from tests.web import services  # noqa: E402
from tests.web.conftest import start_server, stop_server  # noqa: E402

NS = "/cowviz"
NAME = "01-rdma"


class Peer:
    """A python-socketio client over WebSocket from a chosen loopback source address."""

    def __init__(self, base: str, source: str = "127.0.0.1"):
        u = urlsplit(base)
        sock = socket.create_connection((u.hostname, u.port), timeout=10, source_address=(source, 0))
        self.inbox: queue.Queue = queue.Queue()
        self.sio = socketio.Client(reconnection=False, websocket_extra_options={"socket": sock})
        for name in ("room", "room_tally", "room_followers"):
            self.sio.on(name, (lambda n: lambda data: self.inbox.put((n, data)))(name), namespace=NS)
        self.sio.connect(base, namespaces=[NS], transports=["websocket"], wait_timeout=10)

    def call(self, event, data=None):
        return self.sio.call(event, data, namespace=NS, timeout=30)

    def wait(self, name, pred=lambda d: True, timeout=30):
        while True:
            n, data = self.inbox.get(timeout=timeout)
            if n == name and pred(data):
                return data

    def close(self):
        self.sio.disconnect()


def get(base: str, path: str, source: str = "127.0.0.1"):
    u = urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10, source_address=(source, 0))
    c.request("GET", path)
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, dict(r.getheaders()), body


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("cluster"))
    redis_proc, redis_url = services.start_redis(folder)
    procs = []
    nginx = None
    try:
        a = start_server(extra=["--message-queue", redis_url])
        procs.append(a[0])
        b = start_server(extra=["--production", "--message-queue", redis_url])     # gevent (docs/deploy.md)
        procs.append(b[0])
        upstreams = [urlsplit(a[1]).netloc, urlsplit(b[1]).netloc]
        nginx, front = services.start_nginx(folder, upstreams)
        # Which client address does nginx send where?  One source address per process.
        route = {}
        for i in range(2, 120):
            ip = f"127.0.0.{i}"
            status, headers, _ = get(front, "/", ip)
            assert status == 200
            route.setdefault(headers["X-Cowviz-Upstream"], ip)
            if len(route) == 2:
                break
        assert set(route) == set(upstreams), route
        yield {"a": a[1], "b": b[1], "front": front, "via": {"a": route[upstreams[0]], "b": route[upstreams[1]]},
               "redis": redis_url}
    finally:
        services.stop(nginx)
        for p in procs:
            stop_server(p)
        services.stop(redis_proc)


def make_room(base: str):
    status, _, body = get(base, f"/present/{NAME}?era=5.9")
    assert status == 200, body
    boot = json.loads(re.search(r'id="room-boot">(.*?)</script>', body, re.S).group(1))
    return boot["code"], boot["secret"]


def test_a_presenter_on_one_process_and_followers_on_the_other_directly_and_through_nginx(cluster):
    code, secret = make_room(cluster["a"])
    peers = []
    try:
        presenter = Peer(cluster["a"])
        peers.append(presenter)
        assert presenter.call("room_claim", {"code": code, "secret": secret})["ok"]
        assert presenter.call("open", {"name": NAME, "eras": ["5.9"], "step": 2})["ok"]
        assert presenter.call("room_view", {})["ok"]

        # The other process knows the room (its state is in Redis): the page and a late join.
        status, _, page = get(cluster["b"], f"/join/{code}")
        assert status == 200 and secret not in page
        direct = Peer(cluster["b"])
        peers.append(direct)
        join = direct.call("room_join", {"code": code})
        assert join["ok"] and join["room"]["view"]["step"] == 2 and join["room"]["presenter"] is True

        # Through nginx: one follower lands on each process; both see the room.
        via_b = Peer(cluster["front"], cluster["via"]["b"])
        via_a = Peer(cluster["front"], cluster["via"]["a"])
        peers += [via_b, via_a]
        for f in (via_b, via_a):
            assert f.call("room_join", {"code": code})["room"]["view"]["step"] == 2
        status, headers, page = get(cluster["front"], f"/join/{code}", cluster["via"]["b"])
        assert status == 200 and headers["X-Cowviz-Upstream"] == urlsplit(cluster["b"]).netloc
        presenter.wait("room_followers", lambda d: d["count"] == 3)

        # The presenter steps on process A; every follower hears it, whichever process holds it.
        assert presenter.call("step", {"step": 4})["ok"]
        assert presenter.call("room_view", {"selected": {"pane": 0, "id": "page:1"}})["ok"]
        for f in (direct, via_b, via_a):
            got = f.wait("room", lambda d: d["view"]["step"] == 4)
            assert got["view"]["selected"] == {"pane": 0, "id": "page:1"}

        # A poll: votes on process B reach the presenter's tally on A; the state is shared.
        assert presenter.call("room_poll", {"action": "open"})["ok"]
        for f in (direct, via_b, via_a):
            f.wait("room", lambda d: d["poll"] and d["poll"]["status"] == "open")
        assert direct.call("room_vote", {"choice": "yes"})["ok"]
        assert via_b.call("room_vote", {"choice": "no"})["ok"]
        assert via_a.call("room_vote", {"choice": "yes"})["ok"]
        presenter.wait("room_tally", lambda d: sum(d["tally"].values()) == 3)
        reveal = presenter.call("room_poll", {"action": "reveal"})
        assert reveal["tally"] == {"yes": 2, "no": 1}
        for f in (direct, via_b):
            assert f.wait("room", lambda d: d["poll"]["status"] == "revealed")["poll"]["right"] == ["yes"]

        # The presenter's laptop reconnects, now through nginx onto process B: it resumes.
        presenter.close()
        via_a.wait("room", lambda d: d["presenter"] is False)
        back = Peer(cluster["front"], cluster["via"]["b"])
        peers.append(back)
        claim = back.call("room_claim", {"code": code, "secret": secret})
        assert claim["ok"] and claim["followers"] == 3 and claim["room"]["view"]["step"] == 4
        assert back.call("open", {"name": NAME, "eras": ["5.9"], "step": 5})["ok"]
        assert back.call("room_view", {})["ok"]
        for f in (direct, via_a):
            f.wait("room", lambda d: d["view"]["step"] == 5)
        # A follower still cannot drive, on any process; a forged key is refused on every one.
        assert via_a.call("room_view", {}) == {"ok": False, "error": "only the presenter can change what the room sees"}
        stranger = Peer(cluster["a"])
        peers.append(stranger)
        assert not stranger.call("room_claim", {"code": code, "secret": secret[:-1] + "A"})["ok"]
        csv_text = back.call("room_results", {"code": code, "secret": secret})["csv"]
        assert "yes,yes,2" in csv_text and "no,no,1" in csv_text
        assert back.call("room_end", {})["ok"]
        assert via_a.wait("room", lambda d: d["ended"])["ended"]
        assert not stranger.call("room_join", {"code": code})["ok"]
    finally:
        for p in peers:
            try:
                p.close()
            except Exception:
                pass
