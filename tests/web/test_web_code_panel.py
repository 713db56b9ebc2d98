"""The code panel in the browser: per-era pseudocode, the deciding line lit with its values, stepping
with the player in comparison (issue 15).  Real server on the shipped walkthroughs, Debian's chromium."""
from __future__ import annotations

import os

import pytest
import requests

from .conftest import ROOT, start_server, stop_server
from .test_web_browser import CHROMIUM, at_step, browser, expect, watch  # noqa: F401  (one Chromium launcher for the browser tests)

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def shipped():
    # The shipped walkthroughs take longer to prepare than the test set: retry the start.
    for attempt in range(3):
        try:
            proc, url = start_server(os.path.join(ROOT, "scenarios"))
            break
        except requests.RequestException:
            if attempt == 2:
                raise
    yield url
    stop_server(proc)


@pytest.fixture
def page(browser, shipped):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=shipped)
    context.set_default_timeout(30000)
    expect.set_options(timeout=30000)
    pg = context.new_page()
    errors, offsite = watch(pg, shipped, console=lambda text: True)
    yield pg
    context.close()
    assert not errors, errors
    assert not offsite, offsite


def reveal(pg):
    """Skip every question the step holds (the code is hidden until the outcome is shown)."""
    pg.wait_for_timeout(300)          # a held step's question box is drawn with its pane
    for _ in range(3):
        skip = pg.locator(".ask:not(.revealed) button", has_text="Skip")
        n = skip.count()
        if n == 0:
            return
        skip.first.click()
        expect(skip).to_have_count(n - 1)


def lit(pg, era):
    """The lit lines of the function that decided (the one whose block is open)."""
    return pg.locator(f'#code .code-pane[data-era="{era}"] details[open] .code-line.lit')


def test_08_in_comparison_the_lit_line_changes_with_the_step_and_the_era(page):
    page.goto("/play/08-rdma-regression?compare=5.8,5.9-rc&step=4")
    at_step(page, 4, 16)
    reveal(page)
    page.keyboard.press("c")                        # code in place of the narration
    expect(page.locator("body")).to_have_class(__import__("re").compile(r"\bcode-view\b"))
    expect(page.locator(".narration")).to_be_hidden()
    before = {era: lit(page, era).first.get_attribute("data-line") for era in ("5.8", "5.9-rc")}
    expect(lit(page, "5.8")).to_have_attribute("data-line", "wrprotect")     # fork: copy_one_pte()
    for n in (5, 6):
        page.keyboard.press("ArrowRight")
        at_step(page, n, 16)
        reveal(page)
    # 5.8 reuses by mapcount and does not look at the pin; 5.9-rc sees the pin in page_count.
    expect(lit(page, "5.8")).to_have_attribute("data-line", "reuse_swap_page")
    expect(lit(page, "5.8").locator(".code-seen")).to_contain_text("page_mapcount(page) == 1")
    expect(lit(page, "5.8").locator(".code-answer")).to_have_text("→ reuse")
    expect(lit(page, "5.9-rc")).to_have_attribute("data-line", "page_count")
    expect(lit(page, "5.9-rc").locator(".code-seen")).to_contain_text("page_count(page) == 1025")
    expect(lit(page, "5.9-rc").locator(".code-answer")).to_have_text("→ copy")
    after = {era: lit(page, era).first.get_attribute("data-line") for era in ("5.8", "5.9-rc")}
    assert before != after, (before, after)
    pane = page.locator('#code .code-pane[data-era="5.9-rc"]')
    expect(pane.locator(".code-path")).to_contain_text("handle_mm_fault")
    expect(pane.locator(".code-path code.here")).to_have_text("do_wp_page")
    # Each pane its own era's form of the function.
    expect(page.locator('#code .code-pane[data-era="5.8"] .code-fn[data-fn="do_wp_page"] .code-title')).to_contain_text("mapcount")
    expect(pane.locator('.code-fn[data-fn="do_wp_page"] .code-title')).to_contain_text("09854ba94c6a")
    src = pane.locator('.code-fn[data-fn="do_wp_page"] a.code-src')
    expect(src).to_have_attribute("href", "https://elixir.bootlin.com/linux/v5.9-rc6/C/ident/do_wp_page")
    expect(src).to_have_attribute("target", "_blank")
    assert "noopener" in src.get_attribute("rel")


def test_10_fork_lights_the_early_copy_test_in_59_only(page):
    page.goto("/play/10-has-pinned-early-copy?compare=5.9-rc,5.9&step=5")
    expect(page.locator("#step-count")).to_contain_text("5 / ")
    reveal(page)
    page.click("#code-toggle")
    expect(lit(page, "5.9").filter(has_text="page_maybe_dma_pinned")).to_have_count(1)
    seen = lit(page, "5.9").filter(has_text="page_maybe_dma_pinned").locator(".code-seen")
    expect(seen).to_contain_text("mm->has_pinned == 1")
    expect(seen).to_contain_text("page_maybe_dma_pinned() -> true")
    expect(page.locator('#code .code-pane[data-era="5.9"] .code-path')).to_contain_text(
        "copy_page_range > copy_pte_range > copy_present_pte > copy_present_page")
    # 5.9-rc has no such test: its fork only write-protects, in copy_one_pte().
    expect(lit(page, "5.9-rc")).to_have_attribute("data-line", "wrprotect")
    expect(page.locator('#code .code-pane[data-era="5.9-rc"] .code-fn[data-fn="copy_one_pte"]')).to_have_count(1)
    # The key does what the toggle button does.
    page.locator("#step-count").click()
    page.keyboard.press("c")
    expect(page.locator(".narration")).to_be_visible()
