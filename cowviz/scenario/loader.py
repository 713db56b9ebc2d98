"""Scenario files: YAML with positions, checked before they run.  Format: docs/scenarios.md.

    title: ...            summary: ...          eras: [5.9-rc, 5.9]     kernel: 5.9-rc
    level: ...            tags: [...]           references: [...]       compare: [5.9-rc, 5.9]
    steps:
      - do: write P buf[0] A          # one command
        say: Markdown narration
        expect: A                     # or {5.9-rc: B, 5.9: C}
        ask: {question, choices, answer, explain}  or  {question, pick: page, of: P buf[0], explain}

Every problem is reported as `file:line:col: message` (ScenarioError), never
as a traceback.  The YAML is read as a node tree, not converted to Python
values, so every scalar stays a string (`5.9` is an era, not a float) and
every value keeps its position.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from ..eras import ERA_IDS, resolve
from .command import PAGE_REF, Command, CommandError, PageRef, parse_command
from .names import Names

TOP_KEYS = ("title", "summary", "eras", "kernel", "steps", "level", "tags", "references", "compare")
STEP_KEYS = ("do", "say", "expect", "ask")
ASK_KEYS = ("question", "choices", "answer", "explain", "pick", "of")
ALL = "*"          # key of an expectation or answer that holds for every era


class ScenarioError(Exception):
    """A bad scenario file or console line: where, and what."""

    def __init__(self, path: str, line: int, col: int, message: str):
        super().__init__(f"{path}:{line}:{col}: {message}")
        self.path, self.line, self.col, self.message = path, line, col, message


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
    say: str | None = None
    expect: dict | None = None      # era id or ALL -> expected result
    ask: Ask | None = None

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

    @property
    def name(self) -> str:
        """The file name without folder and extension: the scenario's id."""
        import os
        return os.path.splitext(os.path.basename(self.path))[0]


def load_scenario(path: str) -> Scenario:
    """Read and check a scenario file.  Raises ScenarioError."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
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
                raise self.error(k, f"{what}: unknown key '{k.value}' (allowed: {', '.join(keys)})")
            if k.value in out:
                raise self.error(k, f"{what}: duplicate key '{k.value}'")
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
                era = self.era(k, self.text(k, f"{what} era"))
                if era in out:
                    raise self.error(k, f"{what}: era {era} given twice")
                out[era] = self.text(v, f"{what} for {era}", empty_ok=True).strip()
            return out
        return {ALL: self.text(node, what, empty_ok=True).strip()}

    # -- the file ---------------------------------------------------------------------

    def read(self, text: str) -> Scenario:
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
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
            raise ScenarioError(self.path, 1, 1, "the file is empty; a scenario needs title, summary and steps")
        top = self.mapping(root, "a scenario", TOP_KEYS)
        for key in ("title", "steps"):
            if key not in top:
                raise self.error(root, f"a scenario needs '{key}'")
        title = self.text(top["title"][1], "title")
        summary = self.text(top["summary"][1], "summary", empty_ok=True) if "summary" in top else ""
        if "eras" in top:
            eras = []
            for n, v in self.text_list(top["eras"][1], "eras"):
                e = self.era(n, v)
                if e in eras:
                    raise self.error(n, f"era {e} is listed twice")
                eras.append(e)
            eras = tuple(e for e in ERA_IDS if e in eras)
        else:
            eras = ERA_IDS
        if "kernel" in top:
            kernel = self.era(top["kernel"][1], self.text(top["kernel"][1], "kernel"), eras)
        else:
            kernel = eras[-1]
        compare = ()
        if "compare" in top:
            compare = tuple(self.era(n, v, eras) for n, v in self.text_list(top["compare"][1], "compare"))
            if len(compare) != 2 or compare[0] == compare[1]:
                raise self.error(top["compare"][1], "compare names two different eras, e.g. [5.9-rc, 5.9]")
        level = self.text(top["level"][1], "level") if "level" in top else None
        tags = tuple(v for _, v in self.text_list(top["tags"][1], "tags")) if "tags" in top else ()
        references = self.references(top["references"][1]) if "references" in top else ()
        steps = self.steps(top["steps"][1], eras)
        return Scenario(self.path, title.strip(), summary.strip(), eras, kernel, steps, level, tags,
                        references, compare)

    def references(self, node) -> tuple:
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, "references must be a list")
        out = []
        for item in node.value:
            if isinstance(item, yaml.ScalarNode):
                out.append({"title": item.value, "url": None})
                continue
            fields = self.mapping(item, "a reference", ("title", "url"))
            if "title" not in fields:
                raise self.error(item, "a reference needs a title")
            out.append({"title": self.text(fields["title"][1], "title"),
                        "url": self.text(fields["url"][1], "url") if "url" in fields else None})
        return tuple(out)

    def steps(self, node, eras: tuple) -> tuple:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.error(node, "steps must be a non-empty list of steps (each with 'do:')")
        names = Names()
        steps = []
        for n, item in enumerate(node.value, 1):
            fields = self.mapping(item, f"step {n}", STEP_KEYS)
            if "do" not in fields:
                raise self.error(item, f"step {n} needs 'do:' (one command)")
            do_node = fields["do"][1]
            line_text = self.text(do_node, f"step {n} 'do'")
            try:
                cmd = parse_command(line_text)
                if cmd is None:
                    raise CommandError("the command is empty", 1)
                names.apply(cmd)
            except CommandError as e:
                raise self.error(do_node, e.message, _col_offset(do_node, line_text, e.col)) from None
            say = self.text(fields["say"][1], f"step {n} 'say'", empty_ok=True) if "say" in fields else None
            expect = self.per_era(fields["expect"][1], f"step {n} 'expect'", eras) if "expect" in fields else None
            ask = self.ask(fields["ask"][1], n, eras, names) if "ask" in fields else None
            line, col = _position(do_node)
            steps.append(Step(n, line, col, cmd, say, expect, ask))
        return tuple(steps)

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
                names.apply(Command(op="assert", text="", check="unmapped", task=ref.task,
                                    vma=ref.vma, index=ref.index))
            except CommandError as e:
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


def parse_console_line(text: str, names: Names, source: str = "console") -> Command | None:
    """Parse and name-check one console line against `names` (updated on success).  Raises ScenarioError."""
    try:
        cmd = parse_command(text)
        if cmd is None:
            return None
        trial = names.clone()
        trial.apply(cmd)
    except CommandError as e:
        raise ScenarioError(source, 1, e.col, e.message) from None
    names.__dict__.update(trial.__dict__)
    return cmd
