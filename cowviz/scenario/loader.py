"""Scenario files: YAML with positions, checked before they run.  Format: docs/scenarios.md.

    title: ...            summary: ...          eras: [5.9-rc, 5.9]     kernel: 5.9-rc
    level: ...            tags: [...]           references: [...]       compare: [5.9-rc, 5.9]
    steps:
      - do: write P buf[0] A          # one command
        say: Markdown narration       # or {5.7,5.8: text, 5.9-rc: ..., 5.9,6.x: ...}
        notes: Markdown presenter notes (shown only to a classroom room's presenter)
        expect: A                     # or {5.9-rc: B, 5.9: C}
        ask: {question, choices, answer, explain}  or  {question, pick: page, of: P buf[0], explain}

Every problem is reported as `file:line:col: message` (ScenarioError), never
as a traceback.  A file is checked to its end: every independent problem is
reported, in line order (ScenarioError.errors); a problem that only follows
from an earlier one (a later use of a name a broken step would have created)
is not.  The YAML is read as a node tree, not converted to Python
values, so every scalar stays a string (`5.9` is an era, not a float) and
every value keeps its position.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from .. import limits
from ..eras import DEFAULT_ERA_IDS, ERA_IDS, resolve
from .command import PAGE_REF, Command, CommandError, PageRef, parse_command, tokenize
from .names import Names
from .detail import read_shows
from .narration import read_say

TOP_KEYS = ("title", "summary", "eras", "kernel", "steps", "level", "tags", "references", "compare", "series",
            "order", "shows")
STEP_KEYS = ("do", "say", "expect", "ask", "notes")
ASK_KEYS = ("question", "choices", "answer", "explain", "pick", "of")
NAME_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
ALL = "*"          # key of an expectation or answer that holds for every era


class ScenarioError(Exception):
    """A bad scenario file or console line: where, and what."""

    def __init__(self, path: str, line: int, col: int, message: str):
        super().__init__(f"{path}:{line}:{col}: {message}")
        self.path, self.line, self.col, self.message = path, line, col, message
        self.errors = [self]

    @classmethod
    def several(cls, errors: list) -> "ScenarioError":
        """One exception for all of a file's errors: in line order, the first one's fields, one per line."""
        errors = sorted({(e.line, e.col, e.message): e for e in errors}.values(), key=lambda e: (e.line, e.col))
        first = errors[0]
        out = cls(first.path, first.line, first.col, first.message)
        out.errors = errors
        out.args = ("\n".join(f"{e.path}:{e.line}:{e.col}: {e.message}" for e in errors),)
        return out


@dataclass(frozen=True)
class Ask:
    """A predict-then-reveal question asked before the step's outcome is shown."""
    question: str
    kind: str                       # "choice" | "pick"
    choices: tuple = ()
    answer: dict = field(default_factory=dict)     # era id or ALL -> the right choice
    explain: dict = field(default_factory=dict)    # era id or ALL -> Markdown
    of: PageRef | None = None       # pick: the page this PTE maps after the step is the answer

    def answer_for(self, era: str) -> str | None:
        return self.answer.get(era, self.answer.get(ALL))

    def explain_for(self, era: str) -> str | None:
        return self.explain.get(era, self.explain.get(ALL))


@dataclass(frozen=True)
class Step:
    index: int                      # 1-based
    line: int
    col: int
    command: Command
    say: dict | None = None         # era id or ALL -> Markdown narration (cowviz/scenario/narration.py)
    expect: dict | None = None      # era id or ALL -> expected result
    ask: Ask | None = None
    notes: str | None = None        # presenter notes: only a room's presenter sees them

    def say_for(self, era: str) -> str | None:
        """The narration of this step under the era (None if the step has none)."""
        if self.say is None:
            return None
        return self.say.get(era, self.say.get(ALL))

    @property
    def say_varies(self) -> bool:
        """Does the narration differ by era (a `say:` map)?"""
        return self.say is not None and ALL not in self.say

    def expect_for(self, era: str) -> str | None:
        if self.expect is None:
            return None
        return self.expect.get(era, self.expect.get(ALL))


@dataclass(frozen=True)
class Scenario:
    path: str
    title: str
    summary: str
    eras: tuple
    kernel: str
    steps: tuple
    level: str | None = None
    tags: tuple = ()
    references: tuple = ()          # of {"title", "url"} dicts
    compare: tuple = ()
    series: str | None = None       # the library section it belongs to (its folder's when not given)
    order: int | None = None        # its place in the series
    shows: tuple | None = None      # the diagram details taught so far (cowviz/scenario/detail.py); None: all

    @property
    def name(self) -> str:
        """The file name without folder and extension: the scenario's id."""
        import os
        return os.path.splitext(os.path.basename(self.path))[0]


def load_scenario(path: str) -> Scenario:
    """Read and check a scenario file.  Raises ScenarioError."""
    try:
        with open(path, "rb") as f:
            data = f.read(limits.MAX_FILE_BYTES + 1)      # bounded: `check /dev/zero` must end
        if len(data) > limits.MAX_FILE_BYTES:
            raise ScenarioError(path, 1, 1, f"the file is larger than {limits.MAX_FILE_BYTES // 1024} KiB; "
                                            "a scenario is a few KB")
        text = data.decode("utf-8")
    except OSError as e:
        raise ScenarioError(path, 1, 1, f"cannot read the file: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ScenarioError(path, 1, 1, f"the file is not UTF-8 text ({e.reason})") from None
    return parse_scenario(text, path)


def parse_scenario(text: str, path: str = "<scenario>") -> Scenario:
    """Check scenario text.  Raises ScenarioError."""
    return _Reader(path).read(text)


class _Reader:
    def __init__(self, path: str):
        self.path = path
        self.errors: list[ScenarioError] = []
        self.tainted: set[str] = set()     # names a broken step mentions: later errors about them are consequences

    def attempt(self, fn, default=None):
        """fn(), or `default` with its error kept: the file is read on after an independent error."""
        try:
            return fn()
        except _Consequence:
            return default
        except ScenarioError as e:
            self.errors.append(e)
            return default

    def error(self, node, message: str, offset: int = 0):
        line, col = _position(node, offset)
        return ScenarioError(self.path, line, col, message)

    # -- YAML shapes ------------------------------------------------------------------

    def mapping(self, node, what: str, keys: tuple) -> dict:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping of {', '.join(keys)}")
        out = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                raise self.error(k, f"{what}: keys must be plain words")
            if k.value not in keys:
                self.errors.append(self.error(k, f"{what}: unknown key '{k.value}' (allowed: {', '.join(keys)})"))
                continue
            if k.value in out:
                self.errors.append(self.error(k, f"{what}: duplicate key '{k.value}'"))
                continue
            out[k.value] = (k, v)
        return out

    def text(self, node, what: str, empty_ok: bool = False) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, f"{what} must be text, not a {'list' if isinstance(node, yaml.SequenceNode) else 'mapping'}")
        if not empty_ok and not node.value.strip():
            raise self.error(node, f"{what} is empty")
        return node.value

    def text_list(self, node, what: str) -> list:
        if isinstance(node, yaml.ScalarNode):
            return [(node, node.value)]
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"{what} must be a list")
        return [(n, self.text(n, f"{what} item")) for n in node.value]

    def era(self, node, value: str, allowed=None) -> str:
        canonical = resolve(value.strip())
        if canonical is None:
            raise self.error(node, f"unknown era '{value}' (eras: {', '.join(ERA_IDS)}, or latest)")
        if allowed is not None and canonical not in allowed:
            raise self.error(node, f"era {canonical} is not among this scenario's eras ({', '.join(allowed)})")
        return canonical

    def per_era(self, node, what: str, eras: tuple) -> dict:
        """A single value for all eras, or a map from era id to value."""
        if isinstance(node, yaml.MappingNode):
            out = {}
            for k, v in node.value:
                key = self.attempt(lambda: self.text(k, f"{what} era"))
                for word in (key.split(",") if key is not None else ()):   # `5.7,5.8: ...` names several
                    era = self.attempt(lambda: self.era(k, word))
                    if era in out:
                        self.errors.append(self.error(k, f"{what}: era {era} given twice"))
                    elif era is not None:
                        out[era] = self.attempt(lambda: self.text(v, f"{what} for {era}", empty_ok=True).strip(), "")
            return out
        return {ALL: self.text(node, what, empty_ok=True).strip()}

    # -- the file ---------------------------------------------------------------------

    def read(self, text: str) -> Scenario:
        scenario = self.attempt(lambda: self._read(text))
        if self.errors:
            raise ScenarioError.several(self.errors)
        return scenario

    def _read(self, text: str) -> Scenario:
        try:
            root = limits.compose(text)      # bounded nesting: deep YAML is an error, not RecursionError
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = e.problem or e.context
            if problem and "mapping values are not allowed" in problem:
                problem += " (a ': ' inside a value: put the value in quotes, or write 'say: >-' and the text on the next lines)"
            raise ScenarioError(self.path, line, col, f"not valid YAML: {problem}") from None
        except yaml.YAMLError as e:
            raise ScenarioError(self.path, 1, 1, f"not valid YAML: {e}") from None
        if root is None:
            raise ScenarioError(self.path, 1, 1, "the file is empty; a scenario needs a title and steps")
        before = len(self.errors)
        top = self.mapping(root, "a scenario", TOP_KEYS)
        for key in ("title", "steps"):
            if key not in top and len(self.errors) == before:      # not when a misspelt key is the cause
                self.errors.append(self.error(root, f"a scenario needs '{key}'"))
        title = self.attempt(lambda: self.text(top["title"][1], "title"), "") if "title" in top else ""
        summary = self.attempt(lambda: self.text(top["summary"][1], "summary", empty_ok=True), "") \
            if "summary" in top else ""
        # Without an `eras:` list: the five original eras (5.19 runs only where it is named).
        eras = self.attempt(lambda: self.eras(top["eras"][1]), ERA_IDS) if "eras" in top else DEFAULT_ERA_IDS
        if "kernel" in top:
            kernel = self.attempt(lambda: self.era(top["kernel"][1], self.text(top["kernel"][1], "kernel"), eras),
                                  eras[-1])
        else:
            kernel = eras[-1]
        compare = self.attempt(lambda: self.compare(top["compare"][1], eras), ()) if "compare" in top else ()
        level = self.attempt(lambda: self.text(top["level"][1], "level")) if "level" in top else None
        tags = self.attempt(lambda: tuple(v for _, v in self.text_list(top["tags"][1], "tags")), ()) \
            if "tags" in top else ()
        series = self.attempt(lambda: self.text(top["series"][1], "series").strip()) if "series" in top else None
        order = self.attempt(lambda: self.order(top["order"][1])) if "order" in top else None
        references = self.attempt(lambda: self.references(top["references"][1]), ()) if "references" in top else ()
        steps = self.attempt(lambda: self.steps(top["steps"][1], eras), ()) if "steps" in top else ()
        shows = self.attempt(lambda: read_shows(self, top["shows"][1])) if "shows" in top else None
        return Scenario(self.path, title.strip(), summary.strip(), eras, kernel, steps, level, tags,
                        references, compare, series, order, shows)

    def eras(self, node) -> tuple:
        eras = []
        for n, v in self.text_list(node, "eras"):
            e = self.era(n, v)
            if e in eras:
                raise self.error(n, f"era {e} is listed twice")
            eras.append(e)
        return tuple(e for e in ERA_IDS if e in eras)

    def compare(self, node, eras: tuple) -> tuple:
        compare = tuple(self.era(n, v, eras) for n, v in self.text_list(node, "compare"))
        if len(compare) != 2 or compare[0] == compare[1]:
            raise self.error(node, "compare names two different eras, e.g. [5.9-rc, 5.9]")
        return compare

    def order(self, node) -> int:
        value = self.text(node, "order").strip()
        if not value.isdigit() or len(value) > 6:
            raise self.error(node, f"order must be a whole number (its place in the series), got '{value}'")
        return int(value)

    def references(self, node) -> tuple:
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, "references must be a list")
        out = []
        for item in node.value:
            if isinstance(item, yaml.ScalarNode):
                out.append({"title": item.value, "url": None})
                continue
            ref = self.attempt(lambda: self.reference(item))
            if ref is not None:
                out.append(ref)
        return tuple(out)

    def reference(self, item) -> dict:
        fields = self.mapping(item, "a reference", ("title", "url"))
        if "title" not in fields:
            raise self.error(item, "a reference needs a title")
        return {"title": self.text(fields["title"][1], "title"),
                "url": self.text(fields["url"][1], "url") if "url" in fields else None}

    def steps(self, node, eras: tuple) -> tuple:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.error(node, "steps must be a non-empty list of steps (each with 'do:')")
        if len(node.value) > limits.MAX_STEPS:
            raise self.error(node.value[limits.MAX_STEPS], f"a scenario has at most {limits.MAX_STEPS} steps")
        names = Names()
        steps = []
        for n, item in enumerate(node.value, 1):
            step = self.attempt(lambda: self.step(item, n, eras, names))
            if step is not None:
                steps.append(step)
        return tuple(steps)

    def step(self, item, n: int, eras: tuple, names: Names) -> Step | None:
        """One step; None (with its errors kept) when its command is broken."""
        before = len(self.errors)
        fields = self.mapping(item, f"step {n}", STEP_KEYS)
        if "do" not in fields:
            if len(self.errors) > before:          # a misspelt key already said what is wrong
                raise _Consequence(self.path, 1, 1, "no do:")
            raise self.error(item, f"step {n} needs 'do:' (one command)")
        do_node = fields["do"][1]
        cmd = self.attempt(lambda: self.command(do_node, n, names))
        say = self.attempt(lambda: read_say(self, fields["say"][1], n, eras)) if "say" in fields else None
        expect = self.attempt(lambda: self.per_era(fields["expect"][1], f"step {n} 'expect'", eras)) \
            if "expect" in fields else None
        ask = self.attempt(lambda: self.ask(fields["ask"][1], n, eras, names)) if "ask" in fields else None
        notes = self.attempt(lambda: self.text(fields["notes"][1], f"step {n} 'notes'", empty_ok=True)) \
            if "notes" in fields else None
        if cmd is None:
            return None
        line, col = _position(do_node)
        return Step(n, line, col, cmd, say, expect, ask, notes)

    def command(self, do_node, n: int, names: Names) -> Command:
        line_text = self.text(do_node, f"step {n} 'do'")
        cmd = None
        try:
            cmd = parse_command(line_text)
            if cmd is None:
                raise CommandError("the command is empty", 1)
            names.apply(cmd)
            return cmd
        except CommandError as e:
            consequence = cmd is not None and _name_at(line_text, e.col) in self.tainted
            # What this step would have created is unknown from here on: its later uses are consequences.
            self.tainted.update(w for w in (_name_at(line_text, c) for _, c in tokenize(line_text)) if w)
            if consequence:
                raise _Consequence(self.path, 1, 1, e.message) from None
            raise self.error(do_node, e.message, _col_offset(do_node, line_text, e.col)) from None

    def ask(self, node, n: int, eras: tuple, names: Names) -> Ask:
        fields = self.mapping(node, f"step {n} 'ask'", ASK_KEYS)
        if "question" not in fields:
            raise self.error(node, f"step {n} 'ask' needs a question")
        question = self.text(fields["question"][1], "question")
        explain = self.per_era(fields["explain"][1], "explain", eras) if "explain" in fields else {}
        if "pick" in fields:
            pick_node = fields["pick"][1]
            if self.text(pick_node, "pick").strip() != "page":
                raise self.error(pick_node, "pick: the only thing to pick is 'page'")
            if "of" not in fields:
                raise self.error(node, "a pick question needs 'of: TASK VMA[I]' (whose page is the answer)")
            for key in ("choices", "answer"):
                if key in fields:
                    raise self.error(fields[key][0], f"a pick question has no '{key}': the model computes the answer")
            of_node = fields["of"][1]
            words = self.text(of_node, "of").split()
            m = PAGE_REF.match(words[1]) if len(words) == 2 else None
            if not m:
                raise self.error(of_node, "of: expected TASK VMA[I], e.g. P buf[0]")
            ref = PageRef(words[0], m.group(1), int(m.group(2)))
            try:
                names.page_ref(ref)
            except CommandError as e:
                if ref.task in self.tainted or ref.vma in self.tainted:
                    raise _Consequence(self.path, 1, 1, e.message) from None
                raise self.error(of_node, e.message) from None
            return Ask(question, "pick", explain=explain, of=ref)
        if "choices" not in fields or "answer" not in fields:
            raise self.error(node, "an ask needs either 'choices' and 'answer', or 'pick: page' and 'of'")
        choices_node = fields["choices"][1]
        if not isinstance(choices_node, yaml.SequenceNode) or len(choices_node.value) < 2:
            raise self.error(choices_node, "choices must be a list of at least two answers")
        choices = tuple(self.text(c, "a choice").strip() for c in choices_node.value)
        if len(set(choices)) != len(choices):
            raise self.error(choices_node, "choices must differ from each other")
        answer_node = fields["answer"][1]
        answer = self.per_era(answer_node, "answer", eras)
        for era, a in answer.items():
            if a not in choices:
                raise self.error(answer_node, f"answer '{a}'{'' if era == ALL else ' for ' + era} is not "
                                              f"one of the choices ({', '.join(choices)})")
        if ALL not in answer and any(e not in answer for e in eras):
            missing = ", ".join(e for e in eras if e not in answer)
            raise self.error(answer_node, f"answer gives no answer for era {missing}")
        return Ask(question, "choice", choices, answer, explain)


class _Consequence(ScenarioError):
    """An error that only follows from an earlier one: dropped, not reported."""


def _name_at(line: str, col: int) -> str | None:
    """The name (task, VMA or holder) in the word of `line` at 1-based column `col`."""
    for word, start in tokenize(line):
        if start <= col < start + len(word):
            m = NAME_PREFIX.match(word)
            return m.group() if m else None
    return None


def _position(node, offset: int = 0) -> tuple[int, int]:
    mark = node.start_mark
    return mark.line + 1, mark.column + 1 + offset


def _col_offset(node, text: str, col: int) -> int:
    """Columns into a command scalar, as columns in the file (plain or quoted one-line scalars)."""
    if isinstance(node, yaml.ScalarNode) and node.style in ('"', "'"):
        return col                       # skip the opening quote
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        return 0
    return col - 1


def parse_console_line(text: str, names: Names, source: str = "console", scratch: bool = False) -> Command | None:
    """Parse and name-check one console line against `names` (updated on success).  Raises ScenarioError.
    `scratch`: `names` is the caller's own copy, thrown away on an error (no second copy is made)."""
    try:
        cmd = parse_command(text)
        if cmd is None:
            return None
        trial = names if scratch else names.clone()
        trial.apply(cmd)
    except CommandError as e:
        raise ScenarioError(source, 1, e.col, e.message) from None
    if trial is not names:
        names.__dict__.update(trial.__dict__)
    return cmd
