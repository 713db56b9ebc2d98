"""Security: the Host allow-list (HTTP and the Socket.IO handshake), the headers, narration that
loads nothing from other hosts, and the lab staying off unless asked for (docs/security.md)."""
from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from app import create_app
from cowviz.web.markdown import render_inline, render_markdown
from cowviz.web.security import HostGuard, host_name, policy, security_config

from .conftest import ROOT, SCENARIOS, start_server, stop_server

PAGES = ["/", "/tutorial", "/sandbox", "/play/01-rdma", "/static/js/settings.js", "/nope"]


def test_a_foreign_host_is_refused_on_every_page(client):
    for path in PAGES:
        r = client.get(path, headers={"Host": "evil.example:5000"})
        assert r.status_code == 400, path
        assert "--allow-host" in r.get_data(as_text=True)


@pytest.mark.parametrize("host", ["localhost", "localhost:5000", "127.0.0.1:5000", "[::1]:5000", "LOCALHOST."])
def test_loopback_is_allowed_by_default(client, host):
    assert client.get("/", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "10.1.2.3:5000", "local host", "a:b:c", "x:\u00b9", "", "[zz]:1",
                                  "localhost.evil.example", "127.0.0.1.evil.example"])
def test_odd_or_foreign_hosts_are_refused(client, host):
    assert client.get("/", headers={"Host": host}).status_code == 400


def test_a_foreign_origin_is_refused_even_with_a_good_host(client):
    r = client.get("/", headers={"Host": "localhost:5000", "Origin": "http://evil.example:5000"})
    assert r.status_code == 400
    assert client.get("/", headers={"Host": "localhost:5000", "Origin": "http://localhost:5000"}).status_code == 200


def test_allow_host_and_a_wildcard_bind():
    app = create_app({"TESTING": True, "COWVIZ_SCENARIOS": SCENARIOS,
                      **security_config("0.0.0.0", ["classroom.example"])})
    c = app.test_client()
    assert c.get("/", headers={"Host": "classroom.example:5000"}).status_code == 200
    assert c.get("/", headers={"Host": "192.168.1.20:5000"}).status_code == 200     # an address cannot be rebound
    assert c.get("/", headers={"Host": "evil.example:5000"}).status_code == 400
    bound = security_config("192.168.1.20")
    assert bound["COWVIZ_ALLOWED_HOSTS"] == ["192.168.1.20"] and not bound["COWVIZ_ANY_IP_HOST"]


def test_headers_on_every_response(client):
    for path in PAGES:
        r = client.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self';" in csp and "style-src 'self';" in csp
        assert "unsafe" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        assert r.headers["X-Frame-Options"] == "DENY"


def test_frame_ancestors_can_be_widened_for_a_course_site():
    app = create_app({"TESTING": True, "COWVIZ_SCENARIOS": SCENARIOS,
                      **security_config("127.0.0.1", (), ["https://moodle.example.edu", "self"])})
    r = app.test_client().get("/play/01-rdma")
    assert "frame-ancestors https://moodle.example.edu 'self'" in r.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in r.headers
    with pytest.raises(ValueError):
        security_config("127.0.0.1", (), ["https://x.edu; script-src *"])


def test_a_bad_flag_is_a_usage_error():
    for args in (["--frame-ancestors", "https://a.edu; script-src *"], ["--allow-host", "a b"]):
        done = subprocess.run([sys.executable, "app.py", "--port", "1", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 2 and "error:" in done.stderr and "Traceback" not in done.stderr


def test_templates_have_no_inline_script_or_style(client):
    import re
    for path in ["/", "/tutorial", "/sandbox", "/play/01-rdma", "/play/missing"]:
        html = client.get(path).get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert "style=" not in html and "javascript:" not in html, path


def test_host_name_parsing():
    assert host_name("Example.COM:80") == "example.com"
    assert host_name("[::1]:5000") == "::1"
    assert host_name("a:\u0665") is None and host_name("x" * 400) is None and host_name(None) is None
    guard = HostGuard(None)
    assert guard.allows("127.0.0.1") and guard.allows("::1") and not guard.allows("evil.example")
    assert "unsafe-inline" not in policy()


# -- the Socket.IO handshake on the real server (DNS rebinding) --------------------------------------

@pytest.fixture(scope="module")
def server():
    proc, url = start_server(extra=["--allow-host", "classroom.example"])
    yield url
    stop_server(proc)


def _handshake(url, host, origin=None):
    headers = {"Host": host}
    if origin:
        headers["Origin"] = origin
    return requests.get(url + "/socket.io/?EIO=4&transport=polling", headers=headers, timeout=10)


def test_dns_rebinding_is_refused_at_the_handshake(server):
    port = server.rsplit(":", 1)[1]
    evil = f"evil.example:{port}"
    r = _handshake(server, evil, f"http://{evil}")
    assert r.status_code == 400 and "host name" in r.text
    assert _handshake(server, f"127.0.0.1:{port}", f"http://evil.example:{port}").status_code == 400
    assert _handshake(server, f"127.0.0.1:{port}", f"http://127.0.0.1:{port}").status_code == 200
    assert _handshake(server, f"classroom.example:{port}", f"http://classroom.example:{port}").status_code == 200
    r = requests.get(server + "/", headers={"Host": evil}, timeout=10)
    assert r.status_code == 400


def test_a_real_socketio_client_still_connects(server):
    import socketio
    c = socketio.Client()
    c.connect(server, namespaces=["/cowviz"], transports=["websocket"])
    try:
        reply = c.call("sandbox", {"era": "5.9"}, namespace="/cowviz", timeout=30)
        assert reply["ok"]
    finally:
        c.disconnect()


# -- narration loads nothing from another host --------------------------------------------------------

def test_narration_images_from_other_hosts_are_dropped():
    for src in ["https://evil.example/x.png", "//evil.example/x.png", "http://127.0.0.1:9/x", "data:image/png;base64,AA",
                "HTTPS://EVIL/x", " https://evil/x", "\\\\evil\\x"]:
        html = render_markdown(f"look ![a diagram]({src}) here")
        assert "<img" not in html or 'src="%5C' in html, (src, html)
        assert "a diagram" in html
        assert "<img" not in render_inline(f"![x]({src})") or "%5C" in src or "\\" in src
    assert '<span class="image-dropped">a diagram</span>' in render_markdown("![a diagram](https://e.x/p.png)")


def test_narration_tables_align_by_class_not_style():
    html = render_markdown("|a|b|\n|:-|-:|\n|1|2|")
    assert "style=" not in html and 'class="align-right"' in html


# -- the lab (real processes) and authoring writes stay off without their flags ------------------------

def test_the_lab_is_off_by_default(app, sock, monkeypatch):
    assert app.config["COWVIZ_LAB"] is False
    assert sock.call("open", {"name": "01-rdma"})["ok"]
    reply = sock.call("lab", {})
    assert reply == {"ok": False, "error": "the live-kernel lab is off on this server (start it with --lab)"}
    assert sock.call("sandbox", {})["ok"] and sock.call("command", {"text": "mmap P buf 1"})["ok"]
    assert sock.call("lab", {})["ok"] is False


def test_the_pages_say_the_lab_is_off(client):
    import json
    import re
    for path in ["/sandbox", "/play/01-rdma"]:
        boot = re.search(r'<script type="application/json" id="boot">(.*?)</script>', client.get(path).get_data(as_text=True))
        assert json.loads(boot.group(1))["lab"] is False


def test_authoring_writes_are_off_without_author(client, tmp_path):
    r = client.post("/edit/save", json={"name": "x", "text": "title: t\nsteps:\n  - do: mmap P b 1\n"})
    assert r.status_code == 403 and r.get_json()["ok"] is False and "--author" in r.get_json()["error"]
    app = create_app({"TESTING": True, "COWVIZ_SCENARIOS": SCENARIOS, "COWVIZ_AUTHOR": str(tmp_path)})
    r = app.test_client().post("/edit/save", json={"name": "x", "text": "title: t\nsteps:\n  - do: mmap P b 1\n"})
    assert r.status_code == 200 and (tmp_path / "x.yaml").exists()


def test_no_route_writes(client):
    for path in ["/", "/tutorial", "/sandbox", "/play/01-rdma", "/export/01-rdma.svg", "/static/js/settings.js"]:
        for method in (client.post, client.put, client.delete, client.patch):
            assert method(path, data="x").status_code == 405, (method, path)
