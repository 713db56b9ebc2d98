"""The sandbox: commands typed one at a time on a live kernel, kept as a list to replay.

State is the era plus the command list; any state is a deterministic replay of that list, which
is how undo, an era switch and a reconnect work.  A new command runs on the session's live
kernel (LiveRun): nothing is replayed for it.  An era switch replays the list once; an undo runs
the commands since the last kept kernel (every CHECKPOINT commands); a restore runs its lines
once, in order.  A replay puts in words only the steps it keeps whole (the last SHOWN).  Each
line is checked against the names the earlier lines created (Names) and against the sandbox's
size limits before it runs; a line that fails either check changes nothing and is answered with
`console:1:COL: message`.  The diagram's size (`objects`) is known only once a command has run:
past it, the command is taken back (DiagramFull).

Memory is bounded by the history: only the last three states keep their snapshot and events (the
pane shows the last one), older steps keep their result; the diagram is the union layout of the
states of the current history (SandboxFrames), so an undone command leaves nothing behind.  An era
switch keeps the run and drawing of the era it leaves (one more, of the same commands), so that
switching straight back replays nothing; a typed line or an undo drops it.
"""
from __future__ import annotations

import contextlib
import datetime

import yaml

from ..eras import resolve
from ..limits import MAX_LINE
from ..mm import InvariantError, check_invariants
from ..scenario import Names, ScenarioError, parse_console_line
from ..scenario.command import COUNT, GRAMMAR, OPS, USAGE, tokenize
from ..scenario.runner import LiveRun, Run
from .library import WebError, check_era

# Big enough for every walkthrough's story, small enough that the diagram stays readable on a
# projector and every reply stays quick: `refs` bounds the references held at once (gup/pin/vmsplice),
# `line` the length of a console line.
# `objects` bounds the diagram, which keeps a place for every object the session has shown (so
# that nothing on screen moves): what a layout and every reply cost grows with it.
DEFAULT_LIMITS = {"tasks": 6, "vmas": 4, "pages": 16, "commands": 200, "count": 2048, "refs": 4096,
                  "line": MAX_LINE, "objects": 150}
CHECKPOINT = 32        # commands between two kept kernels: an undo runs at most this many again
SHOWN = 3              # the last steps that keep their snapshot and events (_forget); a replay tells only these
RESTORE_EARLY = 48     # a longer restore starts the layout of each full state among its last this many when pushed


class Cancelled(Exception):
    """The client left: the work it asked for was dropped."""


class DiagramFull(WebError):
    """A command was taken back: it would have made the diagram bigger than the `objects` limit."""


def sandbox_era(era) -> str:
    """An era id, or an alias such as `latest`; WebError otherwise."""
    if isinstance(era, str) and resolve(era) is not None:
        return resolve(era)
    return check_era(era)


class Sandbox:
    """One learner's sandbox: an era, the commands so far and their run on a live kernel."""

    def __init__(self, era: str, limits: dict | None = None, view=None):
        self.era = sandbox_era(era)
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.view = view                  # SandboxFrames (push/pop/reset) or None
        self._each = True                 # the invariants are checked after every step (see _checked_at_end)
        self.commands: list = []
        self.names = Names()
        self._was = None                  # (era, live run, view) left by the last era switch, for the same commands
        self._start(self.era)

    def _start(self, era: str) -> None:
        self._was = None
        self.live = LiveRun(era, check=self._each, max_cells=None, checkpoints=CHECKPOINT, told=SHOWN)
        self._run = None
        if self.view is not None:
            self.view.reset(era)
            self.view.push(self.live.initial, (), "")

    @property
    def run(self) -> Run:
        if self._run is None:
            self._run = self.live.run()
        return self._run

    def _add(self, cmd, done: list, quiet: bool = False, untold: bool = False) -> None:
        """Run one command on the live kernel (the caller checked it); `done` are the commands before it.
        A command that takes the diagram past its `objects` limit is taken back (WebError).  `quiet`:
        a step run again that will be older than the last SHOWN, whose events are not kept (_forget);
        `untold`: a restore's, most likely so (LiveRun.add)."""
        try:
            step = self.live.add(cmd, quiet=quiet, untold=untold)
        except InvariantError as e:
            # The kernel is in a state the model should never reach: rebuild it without this command.
            self.live.rewind(done)
            raise WebError(f"console:1:1: the model broke an invariant (a bug in cowviz, please report it): {e}") \
                from None
        self._run = None
        steps = self.live.steps
        if self.view is not None:
            self.view.push(step.snapshot, step.events, step.command)
            objects = self.view.objects()
            if objects is not None and objects > self.limits["objects"]:
                # What the command made can only be known by running it: take it back (the steps
                # run again have their events in words, which a restore's untold steps had not).
                self.live.rewind(done)
                self.view.pop(_state(steps, -1, self.live), _state(steps, -2, self.live))
                raise DiagramFull(f"console:1:1: sandbox limit: the diagram keeps a place for every object this "
                               f"session has shown, at most {self.limits['objects']}, and this command would "
                               f"make it {objects}; undo, reset, or download the session and start again")
        _forget(steps)

    def _replay(self, commands: list, era: str, cancelled=None) -> None:
        """Run `commands` from the start under `era`, once, and show the result."""
        # The drawing under the new era most likely extends the same full state as the one it
        # replaces (the commands are the same): its Graphviz layout starts as soon as it is there.
        last_full = self.view.last_full() if self.view is not None and commands else None
        self._start(era)
        with self._expecting(last_full):
            for i, cmd in enumerate(commands):
                if cancelled is not None and cancelled():
                    raise Cancelled()
                self._add(cmd, commands[:i], quiet=i < len(commands) - SHOWN)

    @contextlib.contextmanager
    def _expecting(self, index: int | None, early: int | None = None):
        """While the block runs (a replay, a restore), the full states near state `index` start
        their Graphviz layout as soon as they are pushed (SandboxFrames.expect); the lines typed
        after it are drawn as they come."""
        if self.view is not None:
            self.view.expect(index, early)
        try:
            yield
        finally:
            if self.view is not None:
                self.view.expect(None)

    def _checked_at_end(self, run) -> None:
        """Do `run` (commands run again from the start: an era switch, a restore), checking the
        invariants of the state it ends in rather than after every step; only when they are broken
        is it done again checking every step, so that the step that broke them is refused, as it
        is when typed.  (Every step of every scenario and of the fuzzed sequences is checked by the
        test suite.)"""
        self._each = False
        try:
            run()
        finally:
            self._each = True
        self.live.check = True
        if check_invariants(self.live.kernel):
            run()

    # -- changing the list ------------------------------------------------------------------

    def apply(self, text, untold: bool = False) -> None:
        """Check one console line and run it.  Raises WebError("console:1:COL: ...") and changes nothing then.
        `untold`: a restore's line that will most likely not be among the last SHOWN (its events are
        put in words only if it is: _retell())."""
        if not isinstance(text, str):
            raise WebError("console:1:1: a command must be text")
        if len(text) > self.limits["line"]:
            raise WebError(f"console:1:{self.limits['line'] + 1}: sandbox limit: a line has at most "
                           f"{self.limits['line']} characters (this one has {len(text)})")
        if "\n" in text or "\r" in text:
            raise WebError("console:1:1: one command per line")
        if len(self.commands) >= self.limits["commands"]:
            raise WebError(f"console:1:1: sandbox limit: at most {self.limits['commands']} commands; "
                           "undo, reset, or download the session and start again")
        trial = self.names.clone()
        try:
            cmd = parse_console_line(text, trial, scratch=True)
        except ScenarioError as e:
            raise WebError(str(e)) from None
        if cmd is None:
            raise WebError("console:1:1: the line is empty (type a command, or 'help' is in the list below)")
        self._check_limits(cmd, trial)
        self._add(cmd, self.commands, untold=untold)
        self.commands.append(cmd)
        self.names = trial
        self._was = None

    def _retell(self) -> None:
        """Lines dropped at the end of a restore leave steps run untold among the last SHOWN: their
        events are put in words now, and the view draws the last two states with them."""
        live = self.live
        if live.tell() and self.view is not None:
            self.view.retell(_state(live.steps, -1, live), _state(live.steps, -2, live))

    def _check_limits(self, cmd, names: Names) -> None:
        lim = self.limits

        def refuse(col_key: str, message: str):
            raise WebError(f"console:1:{cmd.col(col_key)}: sandbox limit: {message}")

        spec, a = cmd.spec, cmd.args
        if spec.maps is not None and spec.maps(a) > lim["pages"]:
            refuse("pages", f"a VMA has at most {lim['pages']} pages here, so the diagram stays readable")
        if len(names.tasks) > lim["tasks"]:
            refuse("child" if "child" in a._fields else "task",
                   f"at most {lim['tasks']} tasks; exit one first")
        for mm in set(names.tasks.values()):
            if sum(v.mapped for v in names.mms[mm].values()) > lim["vmas"]:
                refuse("vma", f"at most {lim['vmas']} VMAs per process; munmap one first")
        if "count" in a._fields and a.count > lim["count"]:
            refuse("count", f"at most x{lim['count']} references in one gup")
        if spec.refs is not None:
            held = sum(len(h.refs) for h in self.live.kernel.holders.values())
            if held + spec.refs(a)[1] > lim["refs"]:
                refuse("count" if "count" in cmd.cols else "task",
                       f"at most {lim['refs']} page references held at once ({held} now); unpin or pipe-read first")

    def undo(self) -> str:
        """Drop the last command; returns its text.  WebError when there is nothing to undo."""
        if not self.commands:
            raise WebError("nothing to undo")
        last = self.commands[-1]
        commands = self.commands[:-1]
        names = Names()
        for c in commands:
            names.apply(c)
        # The kernel cannot run backwards: from its last checkpoint, run the rest again, and take
        # the state out of the view.
        live = self.live
        live.rewind(commands)
        _forget(live.steps)
        if self.view is not None:
            self.view.pop(_state(live.steps, -1, live), _state(live.steps, -2, live))
        self._run = None
        self.commands, self.names = commands, names
        self._was = None
        return last.text

    def reset(self) -> None:
        self.commands, self.names = [], Names()
        self._start(self.era)

    def set_era(self, era: str, cancelled=None) -> None:
        """Run the commands again under another era.  If the client leaves meanwhile, or they make
        more of the diagram there than the limits allow, nothing changes."""
        era = sandbox_era(era)
        here = (self.era, self.live, self.view.keep() if self.view is not None else None, list(self.commands))
        was = self._was
        if was is not None and was[0] == era and was[3] == self.commands:
            # Back to the era the last switch left, with the same commands: its run and drawing are
            # what a replay would make again (it is deterministic), so they are taken back as they are.
            self.live, self._run = was[1], None
            if self.view is not None:
                self.view.put_back(was[2])
        else:
            try:
                self._checked_at_end(lambda: self._replay(self.commands, era, cancelled))
            except (WebError, Cancelled) as e:
                self.live, self._run = here[1], None
                if self.view is not None:
                    self.view.put_back(here[2])
                self._was = was
                if isinstance(e, Cancelled):
                    raise
                raise WebError(f"{e} (under {era}; the session stays under {self.era})") from None
        self.era = era
        self._was = here

    def restore(self, texts, cancelled=None) -> list[str]:
        """Run a saved list of command lines (a reload), once, in order.  Returns the errors of lines that
        were dropped.  `cancelled()` is asked between lines: true when the client has left (Cancelled)."""
        if not isinstance(texts, list):
            raise WebError("commands must be a list of lines")
        errors = []
        before = list(self.commands)

        def run():
            errors.clear()
            self.commands, self.names = [], Names()
            self._replay(before, self.era)
            for c in before:
                self.names.apply(c)
            self.commands = before[:]
            last = min(len(texts), self.limits["commands"])
            # Which full state the last state's drawing extends is not known before the lines
            # run: any among the last RESTORE_EARLY states starts its Graphviz layout at once.
            # (A shorter restore is quick, and its first states are full ones.)
            with self._expecting(len(before) + last if last > RESTORE_EARLY else None, RESTORE_EARLY):
                self._run_saved(texts[:last], errors, cancelled)
        self._checked_at_end(run)
        if len(texts) > self.limits["commands"]:
            errors.append(f"saved lines {self.limits['commands'] + 1}-{len(texts)} dropped: "
                          f"sandbox limit: at most {self.limits['commands']} commands")
        return errors

    def _run_saved(self, texts: list, errors: list, cancelled) -> None:
        """A restore's lines, in order: each refused one is dropped (its error in `errors`).  All
        but the last SHOWN run untold (_retell() tells those that end up last)."""
        last = len(texts)
        for n, text in enumerate(texts, 1):
            if cancelled is not None and cancelled():
                raise Cancelled()
            try:
                self.apply(text, untold=n <= last - SHOWN)
            except WebError as e:
                errors.append(f"saved line {n} dropped: {e}")
                if isinstance(e, DiagramFull):
                    # Every later line would be run and taken back in turn: the restore stops here.
                    if n < last:
                        errors.append(f"saved lines {n + 1}-{last} dropped: the diagram is full")
                    break
        self._retell()

    # -- reading ----------------------------------------------------------------------------

    @property
    def history(self) -> list[str]:
        return [c.text for c in self.commands]

    def complete(self, text) -> dict:
        """Completions for the word at the end of `text`: {"start", "candidates", "usage"}."""
        if not isinstance(text, str):
            raise WebError("complete: text must be a string")
        if len(text) > self.limits["line"]:
            raise WebError(f"complete: sandbox limit: a line has at most {self.limits['line']} characters")
        return complete_line(text, self.names)

    def export_yaml(self) -> str:
        """The session as a scenario file that `python -m cowviz run` accepts."""
        steps = []
        for c, s in zip(self.commands, self.run.steps):
            step = {"do": c.text}
            if s.output is not None or s.error is not None:
                # Record what this era answered, as an expectation for this era only.
                step["expect"] = {self.era: s.result}
            steps.append(step)
        doc = {"title": "Sandbox session",
               "summary": f"Recorded in the cowviz sandbox under {self.era}.",
               "kernel": self.era,
               "steps": steps or [{"do": "mmap P buf 1"}]}
        head = (f"# Recorded in the cowviz sandbox on {datetime.date.today().isoformat()} under kernel era {self.era}.\n"
                f"# Run it with: python -m cowviz run THIS_FILE --kernel all\n")
        return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def _forget(steps: list) -> None:
    """Drop the snapshots and events of all but the last SHOWN (three) steps: only the last two states
    are ever drawn again (an undo needs both), and taking a command back the three before it."""
    i = len(steps) - SHOWN - 1
    while i >= 0 and steps[i].snapshot is not None:
        steps[i] = steps[i].forgotten()
        i -= 1


def _state(steps: list, i: int, live: LiveRun):
    """(snapshot, events) of step `i` (negative: from the end), the start for one before the first."""
    if len(steps) + i < 0:
        return (live.initial, ()) if len(steps) + i == -1 else None
    return steps[i].snapshot, steps[i].events


def complete_line(text: str, names: Names) -> dict:
    """What may come next at the end of a console line, from the command grammar and the names so far."""
    words = tokenize(text)
    ends_in_space = text == "" or text[-1].isspace() or "#" in text
    if words and not ends_in_space:
        word, start = words[-1]
        before = [w for w, _ in words[:-1]]
        start -= 1
    else:
        word, start, before = "", len(text), [w for w, _ in words]
    if "#" in text:
        return {"start": start, "candidates": [], "usage": None}
    if not before:
        return {"start": start, "candidates": [c for c in OPS if c.startswith(word)],
                "usage": USAGE.get(word)}
    op = before[0]
    options = _next_words(op, before[1:], names)
    candidates = sorted({o for o in options if o.startswith(word) and o != word} |
                        ({word} if word in options else set()), key=lambda o: (o != word, o))
    return {"start": start, "candidates": candidates, "usage": USAGE.get(op)}


def _page_refs(task: str, names: Names) -> list[str]:
    mm = names.tasks.get(task)
    out = []
    for v in names.vma_names(task):
        info = names.mms[mm][v]
        out += [f"{v}[{i}]" for i in range(min(info.pages, 64))]
    return out


def _next_words(op: str, args: list[str], names: Names) -> list[str]:
    """Candidates for argument number len(args) of `op`, walking the command's forms in GRAMMAR."""
    out: list[str] = []
    for form in GRAMMAR.get(op, ()):
        if any(i < len(args) and a.kind == "word" and args[i] not in a.words for i, a in enumerate(form)):
            continue                      # typed a word another form takes (assert same-page vs pinned)
        out += _form_words(form, args, names)
    return out


def _form_words(form: tuple, args: list[str], names: Names) -> list[str]:
    n = len(args)
    fixed = [a for a in form if a.kind != "flags"]
    if n >= len(fixed):
        flags = next((a for a in form if a.kind == "flags"), None)
        if flags is None:
            return []
        used = set(args[len(fixed):])
        words = [w for w in flags.words if w != "xN"] + (["x2", "x1025"] if "xN" in flags.words else [])
        return [w for w in words if w not in used and not (w.startswith("x") and any(COUNT.match(u) for u in used))]
    arg = fixed[n]
    # The task a VMA or page belongs to: the nearest task argument before it.
    task = next((args[i] for i in range(n - 1, -1, -1) if fixed[i].kind in ("task", "task-or-new", "new-task")), "")
    kind = arg.kind
    if kind in ("task", "task-or-new"):
        return names.task_names()
    if kind in ("vma", "new-vma"):
        return names.vma_names(task)
    if kind == "page":
        return _page_refs(task, names)
    if kind == "device":
        return names.holder_names("device")
    if kind == "pipe":
        return names.holder_names("pipe")
    if kind == "word":
        return list(arg.words)
    return []                             # new-task, number, value: nothing to offer
