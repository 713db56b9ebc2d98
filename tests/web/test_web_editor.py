"""The editor's server side: the page and its modules, drafts (checked and run, never written), Save
with --author (atomic, only inside the folder), Record, and the library's watched folders."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import threading

import pytest

from app import create_app
from cowviz.scenario import parse_scenario, run_commands, run_scenario
from cowviz.web.editor import save_into
from cowviz.web.library import Library, WebError
from cowviz.web.record import record_yaml
from cowviz.web.sandbox import Sandbox
from tests.web.conftest import SCENARIOS, Sock


NO_CODEMIRROR = pytest.mark.skipif(
    not os.path.isdir(os.path.join(os.path.dirname(SCENARIOS), "..", "..", "node_modules", "codemirror")),
    reason="CodeMirror is not installed in node_modules: run scripts/setup.sh (npm ci)")


@NO_CODEMIRROR
def test_the_editor_page_has_its_import_map_allowed_by_the_csp_hash(client):
    r = client.get("/edit/01-rdma")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    importmap = re.search(r'<script type="importmap">(.*?)</script>', page, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(importmap.encode()).digest()).decode()
    csp = r.headers["Content-Security-Policy"]
    assert f"script-src 'self' 'sha256-{digest}';" in csp and "style-src 'self';" in csp and "unsafe" not in csp
    imports = json.loads(importmap)["imports"]
    assert {"codemirror", "@codemirror/view", "@codemirror/lang-yaml", "@lezer/yaml", "style-mod"} <= set(imports)
    for url in imports.values():                   # every module of the map is served, as JavaScript
        got = client.get(url)
        assert got.status_code == 200 and got.mimetype == "text/javascript", url
    boot = json.loads(re.search(r'<script type="application/json" id="boot">(.*?)</script>', page, re.S).group(1))
    assert "fork" in boot["grammar"] and boot["grammar"]["fork"]["usage"] == "fork PARENT CHILD"
    assert "title: The RDMA regression" in boot["text"] and boot["author"] is False
    # Other pages keep the plain policy: the hash is the editor's only.
    assert "sha256" not in client.get("/").headers["Content-Security-Policy"]


@NO_CODEMIRROR
def test_only_the_editors_packages_are_served_from_node_modules(client):
    assert client.get("/npm/socket.io-client/dist/socket.io.esm.min.js").status_code == 404
    assert client.get("/npm/@codemirror/view/package.json").status_code == 404
    assert client.get("/npm/@codemirror/view/../../socket.io-client/dist/socket.io.js").status_code == 404
    assert client.get("/edit").status_code == 200 and client.get("/edit/nope").status_code == 404


# -- drafts -----------------------------------------------------------------------------------

GOOD = "title: Draft\nsteps:\n  - do: mmap P buf 1\n  - do: write P buf[0] A\n  - do: fork P C\n  - do: read C buf[0]\n    expect: A\n"


def test_a_draft_with_mistakes_returns_every_error_with_its_position(sock):
    text = GOOD.replace("fork P C", "frok P C").replace("read C", "read Q")
    r = sock.call("draft", {"text": text})
    assert r["ok"] and r["draft"] is None
    assert [(e["line"], e["col"]) for e in r["errors"]] == [(5, 9), (6, 14)]      # two independent mistakes
    assert r["errors"][0]["message"].startswith("unknown command 'frok'")


def test_a_draft_opens_steps_and_switches_era_like_a_walkthrough(sock):
    r = sock.call("draft", {"text": GOOD, "label": "mine.yaml"})
    assert r["ok"] and r["errors"] == [] and r["draft"].startswith("draft:")
    assert r["step_lines"] == [3, 4, 5, 6]
    opened = sock.call("open", {"name": r["draft"], "eras": ["5.9"], "step": 4, "reveal": True})
    assert opened["ok"] and opened["panes"][0]["result"] == "A" and opened["panes"][0]["ok"]
    assert sock.call("step", {"step": 2, "reveal": True})["panes"][0]["command"] == "write P buf[0] A"
    both = sock.call("era", {"eras": ["5.9-rc", "5.9"], "reveal": True})
    assert both["ok"] and [p["era"] for p in both["panes"]] == ["5.9-rc", "5.9"]


def test_a_draft_is_bounded_and_writes_nothing(sock, tmp_path):
    assert "too long" in sock.call("draft", {"text": "#" * (300 * 1024)})["error"]
    assert "scenario text" in sock.call("draft", {"text": 5})["error"]
    assert sock.call("open", {"name": "draft:0000"})["error"].startswith("this draft is no longer")


# -- Save with --author -------------------------------------------------------------------------

def test_save_writes_atomically_into_the_author_folder(tmp_path):
    path = save_into(str(tmp_path), "lecture-3", "title: t\n")
    assert path == str(tmp_path / "lecture-3.yaml") and open(path).read() == "title: t\n"
    save_into(str(tmp_path), "lecture-3.yaml", "title: u\n")
    assert open(path).read() == "title: u\n"
    assert sorted(os.listdir(tmp_path)) == ["lecture-3.yaml"]            # no temporary file left behind


@pytest.mark.parametrize("name", ["../evil", "/etc/passwd", "sub/dir", "..", ".hidden", "", "a\\b", "x" * 200])
def test_save_refuses_any_name_outside_the_folder(tmp_path, name):
    with pytest.raises(WebError, match="cannot save"):
        save_into(str(tmp_path / "author"), name, "title: t\n")


def test_save_refuses_a_symlink_that_leads_out(tmp_path):
    (tmp_path / "author").mkdir()
    os.symlink(tmp_path / "outside.yaml", tmp_path / "author" / "link.yaml")
    with pytest.raises(WebError, match="outside"):
        save_into(str(tmp_path / "author"), "link", "title: t\n")
    assert not (tmp_path / "outside.yaml").exists()


def test_save_over_http_only_with_the_flag(tmp_path):
    plain = create_app({"TESTING": True, "COWVIZ_SCENARIOS": SCENARIOS}).test_client()
    r = plain.post("/edit/save", json={"name": "x", "text": "title: t\n"})
    assert r.status_code == 403 and "saves nothing" in r.json["error"]
    author = create_app({"TESTING": True, "COWVIZ_SCENARIOS": SCENARIOS, "COWVIZ_AUTHOR": str(tmp_path)}).test_client()
    assert author.post("/edit/save", json={"name": "x.yaml", "text": "title: t\n"}).json == {"ok": True, "path": "x.yaml"}
    assert (tmp_path / "x.yaml").read_text() == "title: t\n"
    r = author.post("/edit/save", json={"name": "../x", "text": "title: t\n"})
    assert r.status_code == 400 and not (tmp_path.parent / "x.yaml").exists()
    assert author.post("/edit/save", data="name=x").status_code == 400


# -- Record -------------------------------------------------------------------------------------

COMMANDS = ["mmap P buf 2", "write P buf[0] A", "pin P buf[0] as nic write longterm", "fork P C",
            "write P buf[0] B", "dma-write nic X", "read P buf[0]", "read C buf[0]", "assert same-page P buf[1] C buf[1]"]


def sandbox_with(era, commands=COMMANDS):
    box = Sandbox(era)
    for c in commands:
        box.apply(c)
    return box


def test_record_then_file_then_run_gives_the_same_states_in_every_ticked_era():
    box = sandbox_with("5.9")
    meta = {"title": "Pinned, then fork", "eras": ["5.9-rc", "5.9", "6.x"],
            "steps": [{"say": "Map two pages."}, {}, {"say": "Pin for DMA."},
                      {"ask": {"kind": "pick", "question": "Which page will C map?", "of": "C buf[0]"}},
                      {"ask": {"kind": "choice", "question": "Does P keep its page?", "choices": ["yes", "no"],
                               "answer": "yes", "explain": "has_pinned"}}]}
    text = record_yaml(box.commands, box.era, meta)
    scenario = parse_scenario(text, "recorded.yaml")
    assert scenario.eras == ("5.9-rc", "5.9", "6.x") and scenario.kernel == "5.9"
    assert scenario.steps[0].say_for("5.9") == "Map two pages." and scenario.steps[3].ask.kind == "pick"
    assert scenario.steps[4].ask.answer_for("5.9") == "yes"
    # The RDMA regression: P no longer sees the DMA write under 5.9-rc only, so the expectation is per era.
    assert scenario.steps[6].expect == {"5.9-rc": "B", "5.9": "X", "6.x": "X"}
    for era in scenario.eras:
        run = run_scenario(scenario, era)
        assert run.ok, [s.message for s in run.failures()]
        live = sandbox_with(era).run
        # The sandbox keeps only its last states' snapshots (per-session memory is bounded): the
        # states it went through are the replay of its command list, and its last one is that.
        replay = run_commands(sandbox_with(era).commands, era)
        assert [s.snapshot for s in run.steps] == [s.snapshot for s in replay.steps]
        assert run.steps[-1].snapshot == live.steps[-1].snapshot
        assert [s.result for s in run.steps] == [s.result for s in live.steps]


def test_record_refuses_bad_questions_with_a_reason():
    box = sandbox_with("5.9", COMMANDS[:2])
    with pytest.raises(WebError, match="not one of its choices"):
        record_yaml(box.commands, "5.9", {"steps": [{"ask": {"kind": "choice", "question": "q",
                                                             "choices": ["a", "b"], "answer": "c"}}]})
    with pytest.raises(WebError, match="unknown era"):
        record_yaml(box.commands, "5.9", {"eras": ["4.4"]})
    with pytest.raises(WebError, match="would not load"):
        record_yaml(box.commands, "5.9", {"steps": [{"ask": {"kind": "pick", "question": "q", "of": "Z buf[0]"}}]})


def test_record_over_the_socket(sock):
    sock.call("sandbox", {"era": "5.9"})
    for c in COMMANDS[:4]:
        assert sock.call("command", {"text": c})["ok"]
    r = sock.call("record", {"title": "Mine", "eras": ["5.9"], "steps": [{"say": "first"}]})
    assert r["ok"] and parse_scenario(r["yaml"]).title == "Mine"


# -- watched folders ----------------------------------------------------------------------------

def write(path, title, series=None, order=None, level="beginner"):
    meta = "".join([f"series: {series}\n" if series else "", f"order: {order}\n" if order else ""])
    path.write_text(f"title: {title}\nlevel: {level}\n{meta}steps:\n  - do: mmap P buf 1\n")


def test_scenario_folders_are_added_beside_the_shipped_ones_each_a_section(tmp_path):
    a, b = tmp_path / "lecture", tmp_path / "edge-cases"
    a.mkdir(), b.mkdir()
    write(a / "zzz-first.yaml", "First", series="Lecture 3", order=1)
    write(a / "aaa-second.yaml", "Second", series="Lecture 3", order=2)
    write(a / "loose.yaml", "Loose one", level="advanced")
    write(b / "case.yaml", "An edge case")
    lib = Library(SCENARIOS, [str(a), str(b)])
    assert "01-rdma" in lib.names() and "lecture/zzz-first" in lib.names() and "edge-cases/case" in lib.names()
    assert [e.name for e in lib.series()] == ["01-rdma", "02-zero-page"]          # the tutorial is untouched
    sections = {s["label"]: s for s in lib.sections()}
    assert list(sections) == ["", "lecture", "edge-cases"]
    groups = [(g, [e.name for e in es]) for g, es in sections["lecture"]["groups"]]
    # By the files' own series and order, not by their names.
    assert groups == [("Lecture 3", ["lecture/zzz-first", "lecture/aaa-second"]), (None, ["lecture/loose"])]
    assert [e.name for e in lib.series("lecture/aaa-second")] == ["lecture/zzz-first", "lecture/aaa-second"]


def test_a_changed_file_changes_its_stamp_and_the_librarys(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    write(folder / "a.yaml", "A")
    lib = Library(SCENARIOS, [str(folder)])
    one, whole = lib.stamp("mine/a"), lib.stamp()
    write(folder / "a.yaml", "A, edited")
    os.utime(folder / "a.yaml", ns=(1, 10**18))
    assert lib.stamp("mine/a") != one and lib.stamp() != whole
    assert lib.scenario("mine/a").title == "A, edited"
    whole = lib.stamp()
    write(folder / "b.yaml", "B")
    assert lib.stamp() != whole                                                # a new file too


def test_the_library_page_and_stamp_route_show_added_folders(tmp_path):
    folder = tmp_path / "course"
    folder.mkdir()
    write(folder / "w1.yaml", "Week one", series="Course", order=1)
    client = create_app({"TESTING": True, "COWVIZ_SCENARIOS": SCENARIOS,
                         "COWVIZ_EXTRA_SCENARIOS": [str(folder)]}).test_client()
    page = client.get("/").get_data(as_text=True)
    assert "Folder: course" in page and "Week one" in page and "Tutorial walkthroughs" in page
    assert 'href="/play/course/w1"' in page and 'href="/edit/course/w1"' in page
    assert client.get("/play/course/w1").status_code == 200
    first = client.get("/stamp?name=course/w1").json["stamp"]
    write(folder / "w1.yaml", "Week one, again", series="Course", order=1)
    os.utime(folder / "w1.yaml", ns=(1, 10**18))
    got = client.get("/stamp?name=course/w1&text=1").json
    assert got["stamp"] != first and "Week one, again" in got["text"]
    assert client.get("/stamp?name=../etc").status_code == 404
