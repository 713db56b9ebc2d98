"""The HTTP pages through Flask's test client: library, tutorial, player, sandbox, the socket.io client file."""
from __future__ import annotations

import json
import re

from app import create_app
from tests.web.conftest import SCENARIOS


def boot_of(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="boot">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def test_the_app_uses_threading_and_the_configured_folder(app):
    assert app.extensions["socketio"].async_mode == "threading"
    assert app.extensions["cowviz"]["library"].folder == SCENARIOS
    assert app.config["COWVIZ_LAB"] is False


def test_library_lists_walkthroughs_with_title_summary_eras_and_level(client):
    html = client.get("/").get_data(as_text=True)
    assert "The RDMA regression, in short" in html and "Reads and the zero page" in html
    assert "<em>shared zero page</em>" in html                   # the summary's Markdown, rendered
    assert "intermediate" in html and "beginner" in html
    assert 'href="/play/01-rdma?compare=5.9-rc,5.9"' in html       # compare: opens the comparison view
    assert 'href="/play/02-zero-page"' in html
    assert "Reference scenarios" in html and "Reference: parent writes after fork" in html


def test_library_shows_a_broken_file_with_its_position(client):
    html = client.get("/").get_data(as_text=True)
    assert "reference/broken.yaml:3:9: unknown command &#39;frobnicate&#39;" in html


def test_tutorial_lists_the_series_in_order_with_next_links(client):
    html = client.get("/tutorial").get_data(as_text=True)
    names = re.findall(r'class="series-item" data-name="([^"]+)"', html)
    assert names == ["01-rdma", "02-zero-page"]
    assert "then: Reads and the zero page" in html
    assert 'data-total="6"' in html


def test_player_page_boots_with_the_walkthrough(client):
    r = client.get("/play/01-rdma")
    assert r.status_code == 200
    boot = boot_of(r.get_data(as_text=True))
    assert boot["name"] == "01-rdma" and boot["kernel"] == "5.9-rc" and boot["compare"] == ["5.9-rc", "5.9"]
    assert boot["next"] == "02-zero-page" and boot["lab"] is False
    assert [e["id"] for e in boot["all_eras"]] == ["5.7", "5.8", "5.9-rc", "5.9", "5.19", "6.x"]
    assert boot_of(client.get("/play/02-zero-page").get_data(as_text=True))["next"] is None


def test_player_page_for_a_subfolder_scenario(client):
    assert client.get("/play/reference/basic-cow").status_code == 200


def test_unknown_or_broken_walkthrough_is_a_404_with_the_reason(client):
    r = client.get("/play/no-such-thing")
    assert r.status_code == 404 and "unknown walkthrough &#39;no-such-thing&#39;" in r.get_data(as_text=True)
    r = client.get("/play/reference/broken")
    assert r.status_code == 404 and "broken.yaml:3:9" in r.get_data(as_text=True)
    assert client.get("/play/../app").status_code == 404


def test_sandbox_page_boots_with_limits_and_the_command_list(client):
    boot = boot_of(client.get("/sandbox").get_data(as_text=True))
    assert boot["limits"]["pages"] == 16 and boot["default_era"] == "5.9"
    assert "fork PARENT CHILD" in boot["usage"]


def test_the_socketio_client_is_served_from_node_modules(client):
    r = client.get("/vendor/socket.io.esm.min.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert b"export{" in r.data
    assert client.get("/vendor/socket.io.min.js").status_code == 404      # only the listed files
    assert client.get("/vendor/../package.json").status_code == 404


def test_a_missing_socketio_client_says_how_to_install_it(tmp_path):
    app = create_app({"COWVIZ_SCENARIOS": SCENARIOS, "COWVIZ_NODE_MODULES": str(tmp_path)})
    r = app.test_client().get("/vendor/socket.io.esm.min.js")
    assert r.status_code == 503 and b"scripts/setup.sh" in r.data


def test_pages_load_nothing_from_other_hosts(client):
    for url in ("/", "/tutorial", "/play/01-rdma", "/sandbox"):
        html = client.get(url).get_data(as_text=True)
        for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not re.match(r"(https?:)?//", ref), f"{url} loads {ref}"


def test_static_modules_import_only_local_files(client):
    from cowviz.web.editor import ROOTS as EDITOR_PACKAGES
    import os
    folder = os.path.join(os.path.dirname(SCENARIOS), "..", "..", "static", "js")
    for name in os.listdir(folder):
        text = open(os.path.join(folder, name), encoding="utf-8").read()
        for spec in re.findall(r'^import .*? from "([^"]+)";', text, re.M):
            # Bare specifiers only for the editor's npm packages, which the page's import map resolves.
            assert spec.startswith(("./", "/vendor/")) or spec in EDITOR_PACKAGES, f"{name} imports {spec}"
            if spec.startswith("./"):
                assert client.get(f"/static/js/{spec[2:]}").status_code == 200


def test_lab_flag_from_the_environment(monkeypatch):
    monkeypatch.setenv("COWVIZ_LAB", "1")
    assert create_app({"COWVIZ_SCENARIOS": SCENARIOS}).config["COWVIZ_LAB"] is True


def test_a_step_exports_as_svg_and_png(client):
    r = client.get("/export/01-rdma.svg?era=5.9&step=4")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    assert b'id="page:2"' in r.data and b'id="task:C"' in r.data
    assert 'filename="01-rdma-5.9-step04.svg"' in r.headers["Content-Disposition"]
    r = client.get("/export/01-rdma.png?step=0")
    assert r.status_code == 200 and r.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get("/export/01-rdma.svg?step=99").status_code == 404
    assert b"unknown era" in client.get("/export/01-rdma.svg?era=4.4").data
    assert client.get("/export/nope.svg").status_code == 404
