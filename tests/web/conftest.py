"""Fixtures for the web tests: the app in process (Flask and Flask-SocketIO test clients), and the
real server started the way a user starts it (`python app.py --port N`) for network and browser tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import requests

from app import create_app

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = os.path.join(ROOT, "tests", "web", "scenarios")
NAMESPACE = "/cowviz"


@pytest.fixture
def app():
    return create_app({"TESTING": True, "COWVIZ_SCENARIOS": SCENARIOS})


@pytest.fixture
def client(app):
    return app.test_client()


class Sock:
    """A Flask-SocketIO test client for /cowviz: call(event, data) returns the acknowledgement."""

    def __init__(self, app, flask_client):
        self.raw = app.extensions["socketio"].test_client(app, namespace=NAMESPACE, flask_test_client=flask_client)

    def call(self, event, data=None):
        return self.raw.emit(event, data, namespace=NAMESPACE, callback=True)


@pytest.fixture
def make_sock(app, client):
    """More connections to the same app: make_sock() -> Sock."""
    made = []

    def make():
        made.append(Sock(app, client))
        return made[-1]

    yield make
    for s in made:
        if s.raw.is_connected(NAMESPACE):
            s.raw.disconnect(namespace=NAMESPACE)


@pytest.fixture
def sock(make_sock):
    return make_sock()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(scenarios: str = SCENARIOS, extra=(), quiet=False):
    """`python app.py --port N` in a subprocess; returns (process, base url) once it answers HTTP."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("COWVIZ_LAB", None)
    # quiet: the server's log goes to a file, for servers whose output nobody reads (a pipe nobody
    # reads fills up after a few hundred requests and then blocks the server); else proc.stdout.
    log = tempfile.TemporaryFile(mode="w+") if quiet else subprocess.PIPE
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--library", scenarios, *extra],
                            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            if quiet:
                log.seek(0)
            raise RuntimeError(f"the server exited with {proc.returncode}: {(log if quiet else proc.stdout).read()}")
        try:
            if requests.get(url + "/", timeout=5).status_code == 200:
                return proc, url
        except (requests.ConnectionError, requests.Timeout):     # not up yet, or busy starting
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the server did not start within 30 s")
        time.sleep(0.1)


def connect(url):
    """A python-socketio client connected to the real server's namespace over the WebSocket."""
    import socketio
    c = socketio.Client(reconnection=False)
    c.connect(url, namespaces=[NAMESPACE], transports=["websocket"], wait_timeout=30)
    return c


def stop_server(proc):
    """Stop a process the tests started (the server, redis, nginx); nothing to do if it has ended."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def live_server():
    proc, url = start_server(quiet=True)
    yield url
    stop_server(proc)
