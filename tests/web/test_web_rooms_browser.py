"""A classroom room in one real Chromium: one presenter page and two follower pages (issue 12).

The server is started the way a user starts it (`python app.py --port N`, conftest.live_server).
"""
from __future__ import annotations

import os
import re

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

from .test_web_browser import CHROMIUM, FLAGS, browser, watch  # noqa: F401  (one Chromium launcher for the browser tests)

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium (apt-get install chromium)")


@pytest.fixture
def open_page(browser, live_server):
    made, errors, offsite = [], [], []

    def make(viewport=(1024, 768), **kw):
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, base_url=live_server, **kw)
        context.set_default_timeout(15000)
        pg = context.new_page()
        watch(pg, live_server, errors, offsite)
        pg.on("dialog", lambda d: d.accept())
        made.append(context)
        return pg

    expect.set_options(timeout=15000)
    yield make
    for c in made:
        c.close()
    assert not errors, f"script errors in the pages: {errors}"
    assert not offsite, f"the pages fetched from other hosts: {offsite}"


def socket_events(frames) -> list:
    """The names of the Socket.IO events in the WebSocket frames a page sent to /cowviz."""
    return [m.group(1) for p in frames for m in [re.search(r'^4\d/cowviz,\d*\["(\w+)"', str(p))] if m]


def step_is(pg, n):
    expect(pg.locator("body")).to_have_attribute("data-step", str(n))


def test_one_presenter_two_followers_steps_break_away_poll_reveal_reconnect_and_end(open_page):
    presenter = open_page()
    presenter.goto("/present/01-rdma?era=5.9&step=1&projector=1")
    code = presenter.locator("#room-code").inner_text().strip()
    assert 4 <= len(code) <= 6
    expect(presenter.locator("body")).to_have_attribute("data-room", "presenting")
    step_is(presenter, 1)
    assert f"room={code}" in presenter.url
    expect(presenter.locator("body")).to_have_class(re.compile(r"\bprojector\b"))
    expect(presenter.locator("#room-qr img")).to_have_attribute("src", f"/room/{code}/qr.svg")

    phone = open_page((390, 844), is_mobile=True, has_touch=True)
    laptop = open_page((1280, 800))
    # What the followers' pages send over their sockets: they draw steps from the packs, never asking.
    sent = {"phone": [], "laptop": []}
    for name, pg in (("phone", phone), ("laptop", laptop)):
        pg.on("websocket", lambda ws, name=name: ws.on("framesent", lambda payload, name=name: sent[name].append(payload)))
    packs = []
    phone.on("request", lambda r: packs.append(r.url) if "/pack/" in r.url else None)
    phone.goto(f"/join/{code}")
    laptop.goto("/join")
    laptop.fill("#join-code", code.lower())
    laptop.click("button[type=submit]")
    for f in (phone, laptop):
        expect(f.locator("body")).to_have_attribute("data-room", "following")
        step_is(f, 1)
    expect(presenter.locator("#room-followers")).to_have_text("2 following")

    # The presenter steps and selects; both follow.
    presenter.locator("#next").click()
    step_is(presenter, 2)
    presenter.locator("#next").click()
    step_is(presenter, 3)
    for f in (phone, laptop):
        step_is(f, 3)
        expect(f.locator("#room-follow-state")).to_have_text("Following the presenter: step 3.")
    presenter.locator('.diagram g[data-id="page:1"]').click()
    expect(laptop.locator("#inspector")).to_contain_text("page 1")

    # The laptop breaks away (one step back) and is told where the presenter is.
    laptop.keyboard.press("ArrowLeft")
    step_is(laptop, 2)
    expect(laptop.locator("#room-resync")).to_be_visible()
    presenter.locator("#next").click()                       # step 4: a question
    step_is(phone, 4)
    expect(laptop.locator("#room-follow-state")).to_have_text("You are exploring on your own. The presenter is on step 4.")
    step_is(laptop, 2)
    laptop.keyboard.press("s")                               # one key re-syncs
    step_is(laptop, 4)
    expect(laptop.locator("#room-resync")).to_be_hidden()

    # A poll: both vote, the presenter sees the bars, followers' screens hold the outcome back.
    expect(phone.locator(".pane.held")).to_have_count(1)
    expect(phone.locator(".pane-result")).to_have_text("outcome hidden until the presenter reveals it")
    presenter.locator("#room-poll-open").click()
    expect(phone.locator("#room-vote")).to_contain_text("Vote now")
    phone.locator('.ask button.choice[data-choice="yes"]').click()     # right under 5.9 (the early copy)
    laptop.locator('.ask button.choice[data-choice="no"]').click()
    expect(phone.locator("#room-vote")).to_contain_text("Your vote: yes")
    expect(presenter.locator(".tally-total")).to_have_attribute("data-total", "2")
    expect(presenter.locator('.tally .bar[data-choice="yes"] .bar-count')).to_have_text("1")
    expect(phone.locator(".pane.held")).to_have_count(1)
    expect(laptop.locator(".pane.held")).to_have_count(1)
    assert phone.locator(".ask .skip").is_hidden()
    presenter.locator("#room-poll-reveal").click()
    expect(presenter.locator(".pane.held")).to_have_count(0)
    expect(phone.locator(".pane.held")).to_have_count(0)
    expect(phone.locator("#room-vote")).to_contain_text("✓ You were right: yes.")
    expect(laptop.locator("#room-vote")).to_contain_text("✗ You voted no. The answer: yes.")
    expect(laptop.locator(".ask")).to_contain_text("The answer: yes")

    # The presenter's laptop reloads (a reconnect): same room, same step, still driving.
    presenter.reload()
    expect(presenter.locator("body")).to_have_attribute("data-room", "presenting")
    expect(presenter.locator("#room-code")).to_have_text(code)
    step_is(presenter, 4)
    presenter.locator("#next").click()
    for f in (phone, laptop):
        step_is(f, 5)
    # A follower reloads: back on the presenter's step.
    phone.reload()
    step_is(phone, 5)
    expect(presenter.locator("#room-followers")).to_have_text("2 following")

    presenter.locator("#room-end").click()
    for f in (phone, laptop):
        expect(f.locator("#room-follow-state")).to_have_text("The presenter ended the room. You can go on exploring.")
        expect(f.locator("body")).to_have_attribute("data-closed", "ended")
        expect(f.locator("#room-resync")).to_be_hidden()
    # Steps, a break-away and a re-sync, a reveal, a reload: not one step, era or open request.
    for name in sent:
        events = socket_events(sent[name])
        assert "room_join" in events and not set(events) & {"step", "open", "era"}, (name, events)
    assert packs and all(re.search(r"/pack/5\.9/01-rdma\.json\?v=[0-9a-f]{16}$", u) for u in packs), packs


def test_a_sandbox_room_followers_see_the_presenters_commands_try_their_own_and_resync(open_page):
    presenter = open_page()
    presenter.goto("/present/sandbox?era=5.9")
    code = presenter.locator("#room-code").inner_text().strip()
    expect(presenter.locator("body")).to_have_attribute("data-room", "presenting")
    follower = open_page((390, 844), is_mobile=True, has_touch=True)
    sent = []
    follower.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(str(payload))))
    events = lambda: socket_events(sent)  # noqa: E731
    follower.goto(f"/join/{code}")
    expect(follower.locator("body")).to_have_attribute("data-room", "following")
    box = presenter.locator("#console-input")
    for line in ("mmap P buf 2", "write P buf[0] A"):
        box.fill(line)
        box.press("Enter")
    expect(follower.locator("#log li code")).to_have_text(["mmap P buf 2", "write P buf[0] A"])
    expect(follower.locator("#room-follow-state")).to_have_text("Following the presenter: 2 commands under 5.9.")
    # Following drew the presenter's state as the room built it: this tab replayed nothing of its own.
    assert "room_join" in events() and "sandbox" not in events(), events()
    # The follower tries its own line: it runs on its own session only (set to what it shows, once).
    mine = follower.locator("#console-input")
    mine.press_sequentially("fork P C")      # a completion request per key, the first while the set-up runs
    mine.press("Enter")
    expect(follower.locator("#log li code")).to_have_text(["mmap P buf 2", "write P buf[0] A", "fork P C"])
    expect(follower.locator("#room-resync")).to_be_visible()
    assert events().count("sandbox") == 1 and events()[-1] == "command", events()
    box.fill("read P buf[0]")
    box.press("Enter")
    expect(presenter.locator("#log li code")).to_have_count(3)
    expect(follower.locator("#room-follow-state")).to_contain_text("The presenter has 3 commands.")
    follower.locator("#room-resync").click()
    expect(follower.locator("#log li code")).to_have_text(["mmap P buf 2", "write P buf[0] A", "read P buf[0]"])


def test_a_comparison_room_votes_on_both_eras_at_once(open_page):
    presenter = open_page()
    presenter.goto("/present/01-rdma?compare=5.9-rc,5.9&step=4")
    code = presenter.locator("#room-code").inner_text().strip()
    expect(presenter.locator("body")).to_have_attribute("data-room", "presenting")
    phone = open_page((390, 844), is_mobile=True, has_touch=True)
    phone.goto(f"/join/{code}")
    step_is(phone, 4)
    expect(phone.locator(".pane.held")).to_have_count(2)
    presenter.locator("#room-poll-open").click()
    expect(phone.locator("#room-vote p")).to_have_count(2)
    phone.locator('.ask-slot[data-era="5.9-rc"] button.choice[data-choice="no"]').click()
    phone.locator('.ask-slot[data-era="5.9"] button.choice[data-choice="no"]').click()
    expect(presenter.locator('.tally-part[data-era="5.9-rc"] .tally-total')).to_have_attribute("data-total", "1")
    expect(presenter.locator('.tally-part[data-era="5.9"] .tally-total')).to_have_attribute("data-total", "1")
    expect(phone.locator(".pane.held")).to_have_count(2)           # neither outcome shows before the reveal
    presenter.locator("#room-poll-reveal").click()
    expect(phone.locator(".pane.held")).to_have_count(0)
    expect(phone.locator("#room-vote")).to_contain_text("5.9-rc ✓ You were right: no.")
    expect(phone.locator("#room-vote")).to_contain_text("5.9 ✗ You voted no. The answer: yes.")
    expect(presenter.locator("#room-poll-open")).to_have_count(0)
