"""Warming: the shipped walkthroughs are run and laid out before the first learner asks.

    Warmer(library, make_session).start()    warms in the background; the server answers at once

Every walkthrough in the library is opened under every era it is written for, and every step is
shown once, through a Session exactly as a learner's requests go, and each reply is encoded as it
would be sent: so the run, its diagram layout (Graphviz), its inspector data, its panes and their
JSON text are in the caches the requests read (Library, Prepared, packets.Pane), and the first
`open` of a class finds them there.  A request for a walkthrough not
warmed yet does the work itself; two never do the same layout twice (each run has its own layout
lock, see FrameSource.walkthrough), and layouts of different runs go on at once.  Between steps
the warmer yields (time.sleep(0)), so requests are served while it works, in threading mode and
under gevent alike.

When it is done, the caches are frozen out of the garbage collector's scans (gc.freeze()): they
live as long as the server, and a full collection that walks hundreds of thousands of cached
objects costs 35-470 ms, during which no request is served.  Objects made later (sessions, the
sandbox) are collected as before.

A file edited while the server runs is re-read and laid out on its next `open`, as before (the
caches are keyed by the file's modification time); the warmer only runs at start-up.
"""
from __future__ import annotations

import gc
import logging
import threading
import time

from .library import WebError
from .packets import encode

log = logging.getLogger(__name__)


class Warmer:
    """Runs and lays out every walkthrough x era of a library once, in the background."""

    def __init__(self, library, make_session, on_done=None, freeze: bool = True):
        self.library = library
        self.make_session = make_session
        self.on_done = on_done              # called with (layouts warmed, seconds, errors)
        self.freeze = freeze
        self.done = threading.Event()
        self.warmed = 0
        self.errors: list[str] = []
        self.seconds = 0.0

    def start(self, spawn=None) -> None:
        """Warm in the background: `spawn(fn)` starts fn (the server's start_background_task), or a thread."""
        if spawn is not None:
            spawn(self.run)
        else:
            threading.Thread(target=self.run, name="cowviz-warm", daemon=True).start()

    def pairs(self) -> list:
        """(name, era) for every loadable walkthrough, in library order."""
        out = []
        for entry in self.library.entries():
            if entry.scenario is not None:
                out += [(entry.name, era) for era in entry.scenario.eras]
        return out

    def run(self) -> None:
        t0 = time.perf_counter()
        try:
            for name, era in self.pairs():
                self.warm_one(name, era)
                time.sleep(0)
        except Exception as e:                          # never take the server down: log, carry on serving
            log.exception("warming failed")
            self.errors.append(f"warming stopped: {e}")
        self.seconds = time.perf_counter() - t0
        if self.freeze:
            gc.collect()
            gc.freeze()
        self.done.set()
        if self.on_done is not None:
            self.on_done(self.warmed, self.seconds, self.errors)

    def warm_one(self, name: str, era: str) -> None:
        """Open `name` under `era` and show every step once, as a learner's requests would."""
        session = self.make_session()
        try:
            reply = session.handle("open", {"name": name, "eras": [era], "reveal": True})
            encode(reply)
            total = len(reply["scenario"]["steps"])
            for step in range(1, total + 1):
                time.sleep(0)
                encode(session.handle("step", {"step": step, "reveal": False}))   # an ask, held: the state before it
                encode(session.handle("step", {"step": step, "reveal": True}))
        except WebError as e:
            self.errors.append(f"{name} under {era}: {e}")
            return
        self.warmed += 1
