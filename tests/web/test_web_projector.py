"""The projector view and the lecture-hall player (issue 11), in Chromium against the real server:
presenter keys, full screen, blanking, help; the player fits every classroom screen; two eras share
one layout; text large enough for the back row (a sample: the whole sweep is
bench/bench_projector.py); a steady camera; the words for screen readers; axe-core on every page."""
from __future__ import annotations

import importlib.util
import os
import re

import pytest

from tests.web.conftest import ROOT, start_server, stop_server

from .test_web_browser import CHROMIUM, browser, expect, run_line, sync_api, watch  # noqa: F401  (one Chromium launcher for the browser tests)

AXE = os.path.join(ROOT, "node_modules", "axe-core", "axe.min.js")
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)")

_spec = importlib.util.spec_from_file_location("bench_projector", os.path.join(ROOT, "bench", "bench_projector.py"))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.fixture(scope="module")
def real_server():
    """The shipped walkthroughs (scenarios/)."""
    proc, url = start_server(scenarios=os.path.join(ROOT, "scenarios"), quiet=True)
    yield url
    stop_server(proc)


@pytest.fixture
def open_page(browser, live_server):
    """open_page(width, height, zoom=1, base=url) -> a page in a fresh profile, failing on script errors."""
    made = []

    def make(width=1024, height=768, zoom=1.0, base=None, bypass_csp=False):
        ctx = browser.new_context(viewport={"width": round(width / zoom), "height": round(height / zoom)},
                                  device_scale_factor=zoom, base_url=base or live_server, reduced_motion="reduce",
                                  bypass_csp=bypass_csp)
        ctx.set_default_timeout(15000)
        expect.set_options(timeout=15000)
        pg = ctx.new_page()
        errors, _ = watch(pg)
        made.append((ctx, errors))
        return pg

    yield make
    for ctx, errors in made:
        ctx.close()
        assert not errors, f"script errors in the page: {errors}"


def at_step(pg, n, total):
    expect(pg.locator("#step-count")).to_have_text(f"{n} / {total}")
    pg.wait_for_function("n => document.body.dataset.step === String(n)", arg=n)
    pg.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def measure(pg):
    return pg.evaluate(bench.MEASURE_JS)


def positions(pg, era):
    return pg.evaluate("""era => Object.fromEntries([...document.querySelectorAll(`.pane[data-era="${era}"] .diagram g[data-id]`)]
        .map((g) => [g.dataset.id, g.getAttribute('transform') + ' ' + g.querySelector('rect.shape').getAttribute('width')]))""", era)


# -- the projector view ----------------------------------------------------------------------------

def test_projector_view_from_the_url_and_the_p_key(open_page):
    pg = open_page(1024, 768)
    pg.goto("/play/01-rdma?era=5.9&step=3&projector=1")
    at_step(pg, 3, 6)
    expect(pg.locator("body")).to_have_class(re.compile(r"\bprojector\b.*\bfocus-view\b|\bfocus-view\b.*\bprojector\b"))
    m = measure(pg)
    assert m["sizes"] and bench.pct(m["sizes"], 10) >= 24, m["sizes"]
    assert "projector=1" in pg.url
    pg.keyboard.press("p")
    expect(pg.locator("body")).not_to_have_class(re.compile(r"\bprojector\b"))
    assert "projector" not in pg.url
    m = measure(pg)
    assert bench.pct(m["sizes"], 10) < 24          # the whole layout: small, which is why the view exists
    pg.keyboard.press("p")
    expect(pg.locator("body")).to_have_class(re.compile(r"\bfocus-view\b"))
    # Z: the whole layout, and back to the focus.
    pg.keyboard.press("z")
    expect(pg.locator("body")).not_to_have_class(re.compile(r"\bfocus-view\b"))
    pg.keyboard.press("z")
    expect(pg.locator("body")).to_have_class(re.compile(r"\bfocus-view\b"))


@pytest.mark.parametrize("size,mode,need", [((1024, 768), "one", 24), ((1920, 1080), "one", 32),
                                            ((1024, 768), "compare", 18), ((1920, 1080), "compare", 24)])
def test_text_is_large_enough_for_the_back_row_sample(open_page, real_server, size, mode, need):
    """A sample of the busiest steps (fork with early copies, the false positives); every step of
    every walkthrough is in bench/bench_projector.py and docs/projector.md."""
    pg = open_page(*size, base=real_server)
    pg.add_init_script(bench.reveal_all_script(["08-rdma-regression", "15-false-positives"]))
    for name, step, total, eras in [("08-rdma-regression", 12, 16, ["5.9", "5.9-rc,5.9"]),
                                    ("15-false-positives", 10, 12, ["6.x", "5.9,6.x"])]:
        q = f"era={eras[0]}" if mode == "one" else f"compare={eras[1]}"
        pg.goto(f"/play/{name}?{q}&step={step - 1}&projector=1")
        at_step(pg, step - 1, total)
        pg.keyboard.press("PageDown")
        at_step(pg, step, total)
        m = measure(pg)
        assert len(m["sizes"]) >= 8, f"{name}#{step}: the focus view shows almost nothing"
        assert bench.pct(m["sizes"], 10) >= need, (name, step, sorted(m["sizes"])[:5])
        assert m["fits"] and m["controls"] and m["narration"], m


def test_the_camera_is_steady(open_page, real_server):
    """An object that stays on screen from one step to the next keeps its place and size."""
    pg = open_page(1024, 768, base=real_server)
    pg.add_init_script(bench.reveal_all_script(["01-fork-and-cow"]))
    pg.goto("/play/01-fork-and-cow?era=5.9&step=1&projector=1")
    at_step(pg, 1, 13)
    before = positions(pg, "5.9")
    kept = moved = 0
    for n in range(2, 14):
        pg.keyboard.press("PageDown")
        at_step(pg, n, 13)
        now = positions(pg, "5.9")
        for ident in (set(before) & set(now)) - {i for i in now if i.startswith("fold:")}:
            kept += 1
            moved += before[ident] != now[ident]
        before = now
    assert kept > 20
    assert moved <= kept * 0.1, f"{moved} of {kept} objects that stayed on screen moved"


def test_a_camera_move_that_takes_over_from_one_under_way_arrives(browser, real_server):
    """With animations on: pressing C in a projector comparison re-arranges the panes, and the camera
    move of the new layout replaces the one still under way.  The view must end at the new layout's
    canvas, not half-way at the old one (05's diagrams were left drawn for the stacked panes, tiny)."""
    ctx = browser.new_context(viewport={"width": 1024, "height": 768}, base_url=real_server)
    try:
        pg = ctx.new_page()
        pg.goto("/play/05-vmsplice-leak?projector=1&step=4")
        expect(pg.locator("#step-count")).to_have_text("4 / 8")
        pg.keyboard.press("c")
        expect(pg.locator("body")).to_have_class(re.compile(r"\bcode-view\b"))
        pg.wait_for_timeout(2500)            # the re-layout and every camera move (600 ms each) are over

        def aspects():
            return pg.evaluate("""() => [...document.querySelectorAll('.pane svg.diagram-svg')].map((s) => {
                const r = s.getBoundingClientRect(); const vb = s.getAttribute('viewBox').split(' ').map(Number);
                return [r.width / r.height, vb[2] / vb[3]]; })""")
        got = aspects()
        assert len(got) == 2
        for screen, view in got:
            assert abs(view / screen - 1) < 0.15, f"the view's shape {view:.2f} is not the pane's {screen:.2f}: {got}"
    finally:
        ctx.close()


# -- presenter keys ------------------------------------------------------------------------------

def test_presenter_remote_keys_blank_help_and_diagram_only(open_page):
    pg = open_page(1280, 720)
    pg.goto("/play/02-zero-page?era=5.9&projector=1")
    at_step(pg, 0, 4)
    pg.keyboard.press("PageDown")
    at_step(pg, 1, 4)
    pg.keyboard.press("PageDown")
    at_step(pg, 2, 4)
    pg.keyboard.press("PageUp")
    at_step(pg, 1, 4)
    pg.keyboard.press("End")
    at_step(pg, 4, 4)
    pg.keyboard.press("Home")
    at_step(pg, 0, 4)
    # B blanks; while blank, stepping keys do nothing; "." shows the screen again.
    pg.keyboard.press("b")
    expect(pg.locator(".blank-screen")).to_be_visible()
    pg.keyboard.press("PageDown")
    at_step(pg, 0, 4)
    pg.keyboard.press(".")
    expect(pg.locator(".blank-screen")).to_have_count(0)
    pg.keyboard.press(".")
    expect(pg.locator(".blank-screen")).to_be_visible()
    pg.keyboard.press("Escape")
    expect(pg.locator(".blank-screen")).to_have_count(0)
    # ? opens the help with the focus in it; Escape closes it and gives the focus back.
    pg.keyboard.press("?")
    expect(pg.locator("#help")).to_be_visible()
    expect(pg.locator("#help .close")).to_be_focused()
    expect(pg.locator("#help")).to_contain_text("Page Down")
    pg.keyboard.press("Escape")
    expect(pg.locator("#help")).to_be_hidden()
    # D: the diagram only; D again: the words come back.
    pg.keyboard.press("d")
    expect(pg.locator("body")).to_have_class(re.compile(r"\bfocus\b"))
    expect(pg.locator("#narration")).to_be_hidden()
    pg.keyboard.press("d")
    expect(pg.locator("#narration")).to_be_visible()
    # Space plays (and pauses).
    pg.keyboard.press("Space")
    expect(pg.locator("#play")).to_have_attribute("aria-pressed", "true")
    pg.keyboard.press("Space")
    expect(pg.locator("#play")).to_have_attribute("aria-pressed", "false")


def test_f_goes_full_screen_and_back(open_page):
    pg = open_page(1024, 768)
    pg.goto("/play/02-zero-page?era=5.9&step=2&projector=1")
    at_step(pg, 2, 4)
    pg.keyboard.press("f")
    pg.wait_for_function("() => document.fullscreenElement === document.documentElement")
    m = measure(pg)
    assert m["fits"] and m["controls"]
    pg.keyboard.press("f")
    pg.wait_for_function("() => document.fullscreenElement === null")


def test_arrow_keys_in_the_era_buttons_move_between_eras(open_page):
    pg = open_page(1366, 768)
    pg.goto("/play/01-rdma?era=5.9-rc&step=2")
    at_step(pg, 2, 6)
    pg.locator('#era-controls .era-choice[data-era="5.9-rc"]').focus()
    pg.keyboard.press("ArrowRight")
    expect(pg.locator(".pane .era-badge")).to_have_text("5.9")
    at_step(pg, 2, 6)                                   # the step stays, and so does the focus
    expect(pg.locator('#era-controls .era-choice[data-era="5.9"]')).to_be_focused()
    pg.keyboard.press("ArrowLeft")
    expect(pg.locator(".pane .era-badge")).to_have_text("5.9-rc")
    expect(pg.locator('#era-controls .era-choice[data-era="5.9-rc"]')).to_be_focused()
    # Only the chosen era is in the tab order.
    assert pg.locator('#era-controls .era-choice[tabindex="0"]').count() == 1


def test_after_an_answer_the_focus_goes_to_the_revealed_box(open_page):
    pg = open_page(1366, 768)
    pg.goto("/play/01-rdma?era=5.9-rc&step=4")
    at_step(pg, 4, 6)
    pg.locator(".ask .choice", has_text="yes").click()       # wrong: the focus stays on the choices
    expect(pg.locator(".ask .feedback")).to_contain_text("Not quite")
    expect(pg.locator(".ask .choice").first).to_be_focused()
    pg.locator(".ask .choice", has_text="no").click()
    expect(pg.locator(".ask.revealed")).to_be_focused()
    pg.keyboard.press("PageDown")                            # and the remote goes on from there
    at_step(pg, 5, 6)


# -- fitting classroom screens -----------------------------------------------------------------------

@pytest.mark.parametrize("size", [(1024, 768), (1280, 720), (1366, 768), (1920, 1080)])
def test_the_player_fits_without_page_scroll(open_page, size):
    """One era and comparison, projector view and plain player, at 100 % and 150 % zoom."""
    for zoom in (1.0, 1.5):
        pg = open_page(*size, zoom=zoom)
        for query in ("era=5.9", "compare=5.9-rc,5.9"):
            for projector in ("1", "0"):
                pg.goto(f"/play/01-rdma?{query}&step=3&projector={projector}")
                at_step(pg, 3, 6)
                m = measure(pg)
                where = f"{size} zoom {zoom} {query} projector={projector}"
                assert m["fits"], f"{where}: the page scrolls {m['scroll']}"
                assert m["controls"], f"{where}: a control is off screen"
                assert m["narration"], f"{where}: the narration is not visible"
                boxes = pg.evaluate("""() => [...document.querySelectorAll('.pane')].map((p) => {
                    const r = p.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })""")
                for left, top, right, bottom in boxes:
                    assert left >= 0 and top >= 0 and right <= size[0] / zoom + 1 and bottom <= size[1] / zoom + 1, where


PHONE_JS = """() => {
  const box = (s) => { const r = document.querySelector(s).getBoundingClientRect(); return [r.left, r.right, r.height]; };
  return { scroll: document.documentElement.scrollWidth, width: document.documentElement.clientWidth,
           era: box('#era-controls'), compare: box('#compare-with'), title: box('#walk-title'),
           diagrams: [...document.querySelectorAll('.pane .diagram')].map((d) => d.getBoundingClientRect().height) };
}"""


def test_on_a_phone_the_player_does_not_overflow_sideways(open_page):
    """A phone (390x844): the era bar with "compare with" goes under the title, inside the window;
    one era and comparison, plain and projector view."""
    pg = open_page(390, 844)
    for query in ("era=5.9", "compare=5.9-rc,5.9"):
        for projector in ("0", "1"):
            pg.goto(f"/play/01-rdma?{query}&step=3&projector={projector}")
            at_step(pg, 3, 6)
            expect(pg.locator("#compare-with")).to_be_visible()
            where = f"{query} projector={projector}"
            m = pg.evaluate(PHONE_JS)
            assert m["width"] == 390 and m["scroll"] <= 390, f"{where}: the page is {m['scroll']} px wide"
            for name in ("era", "compare", "title"):
                left, right, _ = m[name]
                assert left >= 0 and right <= 390, f"{where}: {name} at {left}..{right}"
            assert m["title"][2] > 0, f"{where}: the title is squeezed away"
            fit = measure(pg)
            assert fit["fits"] and fit["controls"] and fit["narration"], f"{where}: {fit['scroll']}"
            assert min(m["diagrams"]) >= 120, f"{where}: diagrams {m['diagrams']} px high"


# -- the sandbox in the lecture hall and on a phone ---------------------------------------------------

RDMA_LINES = ["mmap P buf 4", "write P buf[0] A", "write P buf[1] B", "pin P buf[1] as nic write longterm",
              "fork P C", "write C buf[1] Z"]

SANDBOX_JS = r"""() => {
  const r = (sel) => { const e = document.querySelector(sel); if (!e) return null;
                       const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  return { w: innerWidth, h: innerHeight, scrollW: document.documentElement.scrollWidth,
           scrollH: document.documentElement.scrollHeight, input: r('#console-input'), run: r('#console-form button'),
           log: r('#log'), focus: document.body.classList.contains('focus-view') };
}"""


def type_lines(pg, lines):
    for i, line in enumerate(lines, 1):
        run_line(pg, line)
        pg.wait_for_function("n => document.body.dataset.animated === String(n)", arg=i)


def inside(rect, w, h):
    return rect is not None and rect[0] >= 0 and rect[1] >= 0 and rect[2] <= w and rect[3] <= h


@pytest.mark.parametrize("size,need", [((1024, 768), 24), ((1920, 1080), 32)])
def test_the_sandbox_projector_view_is_read_from_the_back_row(open_page, size, need):
    """Projector mode in the sandbox draws the focus view (what the last command touched) at the
    player's back-row size, in a page that is the window: the prompt and its Run button are on
    screen, below the diagram.  Whole drawing (or Z) shows all of it, small, and back."""
    pg = open_page(*size)
    pg.goto("/sandbox?era=5.9&projector=1")
    expect(pg.locator(".pane .era-badge")).to_have_text("5.9")
    type_lines(pg, RDMA_LINES)
    m = pg.evaluate(SANDBOX_JS)
    assert m["focus"], "projector mode draws the focus view"
    assert m["scrollH"] <= m["h"] and m["scrollW"] <= m["w"], f"the page scrolls: {m}"
    assert inside(m["input"], m["w"], m["h"]) and inside(m["run"], m["w"], m["h"]), f"the prompt is cut off: {m}"
    text = measure(pg)["sizes"]
    assert len(text) >= 8 and bench.pct(text, 10) >= need, sorted(text)[:5]
    # What the command touched is on screen: C's PTE and the page it wrote.
    expect(pg.locator('.diagram g[data-id="pte:C:buf:1"]')).to_have_count(1)
    expect(pg.locator('.diagram g[data-id="page:3"]')).to_have_count(1)
    pg.locator("#overview-toggle").click()
    expect(pg.locator("#overview-toggle")).to_have_attribute("aria-pressed", "true")
    expect(pg.locator("body")).not_to_have_class(re.compile(r"\bfocus-view\b"))
    assert bench.pct(measure(pg)["sizes"], 10) < need            # the whole drawing: why the focus view exists
    pg.keyboard.press("z")                                         # the key does the same, outside the prompt
    expect(pg.locator("body")).to_have_class(re.compile(r"\bfocus-view\b"))
    expect(pg.locator("#overview-toggle")).to_have_text("Whole drawing")
    # A console error stays on screen with the prompt.
    pg.locator("#console-input").fill("write Q buf[0] A")
    pg.locator("#console-input").press("Enter")
    expect(pg.locator("#console-error")).to_contain_text("unknown task 'Q'")
    m = pg.evaluate(SANDBOX_JS)
    assert inside(m["input"], m["w"], m["h"]), m
    # Projector mode off: the whole drawing, and the Whole drawing button goes away.
    pg.locator("#projector-toggle").click()
    expect(pg.locator("body")).not_to_have_class(re.compile(r"\bfocus-view\b"))
    expect(pg.locator("#overview-toggle")).to_be_hidden()


def test_on_a_phone_the_sandbox_fits_and_draws_what_the_command_touched(open_page):
    """390x844: the era bar and the buttons wrap inside the window, and the diagram is the focus
    view at a phone's text size (the whole layout, 390 px wide, is a sliver of 4 px text)."""
    pg = open_page(390, 844)
    pg.goto("/sandbox?era=5.9")
    expect(pg.locator(".pane .era-badge")).to_have_text("5.9")
    type_lines(pg, RDMA_LINES)
    m = pg.evaluate(SANDBOX_JS)
    assert m["scrollW"] <= 390, f"the page is {m['scrollW']} px wide"
    for sel in (".era-controls", ".sandbox-actions", ".titlebar h1", ".pane"):
        box = pg.locator(sel).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (sel, box)
    assert m["focus"]
    text = measure(pg)["sizes"]
    assert bench.pct(text, 10) >= 14, sorted(text)[:5]
    expect(pg.locator("#overview-toggle")).to_be_visible()


def test_on_a_small_phone_no_page_overflows_sideways(open_page, real_server):
    """360 px (a common Android width): the main links wrap, and a library card's long title
    (`num_children/num_active_vmas`) breaks inside its card."""
    pg = open_page(360, 740, base=real_server)
    for url in ("/", "/tutorial", "/glossary", "/sandbox?era=5.9"):
        pg.goto(url)
        pg.wait_for_load_state("networkidle")
        width = pg.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, f"{url} is {width} px wide"


def test_focus_view_text_clears_the_badge_and_the_highlight(open_page, real_server):
    """A highlighted page with a badge (COPY, ORIGINAL): its words are neither under the badge nor
    under the thick border of the highlight."""
    pg = open_page(1024, 768, base=real_server)
    pg.add_init_script(bench.reveal_all_script(["01-fork-and-cow"]))
    pg.goto("/play/01-fork-and-cow?era=5.8&step=7&projector=1")
    at_step(pg, 7, 13)
    boxes = pg.evaluate(r"""() => [...document.querySelectorAll('.diagram g.node.hl')].map((g) => {
        const b = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
        const shape = g.querySelector('rect.shape');
        const ctm = shape.getScreenCTM();
        const ring = parseFloat(getComputedStyle(shape).strokeWidth) * Math.hypot(ctm.a, ctm.b) / 2;
        const badge = g.querySelector('.badge rect');
        return { id: g.dataset.id, shape: b(shape), ring, badge: badge ? b(badge) : null,
                 text: [...g.querySelectorAll('tspan')].map(b) };
    })""")
    badged = [b for b in boxes if b["badge"]]
    assert len(badged) >= 2, boxes                       # the original page and its copy
    for b in boxes:
        top, bottom = b["shape"][1] + b["ring"], b["shape"][3] - b["ring"]
        for t in b["text"]:
            assert t[1] >= top - 1 and t[3] <= bottom + 1, f"{b['id']}: text {t} under the border {b['shape']}"
            if b["badge"]:
                assert t[1] >= b["badge"][3] - 1, f"{b['id']}: text {t} under the badge {b['badge']}"


# -- comparison: one layout --------------------------------------------------------------------------

def test_compared_eras_share_one_layout_and_mark_what_differs(open_page):
    pg = open_page(1920, 1080)
    pg.add_init_script(bench.reveal_all_script(["01-rdma"]))
    pg.goto("/play/01-rdma?compare=5.9-rc,5.9&step=6")
    at_step(pg, 6, 6)
    rc, fixed = positions(pg, "5.9-rc"), positions(pg, "5.9")
    both = set(rc) & set(fixed)
    assert len(both) >= 4
    assert all(rc[i] == fixed[i] for i in both), {i: (rc[i], fixed[i]) for i in both if rc[i] != fixed[i]}
    # The lost DMA write happens under 5.9-rc only: that pane marks what differs.
    assert pg.locator('.pane[data-era="5.9-rc"] .diagram g.differs').count() >= 1
    expect(pg.locator("#timeline-key")).to_contain_text("eras differ")


# -- words for screen readers -----------------------------------------------------------------------

def test_each_step_is_told_in_words_and_edges_have_names(open_page):
    pg = open_page(1366, 768)
    pg.add_init_script(bench.reveal_all_script(["01-rdma"]))
    pg.goto("/play/01-rdma?era=5.9&step=3")
    at_step(pg, 3, 6)
    pg.keyboard.press("ArrowRight")
    at_step(pg, 4, 6)
    announce = pg.locator("#announce")
    expect(announce).to_contain_text("fork P C")
    expect(announce).to_contain_text("C's PTE for buf[0] maps page")
    expect(pg.locator(".pane-alt")).to_contain_text("C's PTE for buf[0]")
    titles = pg.locator(".diagram g.edge > title").all_text_contents()
    assert titles and not any(re.search(r"\b(pte|page|vma):", t) for t in titles), titles
    assert any(re.search(r"'s PTE for buf\[0\] maps page \d+, (read-only|writable)", t) for t in titles), titles


def test_step_zero_shows_the_title_and_the_start(open_page):
    pg = open_page(1024, 768)
    pg.goto("/play/02-zero-page?era=5.9&projector=1")
    at_step(pg, 0, 4)
    card = pg.locator(".start-card")
    expect(card).to_be_visible()
    expect(card.locator(".start-title")).to_have_text("Reads and the zero page")
    expect(card.locator(".start-state")).to_contain_text("Starting state")
    pg.keyboard.press("PageDown")
    expect(card).to_be_hidden()


def test_the_timeline_letters_have_an_on_screen_key(open_page):
    pg = open_page(1024, 768)
    pg.goto("/play/01-rdma?era=5.9-rc&step=0&projector=1")
    at_step(pg, 0, 6)
    key = pg.locator("#timeline-key")
    expect(key).to_be_visible()
    expect(key).to_contain_text("pin")
    expect(key).to_contain_text("question")


# -- axe-core on every page ----------------------------------------------------------------------------

def axe_violations(pg):
    pg.add_script_tag(path=AXE)
    return pg.evaluate("""async () => {
        // CodeMirror's own scroller (in the editor's shadow root) holds a contenteditable that
        // takes the keyboard focus; axe does not see that one, so that one rule skips it.
        const r = await axe.run(document, { resultTypes: ['violations'],
                                          });
        r.violations = r.violations.map((v) => v.id !== 'scrollable-region-focusable' ? v
          : { ...v, nodes: v.nodes.filter((n) => !n.target.join(' ').includes('.cm-scroller')) })
          .filter((v) => v.nodes.length);
        return r.violations.map((v) => ({ id: v.id, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    }""")


@pytest.mark.skipif(not os.path.exists(AXE), reason="needs node_modules/axe-core (scripts/setup.sh runs npm ci)")
def test_axe_finds_no_violations_on_any_page(open_page):
    # The pages forbid inline scripts (CSP); the test's own injected axe is let through.
    pg = open_page(1366, 768, bypass_csp=True)
    pages = [("/", None), ("/tutorial", None), ("/glossary", None), ("/edit", None), ("/edit/01-rdma", None),
             ("/sandbox?era=5.9", None),
             ("/play/01-rdma?era=5.9-rc&step=3", 3), ("/play/01-rdma?era=5.9-rc&step=4", 4),
             ("/play/01-rdma?compare=5.9-rc,5.9&step=2", 2), ("/play/02-zero-page?era=5.9&step=0&projector=1", 0),
             ("/play/01-rdma?compare=5.9-rc,5.9&step=3&projector=1", 3), ("/play/no-such-walkthrough", None)]
    found = {}
    for url, step in pages:
        pg.goto(url)
        if step is not None:
            pg.wait_for_function("n => document.body.dataset.step === String(n)", arg=step)
        elif url.startswith("/sandbox"):
            expect(pg.locator(".pane .era-badge")).to_have_text("5.9")
        v = axe_violations(pg)
        if v:
            found[url] = v
    pg.goto("/play/01-rdma?era=5.9&step=1")
    pg.wait_for_function("() => document.body.dataset.step === '1'")
    pg.keyboard.press("?")
    v = axe_violations(pg)
    if v:
        found["help"] = v
    assert not found, found
