"""The sandbox: commands typed one at a time, kept as a list, replayed to give every state.

State is the era plus the command list; any state is a deterministic replay
of that list, which is how undo, an era switch and a reconnect work.  Each
line is checked against the names the earlier lines created (Names) and
against the sandbox's size limits before it runs; a line that fails either
check changes nothing and is answered with `console:1:COL: message`.
"""
from __future__ import annotations

import datetime

import yaml

from ..mm import InvariantError
from ..scenario import Names, ScenarioError, parse_console_line, run_commands
from ..scenario.command import COMMANDS, COUNT, GRAMMAR, USAGE, tokenize
from ..scenario.runner import Run
from .library import WebError, check_era

# Big enough for every walkthrough's story, small enough that the diagram
# stays readable on a projector and a replay stays instant.
DEFAULT_LIMITS = {"tasks": 6, "vmas": 4, "pages": 16, "commands": 200, "count": 2048}


class Sandbox:
    """One learner's sandbox: an era, the commands so far and their run."""

    def __init__(self, era: str, limits: dict | None = None):
        self.era = check_era(era)
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.commands: list = []
        self.names = Names()
        self.run: Run = run_commands([], self.era)

    # -- changing the list ------------------------------------------------------------------

    def apply(self, text) -> None:
        """Check one console line and run it.  Raises WebError("console:1:COL: ...") and changes nothing then."""
        if not isinstance(text, str):
            raise WebError("console:1:1: a command must be text")
        if "\n" in text or "\r" in text:
            raise WebError("console:1:1: one command per line")
        if len(self.commands) >= self.limits["commands"]:
            raise WebError(f"console:1:1: sandbox limit: at most {self.limits['commands']} commands; "
                           "undo, reset, or download the session and start again")
        trial = self.names.clone()
        try:
            cmd = parse_console_line(text, trial)
        except ScenarioError as e:
            raise WebError(str(e)) from None
        if cmd is None:
            raise WebError("console:1:1: the line is empty (type a command, or 'help' is in the list below)")
        self._check_limits(cmd, trial)
        commands = self.commands + [cmd]
        run = self._replay(commands, self.era)
        self.commands, self.names, self.run = commands, trial, run

    def _check_limits(self, cmd, names: Names) -> None:
        lim = self.limits

        def refuse(col_key: str, message: str):
            raise WebError(f"console:1:{cmd.col(col_key)}: sandbox limit: {message}")

        if cmd.op == "mmap" and cmd.pages > lim["pages"]:
            refuse("pages", f"a VMA has at most {lim['pages']} pages here, so the diagram stays readable")
        if len(names.tasks) > lim["tasks"]:
            refuse("child" if cmd.op in ("fork", "thread") else "task",
                   f"at most {lim['tasks']} tasks; exit one first")
        for mm in set(names.tasks.values()):
            if sum(v.mapped for v in names.mms[mm].values()) > lim["vmas"]:
                refuse("vma", f"at most {lim['vmas']} VMAs per process; munmap one first")
        if cmd.op == "gup" and cmd.count > lim["count"]:
            refuse("count", f"at most x{lim['count']} references in one gup")

    @staticmethod
    def _replay(commands: list, era: str) -> Run:
        try:
            return run_commands(commands, era)
        except InvariantError as e:
            raise WebError(f"console:1:1: the model broke an invariant (a bug in cowviz, please report it): {e}") \
                from None

    def undo(self) -> str:
        """Drop the last command; returns its text.  WebError when there is nothing to undo."""
        if not self.commands:
            raise WebError("nothing to undo")
        last = self.commands[-1]
        commands = self.commands[:-1]
        names = Names()
        for c in commands:
            names.apply(c)
        self.run = self._replay(commands, self.era)
        self.commands, self.names = commands, names
        return last.text

    def reset(self) -> None:
        self.commands, self.names, self.run = [], Names(), run_commands([], self.era)

    def set_era(self, era: str) -> None:
        era = check_era(era)
        self.run = self._replay(self.commands, era)
        self.era = era

    def restore(self, texts) -> list[str]:
        """Replay a saved list of command lines (a reload).  Returns the errors of lines that were dropped."""
        if not isinstance(texts, list):
            raise WebError("commands must be a list of lines")
        errors = []
        for n, text in enumerate(texts[: self.limits["commands"]], 1):
            try:
                self.apply(text)
            except WebError as e:
                errors.append(f"saved line {n} dropped: {e}")
        return errors

    # -- reading ----------------------------------------------------------------------------

    @property
    def history(self) -> list[str]:
        return [c.text for c in self.commands]

    def complete(self, text) -> dict:
        """Completions for the word at the end of `text`: {"start", "candidates", "usage"}."""
        if not isinstance(text, str):
            raise WebError("complete: text must be a string")
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
        return {"start": start, "candidates": [c for c in COMMANDS if c.startswith(word)],
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
