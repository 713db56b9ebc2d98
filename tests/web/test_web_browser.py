"""Browser tests: Playwright drives Debian's chromium (headless) against the real server,
started the way a user starts it (`python app.py --port N`, see conftest.live_server)."""
from __future__ import annotations

import os
import re

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)")


def watch(pg, base_url=None, errors=None, offsite=None, console=None):
    """Collect what a page must not do: script errors (and console errors for which `console(text)`
    is true) into `errors`, and, given `base_url`, requests to other hosts into `offsite`."""
    errors = [] if errors is None else errors
    offsite = [] if offsite is None else offsite
    pg.on("pageerror", lambda e: errors.append(str(e)))
    if console is not None:
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" and console(m.text) else None)
    if base_url is not None:
        pg.on("request", lambda r: None if r.url.startswith((base_url, "data:", "blob:")) else offsite.append(r.url))
    return errors, offsite


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser profile (empty localStorage) per test, failing on any script error."""
    context = browser.new_context(viewport={"width": 1600, "height": 900}, base_url=live_server)
    context.set_default_timeout(15000)
    expect.set_options(timeout=15000)
    pg = context.new_page()
    # The Content-Security-Policy is on: anything it refuses shows up as a console error.
    errors, offsite = watch(pg, live_server, console=lambda text: "Content Security Policy" in text)
    yield pg
    context.close()
    assert not errors, f"script errors in the page: {errors}"
    assert not offsite, f"the page fetched from other hosts: {offsite}"


def node(pg, ident, pane=None):
    scope = pg.locator(f'.pane[data-era="{pane}"]') if pane else pg
    return scope.locator(f'.diagram g[data-id="{ident}"]')


def at_step(pg, n, total):
    expect(pg.locator("#step-count")).to_have_text(f"{n} / {total}")


# -- the player ---------------------------------------------------------------------------------

def test_every_page_works_under_the_content_security_policy(page):
    """The library, tutorial, player, sandbox and an error page: the CSP is on, and nothing is refused."""
    for path in ["/", "/tutorial", "/play/01-rdma", "/sandbox", "/play/missing"]:
        r = page.goto(path)
        assert "script-src 'self'" in r.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    page.goto("/")
    page.locator("#projector-toggle").click()
    expect(page.locator("body")).to_have_class(re.compile("projector"))


def test_open_a_walkthrough_step_and_the_diagram_changes(page):
    page.goto("/")
    page.get_by_role("link", name="Reads and the zero page").click()
    at_step(page, 0, 4)
    expect(node(page, "vma:P:buf")).to_have_count(0)
    page.get_by_role("button", name="next step").click()
    at_step(page, 1, 4)
    expect(node(page, "vma:P:buf")).to_have_count(1)
    expect(node(page, "page:0")).to_have_count(0)
    page.get_by_role("button", name="next step").click()
    at_step(page, 2, 4)
    expect(node(page, "page:0")).to_have_count(1)              # the read fault mapped the zero page
    expect(page.locator("#narration")).to_contain_text("A read fault maps the zero page")
    expect(page.locator("#events")).to_contain_text("do_anonymous_page")
    expect(page.locator(".pane-result")).to_contain_text("as expected (0)")
    assert page.url.endswith("/play/02-zero-page?era=5.9&step=2")


def test_keyboard_steps_plays_and_jumps(page):
    page.goto("/play/02-zero-page")
    at_step(page, 0, 4)
    page.keyboard.press("ArrowRight")
    at_step(page, 1, 4)
    page.keyboard.press("End")
    at_step(page, 4, 4)
    page.keyboard.press("ArrowLeft")
    at_step(page, 3, 4)
    # Step 3 asks a question: Next waits for an answer or a skip.
    page.get_by_role("button", name="next step").click()
    expect(page.locator(".ask")).to_have_class(re.compile(r"\bnudge\b"))
    at_step(page, 3, 4)
    page.keyboard.press("Home")
    at_step(page, 0, 4)
    # Space plays: the show runs until the question at step 3 stops it (at 4x, so it is quick).
    page.select_option("#speed", "4")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_text("❚❚ Pause")
    at_step(page, 3, 4)
    expect(page.locator(".ask .question")).to_contain_text("Which page will P buf[0] map")
    expect(page.locator("#step-count")).to_have_text("3 / 4")


def test_the_timeline_jumps_to_a_step(page):
    page.goto("/play/01-rdma?era=5.9")
    at_step(page, 0, 6)
    page.locator(".marks .mark").nth(3).click()
    at_step(page, 3, 6)
    expect(page.locator("#step-head")).to_contain_text("pin P buf[0] as nic write longterm")


def test_compare_two_eras_stepping_together(page):
    page.goto("/play/01-rdma")                     # compare: [5.9-rc, 5.9] opens the comparison view
    expect(page.locator(".pane")).to_have_count(2)
    expect(page.locator(".pane .era-badge")).to_have_text(["5.9-rc", "5.9"])
    page.keyboard.press("End")
    at_step(page, 6, 6)
    for era in ("5.9-rc", "5.9"):
        expect(node(page, "holder:nic", era)).to_have_count(1)
    # Under 5.9-rc the device's write is lost; under 5.9 it is not.
    rc = page.locator('.pane-events[data-era="5.9-rc"]')
    fixed = page.locator('.pane-events[data-era="5.9"]')
    expect(rc.locator(".tag")).to_contain_text(["lost DMA write"])
    expect(fixed).not_to_contain_text("lost DMA write")
    assert "compare=5.9-rc,5.9&step=6" in page.url
    # Each era reads its own narration, under its own badge.
    expect(page.locator("#narration .narration-era .era-badge")).to_have_text(["5.9-rc", "5.9"])
    expect(page.locator('#narration .narration-era[data-era="5.9-rc"]')).to_contain_text("no longer maps")
    expect(page.locator('#narration .narration-era[data-era="5.9"]')).to_contain_text("which the parent maps.")
    page.select_option("#compare-with", "")
    expect(page.locator(".pane")).to_have_count(1)
    assert re.search(r"era=5\.9-rc&step=6$", page.url)
    expect(page.locator("#narration .narration-era")).to_have_count(0)
    expect(page.locator("#narration")).to_contain_text("which the parent no longer maps")


def test_switch_era_keeps_the_step(page):
    page.goto("/play/01-rdma?era=5.9-rc&step=3")
    at_step(page, 3, 6)
    page.locator('#era-controls .era-choice[data-era="5.9"]').click()
    expect(page.locator(".pane .era-badge")).to_have_text("5.9")
    at_step(page, 3, 6)
    assert page.url.endswith("era=5.9&step=3")


def test_a_deep_link_opens_exactly_that_view(page):
    page.goto("/play/01-rdma?compare=5.8,5.9&step=2")
    expect(page.locator(".pane .era-badge")).to_have_text(["5.8", "5.9"])
    at_step(page, 2, 6)
    expect(page.locator("#step-head")).to_contain_text("write P buf[0] A")
    page.reload()
    at_step(page, 2, 6)
    expect(page.locator(".pane .era-badge")).to_have_text(["5.8", "5.9"])


def test_a_bad_deep_link_says_why_and_opens_the_start(page):
    page.goto("/play/01-rdma?era=9.9&step=3")
    expect(page.locator("#error")).to_contain_text("unknown era '9.9'")
    at_step(page, 0, 6)


def test_click_a_page_to_inspect_it(page):
    page.goto("/play/01-rdma?era=5.9&step=3")
    at_step(page, 3, 6)
    node(page, "page:1").click()
    ins = page.locator("#inspector")
    expect(ins).to_contain_text("page_count()")
    expect(ins).to_contain_text("1025")
    expect(ins).to_contain_text("rmap walk")
    expect(node(page, "page:1")).to_have_class(re.compile(r"\bselected\b"))
    node(page, "mm:P").click()
    expect(ins).to_contain_text("has_pinned")


# -- predict, then reveal ------------------------------------------------------------------------

def test_answer_wrongly_then_rightly_and_the_reveal_survives_a_reload(page):
    page.goto("/play/01-rdma?era=5.9-rc&step=3")
    at_step(page, 3, 6)
    page.keyboard.press("ArrowRight")
    at_step(page, 4, 6)
    ask = page.locator(".ask")
    expect(ask.locator(".question")).to_have_text("Does fork copy the pinned page for the child?")
    expect(page.locator("#events")).to_contain_text("shown once you have answered")
    expect(node(page, "task:C")).to_have_count(0)                # the outcome is held back
    ask.get_by_role("button", name="yes").click()                # wrong under 5.9-rc
    expect(ask.locator(".feedback")).to_contain_text("Not quite")
    expect(node(page, "task:C")).to_have_count(0)
    ask.get_by_role("button", name="no").click()
    expect(ask.locator(".feedback")).to_have_text("✓ Right (on a second try): no.")
    expect(ask.locator(".explain")).to_contain_text("Only eras with the early copy do.")
    expect(node(page, "task:C")).to_have_count(1)
    expect(page.locator("#events")).to_contain_text("copy_process")
    page.reload()
    at_step(page, 4, 6)
    expect(page.locator(".ask .feedback")).to_have_text("✓ Right (on a second try): no.")
    expect(page.locator(".ask .choice")).to_have_count(0)
    expect(node(page, "task:C")).to_have_count(1)
    page.goto("/tutorial")
    expect(page.locator('.series-item[data-name="01-rdma"] .progress')).to_have_text("◐ step 4 of 6 · 1 answered")
    expect(page.locator('.series-item[data-name="02-zero-page"] .progress')).to_have_text("○ not started")


def test_a_pick_question_is_answered_by_clicking_the_diagram(page):
    page.goto("/play/02-zero-page?era=5.9&step=2")
    at_step(page, 2, 4)
    page.keyboard.press("ArrowRight")
    expect(page.locator(".ask .pick-help")).to_be_visible()
    node(page, "page:0").click()                                 # the zero page: wrong
    expect(page.locator(".ask .feedback")).to_contain_text("Not quite")
    page.get_by_role("button", name="a page that does not exist yet").click()
    expect(page.locator(".ask .feedback")).to_have_text("✓ Right (on a second try): page 1.")
    expect(node(page, "page:1")).to_have_count(1)


def test_finishing_a_walkthrough_links_to_the_next_and_marks_it_done(page):
    page.goto("/play/02-zero-page?era=5.9&step=4")
    at_step(page, 4, 4)
    expect(page.locator("#next-walkthrough")).to_contain_text("End of this walkthrough")
    page.goto("/play/01-rdma?era=5.9&step=6")
    expect(page.get_by_role("link", name="Next walkthrough →")).to_have_attribute("href", "/play/02-zero-page")
    page.goto("/tutorial")
    expect(page.locator('.series-item[data-name="02-zero-page"] .progress')).to_have_text("● done")


def test_projector_mode_toggles_and_is_remembered(page):
    page.goto("/play/02-zero-page")
    at_step(page, 0, 4)
    page.locator("#projector-toggle").click()
    expect(page.locator("body")).to_have_class(re.compile(r"\bprojector\b"))
    page.reload()
    expect(page.locator("body")).to_have_class(re.compile(r"\bprojector\b"))
    expect(page.locator("#projector-toggle")).to_have_attribute("aria-pressed", "true")


# -- the sandbox ----------------------------------------------------------------------------------

def run_line(pg, text):
    box = pg.locator("#console-input")
    box.fill(text)
    box.press("Enter")


def test_sandbox_command_animates_undo_and_reload(page):
    page.goto("/sandbox?era=5.9")
    expect(page.locator(".pane .era-badge")).to_have_text("5.9")
    run_line(page, "mmap P buf 2")
    expect(node(page, "vma:P:buf")).to_have_count(1)
    run_line(page, "write P buf[0] A")
    expect(node(page, "page:1")).to_have_count(1)
    expect(page.locator("#log li")).to_have_count(2)
    expect(page.locator("#events")).to_contain_text("do_anonymous_page")
    expect(page.locator("body")).to_have_attribute("data-animated", "2")   # the animation ran to its end
    # A bad line: where and what, and nothing else changes.
    run_line(page, "write P bug[0] A")
    expect(page.locator("#console-error")).to_contain_text("console:1:9: P has no VMA named 'bug'")
    expect(page.locator("#console-error .caret")).to_have_text("write P bug[0] A\n        ^")
    expect(page.locator("#console-input")).to_have_value("write P bug[0] A")
    expect(page.locator("#log li")).to_have_count(2)
    page.get_by_role("button", name="↶ Undo").click()
    expect(node(page, "page:1")).to_have_count(0)
    expect(page.locator("#log li")).to_have_count(1)
    page.reload()
    expect(page.locator("#log li code")).to_have_text(["mmap P buf 2"])
    expect(node(page, "vma:P:buf")).to_have_count(1)


def test_sandbox_history_and_completion(page):
    page.goto("/sandbox")
    run_line(page, "mmap P buf 2")
    expect(page.locator("#log li")).to_have_count(1)
    box = page.locator("#console-input")
    box.press("ArrowUp")
    expect(box).to_have_value("mmap P buf 2")
    box.press("ArrowDown")
    expect(box).to_have_value("")
    box.type("wri")
    box.press("Tab")
    expect(box).to_have_value("write ")
    box.press("Tab")
    expect(box).to_have_value("write P ")
    box.press("Tab")
    expect(box).to_have_value("write P buf[")
    expect(page.locator("#completions")).to_contain_text("buf[0]")
    expect(page.locator("#usage")).to_contain_text("write TASK VMA[I] VALUE")


def test_sandbox_lines_typed_ahead_run_in_order(page):
    page.goto("/sandbox?era=5.9-rc")
    box = page.locator("#console-input")
    lines = ["mmap P buf 2", "write P buf[0] A", "pin P buf[0] as nic write longterm", "fork P C",
             "write P buf[0] B", "dma-write nic X"]
    for line in lines:                      # no waiting between lines: typed ahead, like a paste
        box.fill(line)
        box.press("Enter")
    expect(page.locator("#log li code")).to_have_text(lines)
    expect(page.locator("#events .tag")).to_contain_text(["lost DMA write"])
    # A failing line comes back for fixing, and lines typed after it are not run.  Both lines are
    # submitted in one go (like a paste), so the second is queued before the first one's reply can
    # come back: typed one by one, the reply may arrive while the second line is still in the input,
    # and then the console rightly leaves what the user is typing alone.
    page.evaluate("""(lines) => {
        const box = document.querySelector('#console-input');
        for (const line of lines) { box.value = line; box.form.requestSubmit(); }
    }""", ["write P buf[9] C", "fork P D"])
    expect(page.locator("#console-error")).to_contain_text("index 9 is out of range")
    expect(box).to_have_value("write P buf[9] C")
    box.fill("read P buf[1]")
    box.press("Enter")
    expect(page.locator("#log li code")).to_have_text(lines + ["read P buf[1]"])


def test_sandbox_limit_is_a_clear_message(page):
    page.goto("/sandbox")
    run_line(page, "mmap P buf 99")
    expect(page.locator("#console-error")).to_contain_text("sandbox limit: a VMA has at most 16 pages")


def test_sandbox_era_switch_and_download(page):
    page.goto("/sandbox?era=5.9-rc")
    for line in ("mmap P buf 1", "write P buf[0] A", "fork P C", "write P buf[0] B"):
        run_line(page, line)
    expect(page.locator("#log li")).to_have_count(4)
    expect(page.locator("#events .tag")).to_contain_text(["COW copy"])
    page.locator('#era-controls .era-choice[data-era="6.x"]').click()
    expect(page.locator(".pane .era-badge")).to_have_text("6.x")
    expect(page.locator("#log li")).to_have_count(4)
    with page.expect_download() as info:
        page.get_by_role("button", name="↓ Download .yaml").click()
    download = info.value
    assert download.suggested_filename == "sandbox-6.x.yaml"
    text = open(download.path(), encoding="utf-8").read()
    assert "- do: fork P C" in text and "kernel: 6.x" in text


@pytest.fixture(scope="module")
def lab_server():
    from cowviz.lab import lab_available
    from tests.web.conftest import start_server, stop_server

    ok, why = lab_available()
    if not ok:
        pytest.skip(f"this machine cannot run the lab: {why}")
    proc, url = start_server(extra=("--lab",))
    yield url
    stop_server(proc)


def test_run_on_this_machine_when_the_server_allows_it(browser, lab_server, live_server):
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    try:
        pg = context.new_page()
        pg.goto(f"{live_server}/play/01-rdma?era=5.9")               # off by default: no button
        expect(pg.locator("#step-count")).to_have_text("0 / 6")
        expect(pg.locator("#lab-run")).to_have_count(0)
        pg.goto(f"{lab_server}/play/01-rdma?era=5.9")
        pg.locator("#lab-run").click()
        dialog = pg.locator(".lab-dialog")
        expect(dialog.locator(".lab-summary")).to_contain_text("against this machine's kernel")
        expect(dialog.locator(".lab-table tbody tr").first).to_contain_text("mmap P buf 2")
    finally:
        context.close()
