"""Benchmark: how long a step takes to reach the learner, for every scenario in scenarios/.

1. Server round trip: a python-socketio client (websocket transport) sends `step` and times the
   acknowledgement carrying the step's pane (frame, events, narration, inspector data), against
   the real server started as users start it (`python app.py --port N`).  Each scenario is opened
   once first (that run and layout are reported separately as "open"); then every step is
   requested REPEAT times.  Target: p95 under 100 ms on loopback.
2. Browser: Chromium (Playwright, headless) clicks Next through a walkthrough and times each click
   to the end of the step's animation (the page marks it), at 1x speed and with reduced motion
   (which leaves the round trip plus drawing).

    .venv/bin/python bench/bench_web.py [--repeat N] [--browser-scenarios K | --browser-names A,B]
        [--no-browser] [--no-server-pass]

The browser pass skips every question on screen after each step (a comparison of two eras, as 05
opens, asks in both panes), and gives up on a step not shown within 30 s with a message.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import socketio  # noqa: E402

from cowviz.web.library import Library  # noqa: E402
from tests.web.conftest import start_server, stop_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def pct(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def server_round_trips(url, names, repeat):
    client = socketio.Client()
    client.connect(url, namespaces=["/cowviz"], transports=["websocket"])
    assert client.transport() == "websocket"
    rows, everything = [], []
    try:
        for name in names:
            t0 = time.perf_counter()
            reply = client.call("open", {"name": name, "reveal": True}, namespace="/cowviz", timeout=60)
            opened = (time.perf_counter() - t0) * 1000
            if not reply["ok"]:
                rows.append((name, None, None, None, 0, reply["error"]))
                continue
            total = len(reply["scenario"]["steps"])
            times, size = [], 0
            for _ in range(repeat):
                for step in range(1, total + 1):
                    t0 = time.perf_counter()
                    r = client.call("step", {"step": step, "reveal": True}, namespace="/cowviz", timeout=30)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert r["ok"], r
                    size = max(size, len(str(r)))
            everything += times
            rows.append((name, opened, pct(times, 50), pct(times, 95), size, None))
    finally:
        client.disconnect()
    return rows, everything


def browser_steps(url, names, reduced):
    from playwright.sync_api import sync_playwright
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        context = browser.new_context(viewport={"width": 1600, "height": 900},
                                      reduced_motion="reduce" if reduced else "no-preference")
        page = context.new_page()
        skipped = 0
        for name in names:
            page.goto(f"{url}/play/{name}")
            page.wait_for_selector("body[data-step='0']")
            total = int(page.locator("#step-count").inner_text().split("/")[1])
            for step in range(1, total + 1):
                # Time from the click to the page marking the step shown, which it does once
                # every animation of the morph has finished.  Questions are skipped (revealed).
                # (Bounded: a step that is never marked shown is reported, not waited for forever.)
                ms = page.evaluate("""([step, limit]) => new Promise((resolve, reject) => {
                    const t0 = performance.now();
                    const timer = setTimeout(() => { obs.disconnect(); reject(new Error(
                      `step ${step} was not shown within ${limit} ms (body data-step=${document.body.dataset.step})`)); }, limit);
                    const obs = new MutationObserver(() => {
                      if (document.body.dataset.step === String(step)) {
                        obs.disconnect(); clearTimeout(timer); resolve(performance.now() - t0);
                      }
                    });
                    obs.observe(document.body, { attributes: true, attributeFilter: ["data-step"] });
                    document.getElementById("next").click();
                  })""", [step, STEP_LIMIT_MS])
                out.append(ms)
                skipped += skip_questions(page)
        browser.close()
    return out, skipped


STEP_LIMIT_MS = 30_000


def skip_questions(page) -> int:
    """Skip (reveal) every question on screen: a comparison of two eras asks in each of its panes, and
    each skip is answered by the server before the next shows.  Returns how many were skipped."""
    done = 0
    for _ in range(8):                                   # at most a few panes; never an endless loop
        pending = page.locator(".ask:not(.revealed) .skip:visible")
        n = pending.count()
        if not n:
            return done
        pending.first.click()
        page.wait_for_function(
            "(n) => document.querySelectorAll('.ask:not(.revealed) .skip').length < n", arg=n, timeout=STEP_LIMIT_MS)
        done += 1
    raise RuntimeError("questions kept appearing after 8 skips")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="times each step is requested (default 5)")
    ap.add_argument("--browser-scenarios", type=int, default=3, help="walkthroughs clicked through in the browser")
    ap.add_argument("--browser-names", help="comma-separated walkthroughs to click through instead (e.g. 05-vmsplice-leak)")
    ap.add_argument("--no-server-pass", action="store_true", help="only the browser pass")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args(argv)
    folder = os.path.join(ROOT, "scenarios")
    names = [e.name for e in Library(folder).entries() if e.scenario is not None]
    if not names:
        print("no scenarios in scenarios/")
        return 1
    proc, url = start_server(folder)
    try:
        if not args.no_server_pass:
            rows, everything = server_round_trips(url, names, args.repeat)
            print(f"Server round trip: `step` request -> acknowledgement with the step's pane "
                  f"(python-socketio over websocket, {args.repeat} passes per step)")
            print(f"{'scenario':40} {'open ms':>8} {'p50 ms':>7} {'p95 ms':>7} {'pane KB':>8}")
            for name, opened, p50, p95, size, error in rows:
                if error:
                    print(f"{name:40} ERROR {error}")
                else:
                    print(f"{name:40} {opened:8.1f} {p50:7.1f} {p95:7.1f} {size / 1024:8.1f}")
            print(f"{'ALL STEPS':40} {'':8} {pct(everything, 50):7.1f} {pct(everything, 95):7.1f}"
                  f"   ({len(everything)} requests; target p95 < 100 ms: "
                  f"{'met' if pct(everything, 95) < 100 else 'NOT MET'})")
        if not args.no_browser and os.path.exists(CHROMIUM):
            chosen = args.browser_names.split(",") if args.browser_names else names[: args.browser_scenarios]
            for reduced in (False, True):
                ms, skipped = browser_steps(url, chosen, reduced)
                what = "reduced motion (round trip + drawing)" if reduced else "1x speed (includes the animation itself)"
                print(f"Browser, click Next -> end of animation, {what}, {len(ms)} steps of {', '.join(chosen)} "
                      f"({skipped} questions skipped): "
                      f"p50 {statistics.median(ms):.0f} ms, p95 {pct(ms, 95):.0f} ms, max {max(ms):.0f} ms", flush=True)
    finally:
        stop_server(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
