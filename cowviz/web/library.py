"""The walkthroughs on disk: scenario files found, loaded, checked and run on demand, with caches.

A walkthrough's name is its path under the scenario folder without `.yaml`
(`01-fork-cow`, or `kernel/vmsplice` for one in a sub-folder).  The tutorial
series is the files whose names start with two digits and a dash, in order.

A file is re-read when its modification time changes, so a scenario author
can edit a file and reload the page.  A run is a pure function of the file
and the era, so runs are cached and shared by every connection (they are
immutable values).
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field

from ..eras import ERA_IDS
from ..mm import InvariantError
from ..scenario import Scenario, ScenarioError, load_scenario, run_scenario
from ..scenario.runner import Run

SERIES = re.compile(r"\d\d-")
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*\Z")


class WebError(Exception):
    """A request the server refuses: the message is shown in the page as it is."""


@dataclass(frozen=True)
class Entry:
    """One scenario file: loaded, or the error that stops it loading."""
    name: str
    path: str
    mtime: int
    scenario: Scenario | None
    error: str | None

    @property
    def in_series(self) -> bool:
        return bool(SERIES.match(os.path.basename(self.name)))


class Library:
    """The scenario files under one folder, loaded lazily and re-read when they change."""

    def __init__(self, folder: str):
        self.folder = os.path.abspath(folder)
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._runs: dict[tuple, Prepared] = {}

    # -- files ------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """Every scenario name under the folder, sorted (so the series comes in order)."""
        out = []
        if not os.path.isdir(self.folder):
            return out
        for root, dirs, files in os.walk(self.folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for f in files:
                if f.endswith(".yaml") and not f.startswith("."):
                    rel = os.path.relpath(os.path.join(root, f), self.folder)
                    out.append(rel[:-len(".yaml")].replace(os.sep, "/"))
        return sorted(out, key=lambda n: (n.count("/"), n))

    def entry(self, name: str) -> Entry:
        """The scenario file `name`, loaded (or with its error).  Raises WebError if there is no such file."""
        if not isinstance(name, str) or not NAME.match(name) or ".." in name.split("/"):
            raise WebError(f"unknown walkthrough {name!r}")
        path = os.path.join(self.folder, *name.split("/")) + ".yaml"
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            raise WebError(f"unknown walkthrough '{name}' (see the library for the list)") from None
        with self._lock:
            have = self._entries.get(name)
            if have is not None and have.mtime == mtime:
                return have
        try:
            scenario, error = load_scenario(path), None
        except ScenarioError as e:
            scenario, error = None, str(e)
        entry = Entry(name, path, mtime, scenario, error)
        with self._lock:
            self._entries[name] = entry
        return entry

    def scenario(self, name: str) -> Scenario:
        """The loaded scenario, or WebError saying which file and line is wrong."""
        entry = self.entry(name)
        if entry.scenario is None:
            raise WebError(f"walkthrough '{name}' cannot be opened: {self._display(entry.error)}")
        return entry.scenario

    def entries(self) -> list[Entry]:
        """Every scenario file, loaded, in name order."""
        return [self.entry(n) for n in self.names()]

    def series(self) -> list[Entry]:
        """The tutorial series: loadable files named NN-..., in order."""
        return [e for e in self.entries() if e.in_series and e.scenario is not None]

    def _display(self, error: str) -> str:
        # Show paths relative to the scenario folder: shorter, and no server layout in the page.
        return error.replace(self.folder + os.sep, "")

    def error_text(self, entry: Entry) -> str | None:
        return self._display(entry.error) if entry.error else None

    # -- runs -------------------------------------------------------------------------------

    def prepared(self, name: str, era: str) -> "Prepared":
        """The scenario run under `era`, with room for its frames and inspector data (cached).  Raises WebError."""
        entry = self.entry(name)
        scenario = self.scenario(name)
        check_era(era)
        if era not in scenario.eras:
            raise WebError(f"walkthrough '{name}' is written for {', '.join(scenario.eras)}, not {era}")
        key = (name, entry.mtime, era)
        with self._lock:
            have = self._runs.get(key)
        if have is not None:
            return have
        try:
            run = run_scenario(scenario, era)
        except InvariantError as e:
            raise WebError(f"the model broke an invariant running '{name}' under {era}: {e}") from None
        prepared = Prepared(name, scenario, run, [None] * (len(run.steps) + 1))
        with self._lock:
            # Forget runs of older versions of the same file.
            for k in [k for k in self._runs if k[0] == name and k[1] != entry.mtime]:
                del self._runs[k]
            prepared = self._runs.setdefault(key, prepared)
        return prepared

    def run(self, name: str, era: str) -> Run:
        """The scenario run under `era` (cached).  Raises WebError."""
        return self.prepared(name, era).run


@dataclass
class Prepared:
    """One walkthrough under one era: its run, and caches filled as steps are shown.

    The caches only ever gain values computed from immutable inputs, so two
    threads filling the same slot at once compute the same thing.
    """
    name: str
    scenario: Scenario
    run: Run
    objects: list                     # inspector entries per step (0..N), filled lazily
    frames: list | None = None        # diagram frames per step (0..N), made on first use
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)  # held while laying out
    panes: dict = field(default_factory=dict, repr=False, compare=False)  # (step, held) -> Pane, made once


def check_era(era) -> str:
    """The era id if it is one; WebError otherwise."""
    if not isinstance(era, str) or era not in ERA_IDS:
        raise WebError(f"unknown era {era!r} (eras: {', '.join(ERA_IDS)})")
    return era
