"""Many clients: the start-up warm-up, per-layout locks, and production mode (`app.py --production`)
started the way a user starts it, driven by real Socket.IO clients over loopback.  Small numbers
here; the large ones (1,000 clients, 1,000 half-sent requests, 6,000 connects) are in
bench/bench_clients.py."""
from __future__ import annotations

import gc
import os
import socket
import subprocess
import threading
import time

import pytest
import requests
import socketio

from cowviz.web import frames as frames_module
from cowviz.web.frames import FrameSource
from cowviz.web.library import Library
from cowviz.web.session import Session
from cowviz.web.warm import Warmer

from .conftest import NAMESPACE, ROOT, SCENARIOS, free_port, start_server, stop_server


class Refused(Exception):
    pass


def connect(url, transports=("websocket",)):
    """A connected python-socketio client; Refused(the server's message) if the server refuses."""
    c = socketio.Client(reconnection=False)
    refusal = []
    c.on("connect_error", lambda data=None: refusal.append(data), namespace=NAMESPACE)
    try:
        c.connect(url, namespaces=[NAMESPACE], transports=list(transports), wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        if refusal:
            raise Refused(refusal[0]) from None
        raise
    return c


def read_until(proc, text, seconds=60):
    """Lines of the server's output up to the first containing `text` (fails after `seconds`)."""
    lines, found = [], threading.Event()

    def reader():
        for line in proc.stdout:
            lines.append(line)
            if text in line:
                found.set()
                return
    threading.Thread(target=reader, daemon=True).start()
    assert found.wait(seconds), f"no {text!r} from the server in {seconds} s: {''.join(lines)}"
    return lines


# -- warm-up and locks (in process) ----------------------------------------------------------------

def test_the_warmer_runs_and_lays_out_every_walkthrough_before_anyone_asks():
    library, frames = Library(SCENARIOS), FrameSource()
    warmer = Warmer(library, lambda: Session(library, frames), freeze=False)
    pairs = warmer.pairs()
    assert ("01-rdma", "5.9-rc") in pairs and ("01-rdma", "5.9") in pairs
    assert not any(name == "reference/broken" for name, _ in pairs)        # a broken file is skipped
    warmer.run()
    assert warmer.done.is_set() and warmer.warmed == len(pairs) and not warmer.errors
    for name, era in pairs:
        prepared = library.prepared(name, era)
        assert prepared.frames is not None and None not in prepared.frames
        assert None not in prepared.objects                                  # inspector data of every step
    # A learner's open and steps now find everything made: no layout, no Graphviz run.
    from cowviz.diagram.graphviz import CACHE
    runs = CACHE.runs
    laid_out = []
    real = frames_module.layout_run
    frames_module.layout_run = lambda *a, **k: laid_out.append(a) or real(*a, **k)
    try:
        s = Session(library, frames)
        s.handle("open", {"name": "01-rdma", "eras": ["5.9-rc", "5.9"], "step": 6, "reveal": True})
        s.handle("step", {"step": 3})
    finally:
        frames_module.layout_run = real
    assert laid_out == [] and CACHE.runs == runs


def test_after_warming_every_pane_is_encoded_and_its_text_is_the_plain_encoding():
    """What the class's requests send is made at start-up, bytes included; and it is what json would send."""
    import json
    from cowviz.web.packets import Pane, SharedList
    library, frames = Library(SCENARIOS), FrameSource()
    warmer = Warmer(library, lambda: Session(library, frames), freeze=False)
    warmer.run()
    count = 0
    for name, era in warmer.pairs():
        prepared = library.prepared(name, era)
        assert all((k, False) in prepared.panes for k in range(len(prepared.run.steps) + 1))   # (step, held)
        for key, value in prepared.panes.items():
            if key == "pack":                          # a room's pack (packs.py): made when a room asks
                continue
            assert type(value) in (Pane, SharedList) and value._text is not None, (name, era, key)
            assert value._text == json.dumps(value, separators=(",", ":"))
            count += 1
    assert count > 50


def test_after_warming_the_caches_are_frozen_out_of_the_garbage_collector():
    library, frames = Library(SCENARIOS), FrameSource()
    warmer = Warmer(library, lambda: Session(library, frames))
    try:
        warmer.run()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_cold_layouts_of_different_runs_do_not_wait_for_each_other(monkeypatch):
    """One slow layout (held here) must not hold up the layout of another walkthrough."""
    library, frames = Library(SCENARIOS), FrameSource()
    slow, fast = library.prepared("01-rdma", "5.9"), library.prepared("02-zero-page", "6.x")
    started, release = threading.Event(), threading.Event()
    real = frames_module.layout_run

    def layout_run(run, *a, **k):
        if run is slow.run:
            started.set()
            assert release.wait(30)
        return real(run, *a, **k)
    monkeypatch.setattr(frames_module, "layout_run", layout_run)
    t = threading.Thread(target=frames.walkthrough, args=(slow,))
    t.start()
    try:
        assert started.wait(30)
        t0 = time.monotonic()
        frame_at = frames.walkthrough(fast)            # would block on one global lock
        assert frame_at(0) is not None and time.monotonic() - t0 < 20
        assert slow.frames is None                     # the slow one is still being laid out
    finally:
        release.set()
        t.join(30)
    assert slow.frames is not None


def test_two_requests_for_the_same_cold_run_lay_it_out_once(monkeypatch):
    library, frames = Library(SCENARIOS), FrameSource()
    prepared = library.prepared("01-rdma", "5.9-rc")
    calls = []
    real = frames_module.layout_run

    def layout_run(run, *a, **k):
        calls.append(run)
        time.sleep(0.3)
        return real(run, *a, **k)
    monkeypatch.setattr(frames_module, "layout_run", layout_run)
    threads = [threading.Thread(target=frames.walkthrough, args=(prepared,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(calls) == 1 and prepared.frames is not None


def test_the_default_server_warms_in_the_background_and_says_when_it_is_ready():
    n = len(Warmer(Library(SCENARIOS), None).pairs())
    proc, url = start_server()                           # returns once the server answers HTTP
    try:
        text = "".join(read_until(proc, "walkthroughs ready"))
        assert f"warming {n} walkthrough layouts in the background" in text
        assert f"walkthroughs ready: {n} layouts" in text
    finally:
        stop_server(proc)


# -- production mode ------------------------------------------------------------------------------

def start_run_sh(*args):
    """`./run.sh --port N ...` (the set-up check, then python app.py), as docs/deploy.md says."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("COWVIZ_LAB", None)
    proc = subprocess.Popen(["./run.sh", "--port", str(port), "--library", SCENARIOS, *args], cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        assert proc.poll() is None, f"./run.sh exited with {proc.returncode}: {proc.stdout.read()}"
        try:
            if requests.get(url + "/", timeout=1).status_code == 200:
                return proc, url
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, "./run.sh --production did not answer within 300 s"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def production():
    """`./run.sh --production --max-clients 3 ...`, as docs/deploy.md starts it."""
    proc, url = start_run_sh("--production", "--max-clients", "3")
    lines = read_until(proc, "walkthroughs ready")
    assert any("production server (gevent): at most 3 clients" in line for line in lines)
    yield url
    stop_server(proc)


def test_production_mode_serves_pages_and_socketio_over_websocket_and_polling(production):
    assert requests.get(production + "/", timeout=10).status_code == 200
    assert requests.get(production + "/play/01-rdma", timeout=10).status_code == 200
    for transports in (("websocket",), ("polling",)):
        c = connect(production, transports)
        try:
            assert c.transport() == transports[0]
            r = c.call("open", {"name": "01-rdma", "eras": ["5.9-rc", "5.9"]}, namespace=NAMESPACE, timeout=10)
            assert r["ok"] and [p["era"] for p in r["panes"]] == ["5.9-rc", "5.9"]
            r = c.call("step", {"step": 4}, namespace=NAMESPACE, timeout=10)
            assert r["ok"] and r["panes"][0]["held"]                      # an ask holds the outcome
            r = c.call("answer", {"step": 4, "era": "5.9", "choice": "skip"}, namespace=NAMESPACE, timeout=10)
            assert r["ok"] and r["revealed"]
            r = c.call("sandbox", {"era": "6.x"}, namespace=NAMESPACE, timeout=10)
            r = c.call("command", {"text": "mmap P buf 2"}, namespace=NAMESPACE, timeout=10)
            assert r["ok"] and r["history"] == ["mmap P buf 2"]
        finally:
            c.disconnect()


def test_production_mode_refuses_clients_past_its_limit_with_a_message_and_recovers(production):
    clients = [connect(production) for _ in range(3)]
    try:
        with pytest.raises(Refused) as e:
            connect(production)
        assert e.value.args[0] == {"message": "the cowviz server is full (3 connections); try again in a minute"}
        # The ones already in are served as before.
        assert clients[0].call("open", {"name": "02-zero-page"}, namespace=NAMESPACE, timeout=10)["ok"]
        clients.pop().disconnect()
        deadline = time.monotonic() + 10
        while True:                                       # the server notices the leave at once or soon
            try:
                clients.append(connect(production))
                break
            except Refused:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert clients[-1].call("open", {"name": "01-rdma"}, namespace=NAMESPACE, timeout=10)["ok"]
    finally:
        for c in clients:
            c.disconnect()


def half_sent(url, count):
    port = int(url.rsplit(":", 1)[1])
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")   # the headers never end
        socks.append(s)
    return socks


def closed_by_server(s) -> bool:
    s.settimeout(0.5)
    try:
        return s.recv(1024) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def test_production_mode_is_not_held_up_by_half_sent_requests():
    proc, url = start_server(extra=["--production", "--no-warm", "--header-timeout", "2",
                                    "--max-connections", "60"])
    socks = []
    try:
        socks = half_sent(url, 40)
        # A learner still gets in and is served promptly...
        t0 = time.monotonic()
        c = connect(url)
        try:
            assert c.call("open", {"name": "01-rdma"}, namespace=NAMESPACE, timeout=10)["ok"]
            assert c.call("step", {"step": 2}, namespace=NAMESPACE, timeout=10)["ok"]
            assert time.monotonic() - t0 < 10
            # ...and keeps being served after the server has dropped the slow requests (the head
            # timeout is for the request's head only, not for a WebSocket once it is open).
            time.sleep(3)
            assert sum(closed_by_server(s) for s in socks) == len(socks)
            assert c.call("step", {"step": 3}, namespace=NAMESPACE, timeout=10)["ok"]
        finally:
            c.disconnect()
    finally:
        for s in socks:
            s.close()
        stop_server(proc)


def test_production_mode_answers_503_past_its_connection_limit():
    proc, url = start_server(extra=["--production", "--no-warm", "--header-timeout", "30",
                                    "--max-connections", "8"])
    socks = []
    try:
        deadline = time.monotonic() + 10                 # start_server's own probe may still be counted
        while True:
            socks = half_sent(url, 8)
            time.sleep(0.3)
            r = requests.get(url + "/", timeout=10)
            if r.status_code == 503 or time.monotonic() > deadline:
                break
            for s in socks:
                s.close()
        assert r.status_code == 503 and "the cowviz server is full" in r.text
        assert r.headers["Retry-After"] == "60"
        for s in socks:
            s.close()
        socks = []
        time.sleep(0.5)
        assert requests.get(url + "/", timeout=10).status_code == 200      # and it recovers
    finally:
        for s in socks:
            s.close()
        stop_server(proc)


def test_a_browser_turned_away_by_a_full_server_says_so(production):
    """The page of a learner past the limit says the server is full, at once, instead of waiting."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from .test_web_browser import CHROMIUM, FLAGS
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's chromium")
    clients = [connect(production) for _ in range(3)]
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1024, "height": 768})
                errors = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(production + "/play/01-rdma")
                sync_api.expect(page.locator("#conn")).to_have_text("○ server full", timeout=10000)
                sync_api.expect(page.get_by_text("the cowviz server is full (3 connections)").first).to_be_visible(
                    timeout=5000)
                os.makedirs("/tmp/shots-scale", exist_ok=True)
                page.screenshot(path="/tmp/shots-scale/server-full.png")
                assert not errors
            finally:
                browser.close()
    finally:
        for c in clients:
            c.disconnect()
