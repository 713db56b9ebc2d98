"""The walkthroughs on disk: scenario files found, loaded, checked and run on demand, with caches.

A walkthrough's name is its path under the scenario folder without `.yaml`
(`01-fork-cow`, or `kernel/vmsplice` for one in a sub-folder).  Folders added
with `--scenarios DIR` come beside the shipped one, each as its own section:
their names start with the folder's label (`lecture/my-case`).  Grouping comes
from each file's own metadata: `series:` and `order:` (the tutorial is the
shipped series `tutorial`), then `level:`; never from the file name.

A file is re-read when its modification time changes, so a scenario author
can edit a file and reload the page.  A run is a pure function of the file
and the era, so runs are cached and shared by every connection (they are
immutable values).
"""
from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass, field

from ..eras import ERA_IDS
from ..mm import InvariantError
from ..scenario import Scenario, ScenarioError, load_scenario, parse_scenario, run_scenario
from ..scenario.runner import Run

TUTORIAL = "tutorial"       # the series the tutorial page walks through
LEVELS = ("beginner", "intermediate", "advanced", "reference")
log = logging.getLogger(__name__)
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
    errors: tuple = ()             # the ScenarioErrors, each with line, col and message

    section: str = ""              # "" for the shipped folder, else the label of a --scenarios folder

    @property
    def in_series(self) -> bool:
        """Part of the tutorial: the shipped files whose `series:` is `tutorial`."""
        return self.section == "" and self.scenario is not None and self.scenario.series == TUTORIAL

    def sort_key(self) -> tuple:
        s = self.scenario
        if s is None:
            return (1, 0, 0, self.name)
        level = LEVELS.index(s.level) if s.level in LEVELS else len(LEVELS)
        return (0, s.order if s.order is not None else 10**9, level, s.title.lower(), self.name)


DRAFT = "draft:"            # names of drafts: scenario text sent by the editor, kept in memory only
MAX_DRAFTS = 64
MAX_DRAFT_BYTES = 256 * 1024
MAX_KNOWN = 4096            # names remembered as checked (Library.entry); a bound, whatever clients send


class Library:
    """The scenario files under one folder, loaded lazily and re-read when they change."""

    def __init__(self, folder: str, extra=()):
        self.folder = os.path.abspath(folder)
        # label -> folder, for each --scenarios folder added beside the shipped one
        self.extra: dict[str, str] = {}
        for f in extra:
            f = os.path.abspath(f)
            if f == self.folder or f in self.extra.values():
                continue                  # the shipped folder, or one given twice
            label = re.sub(r"[^A-Za-z0-9_.-]", "-", os.path.basename(f.rstrip(os.sep)) or "scenarios").lstrip(".-")
            label = label or "scenarios"
            base, n = label, 2
            while label in self.extra or os.path.isdir(os.path.join(self.folder, label)):
                label, n = f"{base}-{n}", n + 1
            self.extra[label] = f
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._runs: dict[tuple, Prepared] = {}
        self._drafts: dict[str, Entry] = {}
        self._known: dict[str, tuple] = {}   # name -> (section, path), for names of files that were there

    # -- drafts (the editor) ------------------------------------------------------------------

    def draft(self, text, label: str = "draft.yaml") -> Entry:
        """Check scenario text from the editor; the entry's name opens it like a file (`draft:<hash>`).

        Content-addressed and kept in memory (the last MAX_DRAFTS): nothing is written anywhere."""
        if not isinstance(text, str):
            raise WebError("a draft is scenario text")
        if len(text.encode("utf-8")) > MAX_DRAFT_BYTES:
            raise WebError(f"the scenario is too long to preview (more than {MAX_DRAFT_BYTES // 1024} KiB)")
        import hashlib
        name = DRAFT + hashlib.sha256(f"{label}\0{text}".encode("utf-8")).hexdigest()[:24]
        with self._lock:
            have = self._drafts.get(name)
        if have is not None:
            return have
        try:
            scenario, error, errors = parse_scenario(text, label), None, []
        except ScenarioError as e:
            scenario, error, errors = None, str(e), e.errors
        entry = Entry(name, label, 0, scenario, error, tuple(errors))
        with self._lock:
            self._drafts[name] = entry
            while len(self._drafts) > MAX_DRAFTS:
                old = next(iter(self._drafts))
                del self._drafts[old]
                for k in [k for k in self._runs if k[0] == old]:
                    del self._runs[k]
        return entry

    # -- files ------------------------------------------------------------------------------

    def names(self, section: str | None = None) -> list[str]:
        """Every scenario name (of one section: "" the shipped folder, or a --scenarios label), sorted."""
        out = []
        for label, folder in [("", self.folder), *self.extra.items()]:
            if section is not None and label != section:
                continue
            out += [f"{label}/{n}" if label else n for n in _yaml_names(folder)]
        return out

    def _path(self, name: str) -> tuple[str, str]:
        """(section, path of the file) for a name."""
        head, _, rest = name.partition("/")
        if rest and head in self.extra:
            return head, os.path.join(self.extra[head], *rest.split("/")) + ".yaml"
        return "", os.path.join(self.folder, *name.split("/")) + ".yaml"

    def stamp(self, name: str | None = None) -> str:
        """Changes when a file (or, without a name, any file of the library) changes, appears or goes."""
        import hashlib
        names = [name] if name is not None else self.names()
        h = hashlib.sha256()
        for n in names:
            try:
                st = os.stat(self._path(n)[1])
                h.update(f"{n}\0{st.st_mtime_ns}\0{st.st_size}\n".encode())
            except OSError:
                h.update(f"{n}\0gone\n".encode())
        return h.hexdigest()[:20]

    def sections(self) -> list[dict]:
        """The library page: per folder, its groups (a series, in order; then by level)."""
        out = []
        for label, folder in [("", self.folder), *self.extra.items()]:
            entries = [self.entry(n) for n in self.names(label)]
            groups: dict[str, list] = {}
            for e in sorted(entries, key=Entry.sort_key):
                s = e.scenario
                key = (s.series if s is not None and s.series else None)
                groups.setdefault(key, []).append(e)
            named = [(k, v) for k, v in groups.items() if k is not None]
            named.sort(key=lambda kv: (kv[0] != TUTORIAL, kv[0].lower()))
            if None in groups:
                named.append((None, groups[None]))
            out.append({"label": label, "folder": folder, "groups": named})
        return out

    def entry(self, name: str) -> Entry:
        """The scenario file `name`, loaded (or with its error).  Raises WebError if there is no such file."""
        if isinstance(name, str) and name.startswith(DRAFT):
            with self._lock:
                have = self._drafts.get(name)
            if have is None:
                raise WebError("this draft is no longer on the server: edit it again to re-send it")
            return have
        known = self._known.get(name) if type(name) is str else None
        if known is None:
            if not isinstance(name, str) or not NAME.match(name) or ".." in name.split("/"):
                raise WebError(f"unknown walkthrough {name!r}")
            known = self._path(name)
        section, path = known
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            raise WebError(f"unknown walkthrough '{name}' (see the library for the list)") from None
        if len(self._known) < MAX_KNOWN:
            self._known[name] = known         # a checked name of a file that exists: no regex, no join next time
        with self._lock:
            have = self._entries.get(name)
            if have is not None and have.mtime == mtime:
                return have
        error_obj = None
        try:
            scenario, error = load_scenario(path), None
        except ScenarioError as e:
            scenario, error, error_obj = None, str(e), e
        except Exception as e:       # a bug in the loader: the file is listed as broken, the site works
            log.exception("loading %s failed", path)
            scenario, error = None, f"{path}:1:1: the file could not be read ({type(e).__name__}; a bug in cowviz)"
        entry = Entry(name, path, mtime, scenario, error, getattr(error_obj, "errors", ()), section)
        with self._lock:
            self._entries[name] = entry
        return entry

    def scenario(self, name: str) -> Scenario:
        """The loaded scenario, or WebError saying which file and line is wrong."""
        return self._loaded(self.entry(name))

    def _loaded(self, entry: Entry) -> Scenario:
        name = entry.name
        if entry.scenario is None:
            raise WebError(f"walkthrough '{name}' cannot be opened: {self._display(entry.error)}")
        return entry.scenario

    def entries(self) -> list[Entry]:
        """Every scenario file, loaded, in name order."""
        return [self.entry(n) for n in self.names()]

    def series(self, name: str | None = None) -> list[Entry]:
        """The tutorial series in order; or, given a walkthrough's name, the series that one belongs to."""
        if name is None:
            return sorted((e for e in self.entries() if e.in_series), key=Entry.sort_key)
        me = self.entry(name)
        if me.scenario is None or not me.scenario.series:
            return []
        return sorted((e for e in (self.entry(n) for n in self.names(me.section))
                       if e.scenario is not None and e.scenario.series == me.scenario.series), key=Entry.sort_key)

    def _display(self, error: str) -> str:
        # Show paths relative to the scenario folder: shorter, and no server layout in the page.
        for label, folder in self.extra.items():
            error = error.replace(folder + os.sep, label + "/")
        return error.replace(self.folder + os.sep, "")

    def error_text(self, entry: Entry) -> str | None:
        return self._display(entry.error) if entry.error else None

    # -- runs -------------------------------------------------------------------------------

    def laid_out(self, name: str, era: str) -> bool:
        """Whether `name`, as last read, is run and laid out under `era` (nothing left to compute).  Without
        a look at the disk: a request that then finds the file changed reads and lays it out itself."""
        with self._lock:
            entry = self._entries.get(name)
            have = self._runs.get((name, entry.mtime, era)) if entry is not None else None
        return have is not None and have.frames is not None

    def prepared(self, name: str, era: str) -> "Prepared":
        """The scenario run under `era`, with room for its frames and inspector data (cached).  Raises WebError."""
        entry = self.entry(name)
        scenario = self._loaded(entry)
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
        except ScenarioError as e:                       # past a run limit
            raise WebError(f"walkthrough '{name}' cannot be run: {self._display(str(e))}") from None
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


def _yaml_names(folder: str) -> list[str]:
    out = []
    if not os.path.isdir(folder):
        return out
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in files:
            if f.endswith(".yaml") and not f.startswith("."):
                rel = os.path.relpath(os.path.join(root, f), folder)
                out.append(rel[:-len(".yaml")].replace(os.sep, "/"))
    return sorted(out, key=lambda n: (n.count("/"), n))


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
