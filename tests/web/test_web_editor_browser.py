"""The editor in a real browser (Playwright + Debian's chromium, the server started as a user starts it):
open it, break a line, see the error marked there, fix it, see the preview follow; Save into --author;
shared links; Record from the sandbox.  The CSP is on: anything it refuses fails the test."""
from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from cowviz.web import share
from tests.web.conftest import SCENARIOS, start_server, stop_server

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

from .test_web_browser import CHROMIUM, FLAGS, browser  # noqa: F401  (one Chromium launcher for the browser tests)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)"),
    # ./test.sh installs it (scripts/setup.sh runs npm ci); a worktree made before the editor landed may lack it.
    pytest.mark.skipif(not os.path.isdir(os.path.join(ROOT, "node_modules", "codemirror")),
                       reason="CodeMirror is not installed in node_modules: run scripts/setup.sh (npm ci)"),
]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("editor")
    author, course = root / "author", root / "course"
    author.mkdir(), course.mkdir()
    shutil.copy(os.path.join(SCENARIOS, "02-zero-page.yaml"), course / "watched.yaml")
    return {"author": author, "course": course}


@pytest.fixture(scope="module")
def server(folders):
    proc, url = start_server(extra=["--author", str(folders["author"]), "--scenarios", str(folders["course"])])
    yield url
    stop_server(proc)


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=server, accept_downloads=True)
    context.set_default_timeout(15000)
    expect.set_options(timeout=15000)
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Content Security Policy" in m.text
          else None)
    yield pg
    context.close()
    assert not errors, f"script errors in the page: {errors}"


def line_of(pg, text):
    """Put the cursor at the start of the first editor line containing `text`; returns its line number."""
    return pg.evaluate("""(text) => {
        const v = window.cowvizEditor;
        for (let n = 1; n <= v.state.doc.lines; n++) {
            const l = v.state.doc.line(n);
            const at = l.text.indexOf(text);
            if (at >= 0) { v.dispatch({selection: {anchor: l.from + at}, scrollIntoView: true}); v.focus(); return n; }
        }
        return -1;
    }""", text)


def test_an_error_is_marked_at_its_line_and_fixing_it_updates_the_preview(page):
    page.goto("/edit/01-rdma")
    expect(page.locator(".cm-content")).to_contain_text("title: The RDMA regression")
    expect(page.locator(".cm-gutters")).to_contain_text("12")                         # line numbers
    expect(page.locator(".cm-content .tok-keyword, .cm-content [class^='ͼ']").first).to_be_visible()  # highlighted
    expect(page.locator("#stage .pane")).to_have_count(2)                             # compare: [5.9-rc, 5.9]
    # The cursor on the fork step: the preview shows that step.
    n = line_of(page, "fork P C")
    expect(page.locator("#preview-head .command")).to_have_text("fork P C")
    expect(page.locator("#step-count")).to_have_text("4 / 6")
    # Break the command by typing, as an author would.
    page.keyboard.press("End")
    for _ in "fork P C":
        page.keyboard.press("Backspace")
    page.keyboard.type("frok P C")
    expect(page.locator("#problems .problem")).to_have_count(1)
    problem = page.locator("#problems .problem")
    expect(problem).to_have_attribute("data-line", str(n))
    expect(problem).to_contain_text(f"{n}:9 unknown command 'frok' (did you mean 'fork'?)")
    marked = page.locator(".cm-line", has=page.locator(".cm-lintRange-error"))
    expect(marked).to_have_count(1)
    expect(marked).to_contain_text("do: frok P C")
    expect(page.locator(".cm-lintRange-error")).to_have_text("frok")
    expect(page.locator("body")).to_have_class(re.compile("stale"))
    # Fix it differently: the preview re-runs and shows the new command at the same step.
    for _ in "frok P C":
        page.keyboard.press("Backspace")
    page.keyboard.type("thread P T")
    expect(page.locator("#problems .problem")).to_have_count(0)
    expect(page.locator(".cm-lintRange-error")).to_have_count(0)
    expect(page.locator("#preview-head .command")).to_have_text("thread P T")
    expect(page.locator("body")).not_to_have_class(re.compile("stale"))
    expect(page.locator('#stage .pane[data-era="5.9"] .diagram g[data-id="task:T"]')).to_have_count(1)
    # Unsaved work survives a reload (kept in this browser).
    page.reload()
    expect(page.locator(".cm-content")).to_contain_text("do: thread P T")
    expect(page.locator("#edit-status")).to_contain_text("unsaved changes were restored")


def test_completion_offers_commands_and_the_files_own_names(page):
    page.goto("/edit")
    expect(page.locator("body[data-previewed]")).to_have_count(1)
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n  - do: pi")
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("pin")
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("pipe-read")
    page.keyboard.type("n P ")
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("buf[0]")      # from `mmap P buf 1` above
    # Era ids where an era goes, from the server's registry.
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Home")
    page.keyboard.type("kernel: 5.9")
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("5.9-rc")


def test_era_switch_and_comparison_in_the_preview(page):
    page.goto("/edit/01-rdma")
    expect(page.locator("#stage .pane")).to_have_count(2)
    page.locator("#compare-with").select_option("")
    expect(page.locator("#stage .pane")).to_have_count(1)
    page.locator('.era-choice[data-era="6.x"]').click()
    expect(page.locator('#stage .pane[data-era="6.x"]')).to_have_count(1)


def test_save_writes_into_the_author_folder_and_the_library_shows_it(page, folders):
    page.goto("/edit")
    expect(page.locator("body[data-previewed]")).to_have_count(1)
    page.locator("#file-name").fill("from-the-browser")
    with page.expect_download() as dl:
        page.locator("#save").click()
    assert dl.value.suggested_filename == "from-the-browser.yaml"
    expect(page.locator("#edit-status")).to_contain_text("saved as from-the-browser.yaml")
    saved = (folders["author"] / "from-the-browser.yaml").read_text()
    assert saved.startswith("# A new scenario") and "title: My scenario" in saved
    page.goto("/")
    expect(page.locator('.card[data-name="author/from-the-browser"]')).to_contain_text("My scenario")


def test_a_file_changed_on_disk_refreshes_the_library_and_the_editor(page, folders):
    page.goto("/edit/course/watched")
    expect(page.locator(".cm-content")).to_contain_text("Reads and the zero page")
    path = folders["course"] / "watched.yaml"
    path.write_text(path.read_text().replace("Reads and the zero page", "Changed on disk"))
    expect(page.locator(".cm-content")).to_contain_text("Changed on disk")
    expect(page.locator("#walk-title")).to_have_text("Changed on disk")
    page.goto("/")
    expect(page.locator('.card[data-name="course/watched"]')).to_contain_text("Changed on disk")
    path.write_text(path.read_text().replace("Changed on disk", "Changed again"))
    expect(page.locator('.card[data-name="course/watched"]')).to_contain_text("Changed again")
    # The player reloads too, and stays on its era and step (they are in its URL).
    page.goto("/play/course/watched?era=6.x&step=2")
    expect(page.locator("#step-count")).to_have_text("2 / 4")
    path.write_text(path.read_text().replace("Changed again", "Changed a third time"))
    expect(page.locator("#walk-title")).to_have_text("Changed a third time")
    expect(page.locator("#step-count")).to_have_text("2 / 4")
    assert "era=6.x" in page.url


SHARED = "title: Sent by link\nsteps:\n  - do: mmap P buf 1\n  - do: write P buf[0] A\n    say: The first write.\n"


def test_a_link_carries_a_scenario_into_the_player_and_the_editor(page):
    code = share.encode(SHARED)
    page.goto(f"/view#s={code}")
    expect(page.locator("#walk-title")).to_have_text("Sent by link")
    expect(page.locator(".edit-left")).to_be_hidden()
    expect(page.locator("#step-count")).to_have_text("0 / 2")
    page.locator("#next").click()
    expect(page.locator("#step-count")).to_have_text("1 / 2")
    page.locator("#next").click()
    expect(page.locator("#narration")).to_contain_text("The first write.")
    page.goto(f"/edit#s={code}")
    expect(page.locator(".cm-content")).to_contain_text("title: Sent by link")
    # And back: the Share button makes a link the Python side reads as the same text.
    page.locator("#share").click()
    expect(page.locator("#share-url")).to_have_value(re.compile(r"#s="))
    link = page.locator("#share-url").input_value()
    assert link.startswith(page.url.split("/edit")[0] + "/view#s=")
    assert share.decode(link.split("#s=")[1]) == SHARED


def test_a_broken_or_oversized_link_gets_a_clear_message(page):
    page.goto("/view#s=" + share.encode(SHARED)[:-9])
    expect(page.locator("#error")).to_contain_text("this link is broken")
    page.goto("/edit#s=" + "A" * (share.MAX_FRAGMENT + 5))
    expect(page.locator("#error")).to_contain_text("this link is too long")
    page.goto("/view")
    expect(page.locator("#error")).to_contain_text("this link carries none")
    page.goto("/sandbox#c=%%%")
    expect(page.locator("#error")).to_contain_text("this link is broken")


def test_a_sandbox_session_travels_by_link(page):
    code = share.encode(json.dumps({"era": "5.8", "commands": ["mmap P buf 1", "write P buf[0] A", "fork P C"]}))
    page.goto(f"/sandbox#c={code}")
    expect(page.locator("body")).to_have_attribute("data-commands", "3")
    expect(page.locator('.era-choice[data-era="5.8"]')).to_have_attribute("aria-checked", "true")
    page.locator("#share").click()
    expect(page.locator("#share-url")).to_have_value(re.compile(r"#c="))
    got = json.loads(share.decode(page.locator("#share-url").input_value().split("#c=")[1]))
    assert got == {"era": "5.8", "commands": ["mmap P buf 1", "write P buf[0] A", "fork P C"]}


def test_record_turns_the_sandbox_session_into_a_scenario_in_the_editor(page):
    page.goto("/sandbox?era=5.9")
    for line in ["mmap P buf 1", "write P buf[0] A", "fork P C", "write P buf[0] B"]:
        page.locator("#console-input").fill(line)
        page.locator("#console-input").press("Enter")
        expect(page.locator("body")).to_have_attribute("data-commands", str(["mmap P buf 1", "write P buf[0] A",
                                                                            "fork P C", "write P buf[0] B"].index(line) + 1))
    page.locator("#record").click()
    dialog = page.locator("#record-dialog")
    dialog.locator(".rec-title").fill("Recorded in a test")
    dialog.locator('.rec-era[value="5.7"]').check()
    steps = dialog.locator(".record-step")
    steps.nth(2).locator(".say").fill("The child shares the page.")
    steps.nth(3).locator(".ask-kind").select_option("pick")
    steps.nth(3).locator(".q").fill("Which page does P map after its write?")
    steps.nth(3).locator(".of").fill("P buf[0]")
    dialog.locator(".rec-open").click()
    page.wait_for_url("**/edit")
    content = page.locator(".cm-content")
    expect(content).to_contain_text("title: Recorded in a test")
    expect(content).to_contain_text("say: The child shares the page.")
    expect(content).to_contain_text("pick: page")
    expect(page.locator("#problems .problem")).to_have_count(0)
    expect(page.locator('.era-choice[data-era="5.7"]')).to_have_count(1)
