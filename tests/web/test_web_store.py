"""The player page keeps its state in one store (static/js/store.js) that its views subscribe to:
the Player reads the step there, and nothing else keeps a copy of it."""
from __future__ import annotations

import os
import re

import pytest

from tests.web.conftest import ROOT

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

from .test_web_browser import at_step, browser, page  # noqa: E402,F401  (one Chromium launcher)


def test_nobody_but_the_store_keeps_the_step():
    player = open(os.path.join(ROOT, "static", "js", "player.js")).read()
    page_js = open(os.path.join(ROOT, "static", "js", "play-page.js")).read()
    assert not re.search(r"this\.(step|total|playing|speed)\s*=[^=]", player)
    assert "get step() { return this.store.state.step; }" in player
    assert not re.search(r"(player|state)\.(step|eras|info|timelines|selected|opened)\s*=[^=]", page_js)


def test_the_store_tells_its_subscribers_what_changed(page):  # noqa: F811
    page.goto("/play/01-rdma?era=5.9&step=1")
    at_step(page, 1, 6)
    heard = page.evaluate("""async () => {
      const { Store } = await import('/static/js/store.js');
      const s = new Store({ step: 0, eras: [] });
      const heard = [];
      const off = s.subscribe((state, changed) => heard.push([state.step, changed]), ['step']);
      s.set({ step: 0 });               // no change: nobody hears
      s.set({ step: 2, eras: ['5.9'] });
      s.set({ eras: ['5.8'] });          // not a key this subscriber listens to
      off();
      s.set({ step: 3 });
      let frozen = true;
      try { s.state.step = 9; frozen = s.state.step === 3; } catch (e) { frozen = true; }
      return { heard, frozen, step: s.state.step };
    }""")
    assert heard == {"heard": [[2, ["step", "eras"]]], "frozen": True, "step": 3}


def test_the_page_the_player_and_the_controls_read_one_step(page):  # noqa: F811
    page.goto("/play/01-rdma?era=5.9&step=1")
    at_step(page, 1, 6)
    read = "async () => { const { page } = await import('/static/js/play-page.js'); " \
           "return [page.store.state.step, page.player.step, page.store.state.eras]; }"
    assert page.evaluate(read) == [1, 1, ["5.9"]]
    page.keyboard.press("ArrowRight")
    at_step(page, 2, 6)
    assert page.evaluate(read) == [2, 2, ["5.9"]]
    assert page.url.endswith("era=5.9&step=2")
    page.locator(".marks .mark").nth(0).click()
    at_step(page, 0, 6)
    assert page.evaluate(read)[:2] == [0, 0]
    expect(page.locator("#prev")).to_be_disabled()
