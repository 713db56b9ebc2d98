"""Every Socket.IO event of /cowviz through Flask-SocketIO's test client: replies, validation, state."""
from __future__ import annotations

import yaml

from cowviz.scenario import parse_scenario, run_scenario


def open_rdma(sock, **kw):
    return sock.call("open", {"name": "01-rdma", **kw})


# -- open -------------------------------------------------------------------------------------------

def test_open_defaults_to_the_scenarios_kernel_at_the_start(sock):
    r = open_rdma(sock)
    assert r["ok"] and r["mode"] == "play"
    assert r["eras"] == ["5.9-rc"] and r["step"] == 0
    info = r["scenario"]
    assert info["title"] == "The RDMA regression, in short"
    assert info["compare"] == ["5.9-rc", "5.9"] and info["level"] == "intermediate"
    assert [s["ask"] for s in info["steps"]] == [False, False, False, True, True, False]
    assert info["references"][0]["url"].startswith("https://lwn.net/")
    (pane,) = r["panes"]
    assert pane["step"] == 0 and pane["total"] == 6 and pane["command"] is None
    assert "pinned buffer" in pane["narration"]          # step 0 tells the summary


def test_open_a_step_carries_events_narration_result_and_inspector_data(sock):
    r = open_rdma(sock, eras=["5.9"], step=3)
    (pane,) = r["panes"]
    assert pane["command"] == "pin P buf[0] as nic write longterm" and pane["result"] == "ok"
    assert "<p>The NIC pins the page for DMA.</p>" in pane["narration"]
    assert [e["fn"] for e in pane["events"]][-1] == "pin_user_pages"
    assert "pin" in pane["tags"]
    page = pane["objects"]["page:1"]
    fields = {f[0]: f[1] for f in page["fields"]}
    assert fields["page_count()"] == 1025 and fields["page_maybe_dma_pinned()"] == "yes"
    mm = {f[0]: f[1] for f in pane["objects"]["mm:P"]["fields"]}
    assert mm["has_pinned"] == "yes"


def test_open_two_eras_for_comparison_gives_two_panes_and_two_timelines(sock):
    r = open_rdma(sock, eras=["5.9-rc", "5.9"], step=6)
    assert [p["era"] for p in r["panes"]] == ["5.9-rc", "5.9"]
    assert set(r["timelines"]) == {"5.9-rc", "5.9"}
    assert "lost_dma" in r["timelines"]["5.9-rc"][5]["tags"]
    assert "lost_dma" not in r["timelines"]["5.9"][5]["tags"]
    assert "early_copy" in r["timelines"]["5.9"][3]["tags"]


def test_open_accepts_a_comma_separated_era_string_like_the_url(sock):
    r = open_rdma(sock, eras="5.9-rc,5.9", step="2")
    assert r["ok"] and r["eras"] == ["5.9-rc", "5.9"] and r["step"] == 2


def test_open_refuses_bad_requests_with_a_clear_message(sock):
    assert sock.call("open", {"name": "nope"}) == {
        "ok": False, "error": "unknown walkthrough 'nope' (see the library for the list)"}
    assert "unknown walkthrough" in sock.call("open", {"name": "../app"})["error"]
    assert "missing name" in sock.call("open", {})["error"]
    assert "JSON object" in sock.call("open", ["01-rdma"])["error"]
    assert "unknown era '4.19'" in open_rdma(sock, eras=["4.19"])["error"]
    assert "out of range" in open_rdma(sock, step=7)["error"]
    assert "whole number" in open_rdma(sock, step="seven")["error"]
    assert "two different eras" in open_rdma(sock, eras=["5.9", "5.9"])["error"]
    assert "written for 5.9, 6.x, not 5.7" in sock.call("open", {"name": "02-zero-page", "eras": ["5.7"]})["error"]


def test_a_broken_scenario_file_is_reported_with_file_line_col(sock):
    r = sock.call("open", {"name": "reference/broken"})
    assert not r["ok"]
    assert "reference/broken.yaml:3:9: unknown command 'frobnicate'" in r["error"]
    assert "/work" not in r["error"] and "tests/web" not in r["error"]


# -- step -------------------------------------------------------------------------------------------

def test_step_before_open_is_refused(sock):
    assert sock.call("step", {"step": 1}) == {"ok": False, "error": "open a walkthrough first"}


def test_step_moves_and_a_bad_step_changes_nothing(sock):
    open_rdma(sock, eras=["5.9"])
    r = sock.call("step", {"step": 2})
    assert r["ok"] and r["step"] == 2 and r["panes"][0]["command"] == "write P buf[0] A"
    bad = sock.call("step", {"step": 99})
    assert not bad["ok"] and "steps 0-6" in bad["error"]
    assert not sock.call("step", {"step": True})["ok"]
    # The session is still at step 2: an era switch replays step 2.
    assert sock.call("era", {"eras": ["5.7"]})["step"] == 2


def test_an_ask_step_is_held_until_revealed(sock):
    open_rdma(sock, eras=["5.9"])
    held = sock.call("step", {"step": 4})["panes"][0]
    assert held["held"] and held["command"] == "fork P C"
    assert held["events"] == [] and held["narration"] == "" and held["result"] is None
    assert held["ask"]["question"] == "Does fork copy the pinned page for the child?"
    assert held["ask"]["choices"] == ["yes", "no"] and held["ask"]["answer"] is None
    # The diagram and inspector show the state before the step: no child yet.
    assert "task:C" not in held["objects"]
    shown = sock.call("step", {"step": 4, "reveal": ["5.9"]})["panes"][0]
    assert not shown["held"] and shown["ask"]["answer"] == "yes"
    assert "task:C" in shown["objects"] and "Only eras with the early copy" in shown["ask"]["explain"]


def test_reveal_is_per_era_in_comparison(sock):
    open_rdma(sock, eras=["5.9-rc", "5.9"])
    a, b = sock.call("step", {"step": 4, "reveal": ["5.9"]})["panes"]
    assert a["held"] and not b["held"]


# -- era --------------------------------------------------------------------------------------------

def test_era_switch_replays_to_the_same_step(sock):
    open_rdma(sock, eras=["5.9-rc"], step=5, reveal=True)
    r = sock.call("era", {"eras": ["5.9"], "reveal": True})
    assert r["ok"] and r["eras"] == ["5.9"] and r["step"] == 5
    pane = r["panes"][0]
    assert pane["era"] == "5.9" and pane["command"] == "write P buf[0] B"
    # Under 5.9 the parent keeps the pinned page: no COW copy on this write.
    assert "cow_copy" not in pane["tags"]


def test_era_can_start_and_stop_a_comparison(sock):
    open_rdma(sock, eras=["5.9"], step=1)
    assert len(sock.call("era", {"eras": ["5.9-rc", "5.9"]})["panes"]) == 2
    assert len(sock.call("era", {"eras": ["5.9"]})["panes"]) == 1


def test_era_refuses_unknown_eras_and_keeps_the_old_ones(sock):
    open_rdma(sock, eras=["5.9"], step=1)
    assert "unknown era" in sock.call("era", {"eras": ["9.9"]})["error"]
    assert "missing eras" in sock.call("era", {})["error"]
    assert sock.call("step", {"step": 1})["panes"][0]["era"] == "5.9"


# -- answer -----------------------------------------------------------------------------------------

def test_a_wrong_answer_reveals_nothing_and_a_right_one_reveals(sock):
    open_rdma(sock, eras=["5.9-rc"], step=4)
    wrong = sock.call("answer", {"step": 4, "era": "5.9-rc", "choice": "yes"})
    assert wrong["ok"] and wrong["correct"] is False and not wrong["revealed"] and wrong["pane"] is None
    right = sock.call("answer", {"step": 4, "era": "5.9-rc", "choice": "no"})
    assert right["correct"] is True and right["revealed"]
    assert right["pane"]["ask"]["answer"] == "no" and right["pane"]["events"]


def test_the_answer_depends_on_the_era(sock):
    open_rdma(sock, eras=["5.9-rc", "5.9"], step=4)
    assert sock.call("answer", {"step": 4, "era": "5.9", "choice": "yes"})["correct"] is True
    assert sock.call("answer", {"step": 4, "era": "5.9-rc", "choice": "yes"})["correct"] is False


def test_skip_reveals_with_no_verdict(sock):
    open_rdma(sock, eras=["5.9"], step=4)
    r = sock.call("answer", {"step": 4, "era": "5.9", "choice": "skip"})
    assert r["correct"] is None and r["revealed"] and r["pane"]["ask"]["answer_text"] == "yes"


def test_a_pick_question_is_answered_with_a_page_or_new(sock):
    open_rdma(sock, eras=["5.9-rc"], step=5)
    # Under 5.9-rc the parent's write copies: P buf[0] ends on a page that does not exist yet.
    assert sock.call("answer", {"step": 5, "era": "5.9-rc", "choice": "page:1"})["correct"] is False
    r = sock.call("answer", {"step": 5, "era": "5.9-rc", "choice": "new"})
    assert r["correct"] is True and r["pane"]["ask"]["answer_text"] == "page 2"
    sock.call("era", {"eras": ["5.9"]})
    # Under 5.9 the parent keeps its pinned page 1.
    assert sock.call("answer", {"step": 5, "era": "5.9", "choice": "new"})["correct"] is False
    assert sock.call("answer", {"step": 5, "era": "5.9", "choice": "page:1"})["correct"] is True


def test_answer_refuses_what_is_not_a_question_or_not_a_choice(sock):
    assert "open a walkthrough first" in sock.call("answer", {"step": 4, "era": "5.9", "choice": "yes"})["error"]
    open_rdma(sock, eras=["5.9"], step=4)
    assert "asks no question" in sock.call("answer", {"step": 3, "era": "5.9", "choice": "yes"})["error"]
    assert "not one of the choices" in sock.call("answer", {"step": 4, "era": "5.9", "choice": "maybe"})["error"]
    assert "is not shown" in sock.call("answer", {"step": 4, "era": "5.7", "choice": "yes"})["error"]
    assert "pick a page" in sock.call("answer", {"step": 5, "era": "5.9", "choice": "task:P"})["error"]
    assert "missing choice" in sock.call("answer", {"step": 4, "era": "5.9"})["error"]


# -- the sandbox --------------------------------------------------------------------------------------

def test_sandbox_starts_empty_and_runs_commands(sock):
    r = sock.call("sandbox", {"era": "5.9"})
    assert r["ok"] and r["mode"] == "sandbox" and r["history"] == [] and r["panes"][0]["step"] == 0
    r = sock.call("command", {"text": "mmap P buf 2"})
    assert r["history"] == ["mmap P buf 2"] and r["results"] == ["ok"]
    r = sock.call("command", {"text": "write P buf[0] A"})
    pane = r["panes"][0]
    assert pane["command"] == "write P buf[0] A" and "page:1" in pane["objects"]
    assert any(e["fn"] == "do_anonymous_page" for e in pane["events"])


def test_a_bad_command_says_where_and_changes_nothing(sock):
    sock.call("sandbox", {"era": "5.9"})
    sock.call("command", {"text": "mmap P buf 2"})
    r = sock.call("command", {"text": "write P bug[0] A"})
    assert r == {"ok": False, "error": "console:1:9: P has no VMA named 'bug' (its VMAs: buf)"}
    r = sock.call("command", {"text": "frobnicate"})
    assert r["error"].startswith("console:1:1: unknown command 'frobnicate'")
    assert sock.call("command", {"text": 42})["error"] == "console:1:1: a command must be text"
    assert "one command per line" in sock.call("command", {"text": "mmap Q a 1\nmmap Q b 1"})["error"]
    assert "empty" in sock.call("command", {"text": "   "})["error"]
    # Nothing changed: the history is still one command, and Q does not exist.
    r = sock.call("command", {"text": "read P buf[1]"})
    assert r["history"] == ["mmap P buf 2", "read P buf[1]"]


def test_sandbox_limits_are_enforced_with_a_clear_message(sock):
    sock.call("sandbox", {"era": "6.x"})
    r = sock.call("command", {"text": "mmap P buf 17"})
    assert r["error"] == "console:1:12: sandbox limit: a VMA has at most 16 pages here, so the diagram stays readable"
    sock.call("command", {"text": "mmap P a 1"})
    for name in "bcd":
        assert sock.call("command", {"text": f"mmap P {name} 1"})["ok"]
    assert "at most 4 VMAs per process" in sock.call("command", {"text": "mmap P e 1"})["error"]
    for n in range(1, 6):
        assert sock.call("command", {"text": f"fork P C{n}"})["ok"]
    r = sock.call("command", {"text": "fork P C6"})
    assert r["error"] == "console:1:8: sandbox limit: at most 6 tasks; exit one first"
    assert "x2048" in sock.call("command", {"text": "gup P a[0] as dev x3000"})["error"]


def test_the_command_limit(app, make_sock):
    app.config["COWVIZ_LIMITS"]["commands"] = 3
    s = make_sock()
    s.call("sandbox", {})
    for text in ("mmap P buf 1", "read P buf[0]", "read P buf[0]"):
        assert s.call("command", {"text": text})["ok"]
    assert "at most 3 commands" in s.call("command", {"text": "read P buf[0]"})["error"]


def test_undo_reset_and_era_switch_replay_the_command_list(sock):
    sock.call("sandbox", {"era": "5.9-rc"})
    for text in ("mmap P buf 1", "write P buf[0] A", "pin P buf[0] as nic write longterm", "fork P C",
                 "write P buf[0] B"):
        r = sock.call("command", {"text": text})
    assert "cow_copy" in r["panes"][0]["tags"]
    r = sock.call("era", {"eras": ["5.9"]})
    assert r["era"] == "5.9" and len(r["history"]) == 5 and "cow_copy" not in r["panes"][0]["tags"]
    r = sock.call("undo")
    assert r["undone"] == "write P buf[0] B" and len(r["history"]) == 4
    assert r["panes"][0]["command"] == "fork P C"
    r = sock.call("reset")
    assert r["history"] == [] and r["era"] == "5.9"
    assert sock.call("undo") == {"ok": False, "error": "nothing to undo"}


def test_sandbox_restore_replays_saved_lines_and_reports_dropped_ones(sock):
    r = sock.call("sandbox", {"era": "6.x", "commands": ["mmap P buf 1", "write Q buf[0] A", "write P buf[0] A"]})
    assert r["history"] == ["mmap P buf 1", "write P buf[0] A"]
    assert r["dropped"] == ["saved line 2 dropped: console:1:7: unknown task 'Q' (tasks: P)"]
    assert "must be a list" in sock.call("sandbox", {"commands": "mmap P buf 1"})["error"]
    assert "unknown era" in sock.call("sandbox", {"era": "2.6"})["error"]


def test_sandbox_events_need_the_sandbox(sock):
    for event, data in (("command", {"text": "mmap P a 1"}), ("undo", {}), ("reset", {}),
                        ("complete", {"text": ""}), ("export", {})):
        assert sock.call(event, data) == {"ok": False, "error": "open the sandbox first"}


def test_complete_commands_and_names(sock):
    sock.call("sandbox", {})
    assert "mmap" in sock.call("complete", {"text": ""})["candidates"]
    assert sock.call("complete", {"text": "mm"})["candidates"] == ["mmap"]
    sock.call("command", {"text": "mmap P buf 2"})
    sock.call("command", {"text": "pin P buf[0] as nic"})
    r = sock.call("complete", {"text": "write P b"})
    assert r["candidates"] == ["buf[0]", "buf[1]"] and r["start"] == 8 and r["usage"] == "write TASK VMA[I] VALUE"
    assert sock.call("complete", {"text": "unpin "})["candidates"] == ["nic"]
    assert sock.call("complete", {"text": "fork "})["candidates"] == ["P"]
    assert sock.call("complete", {"text": "madvise P buf "})["candidates"] == [
        "dofork", "dontfork", "keeponfork", "wipeonfork"]
    assert "must be a string" in sock.call("complete", {"text": None})["error"]


def test_export_is_a_scenario_file_that_replays_the_same(sock):
    sock.call("sandbox", {"era": "5.9-rc"})
    for text in ("mmap P buf 1", "write P buf[0] A", "fork P C", "write C buf[0] B", "read P buf[0]",
                 "read C buf[0]  # a comment"):
        assert sock.call("command", {"text": text})["ok"]
    r = sock.call("export")
    assert r["filename"] == "sandbox-5.9-rc.yaml"
    doc = yaml.safe_load(r["yaml"])
    assert doc["kernel"] == "5.9-rc" and len(doc["steps"]) == 6
    assert doc["steps"][4] == {"do": "read P buf[0]", "expect": {"5.9-rc": "A"}}
    scenario = parse_scenario(r["yaml"], "export.yaml")
    run = run_scenario(scenario)
    assert run.ok and [s.result for s in run.steps][-2:] == ["A", "B"]


# -- the lab --------------------------------------------------------------------------------------------

def test_the_lab_is_off_by_default(sock):
    open_rdma(sock)
    r = sock.call("lab", {})
    assert not r["ok"] and "--lab" in r["error"]


# -- connections ----------------------------------------------------------------------------------------

def test_each_connection_has_its_own_session(make_sock):
    a, b = make_sock(), make_sock()
    a.call("open", {"name": "01-rdma", "eras": ["5.9"], "step": 2})
    b.call("sandbox", {})
    assert a.call("step", {"step": 3})["panes"][0]["era"] == "5.9"
    assert b.call("step", {"step": 3})["error"] == "open a walkthrough first"


def test_repeated_gup_travels_as_its_first_event_and_a_summary(sock):
    sock.call("sandbox", {})
    for text in ("mmap P buf 1", "write P buf[0] A"):
        sock.call("command", {"text": text})
    first, total = sock.call("command", {"text": "gup P buf[0] as cache x1023"})["panes"][0]["events"]
    assert first["fn"] == total["fn"] == "get_user_pages"
    assert "refcount 1 -> 2" in first["text"] and "1023 references" in total["text"]
    assert "refcount now 1024" in total["text"]


def test_a_run_of_alike_events_travels_as_one():
    from cowviz.mm.events import Event
    from cowviz.web.wire import events_json
    run = [Event("zap_pte_range", f"PTE {i} removed.", "unmap", ("vma:P:buf",)) for i in range(5)]
    (e, other) = events_json(run + [Event("do_exit", "P exits.")])
    assert e["count"] == 5 and e["text"] == "PTE 0 removed." and e["last"] == "PTE 4 removed."
    assert "count" not in other
    assert [x.get("count") for x in events_json(run[:3])] == [None, None, None]


def test_the_lab_runs_the_walkthrough_when_enabled():
    import pytest

    from app import create_app
    from cowviz.lab import lab_available
    from tests.web.conftest import SCENARIOS, Sock

    ok, why = lab_available()
    if not ok:
        pytest.skip(f"this machine cannot run the lab: {why}")
    app = create_app({"TESTING": True, "COWVIZ_SCENARIOS": SCENARIOS, "COWVIZ_LAB": True})
    s = Sock(app, app.test_client())
    s.call("open", {"name": "01-rdma"})
    r = s.call("lab", {})
    assert r["ok"], r
    report = r["lab"]
    assert [row["command"] for row in report["rows"]][:2] == ["mmap P buf 2", "write P buf[0] A"]
    assert report["scenario"] is None and "model_view" not in report["rows"][0]
    s.call("sandbox", {})
    assert "type some commands first" in s.call("lab", {})["error"]
    s.call("command", {"text": "mmap P buf 1"})
    assert s.call("lab", {})["lab"]["rows"][0]["verdict"] == "agree"
