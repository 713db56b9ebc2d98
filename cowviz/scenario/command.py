"""The command language: one line, one command.  Its syntax is a contract (docs/commands.md).

    mmap TASK VMA PAGES [private|shared] [rw|ro]
    munmap TASK VMA
    mprotect TASK VMA rw|ro
    madvise TASK VMA dontfork|dofork|wipeonfork|keeponfork
    read TASK VMA[I]
    write TASK VMA[I] VALUE
    fork PARENT CHILD
    thread TASK NEWTASK
    exit TASK
    exec TASK
    gup TASK VMA[I] as HOLDER [write] [xN]
    pin TASK VMA[I] as HOLDER [write] [longterm]
    unpin HOLDER
    dma-write HOLDER VALUE
    dma-read HOLDER
    vmsplice TASK VMA[I] PIPE
    pipe-read PIPE
    memcg-limit TASK PAGES
    fail-alloc [N]
    assert same-page|different-page TASK VMA[I] TASK2 VMA2[J]
    assert writable|readonly|unmapped|pinned TASK VMA[I]
    assert refcount|mapcount|pincount TASK VMA[I] N
    assert exclusive TASK VMA[I] yes|no
    assert has-pinned TASK yes|no
    assert anon-vma TASK VMA|VMA[I] N|none

`#` starts a comment.  Parsing knows nothing about which names exist; that
is names.py's job.  Errors carry the 1-based column of the offending word.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..limits import MAX_DIGITS, LimitError, ascii_int, value_problem

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
# ASCII digits only, and few of them: int() would take Arabic-Indic digits and choke on 5,000 of them.
PAGE_REF = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*)\[(-?[0-9]{1,%d})\]\Z" % MAX_DIGITS)
COUNT = re.compile(r"x([0-9]{1,%d})\Z" % MAX_DIGITS)
MAX_PAGES = 1 << 20          # a VMA of at most 4 GiB
MAX_COUNT = 1 << 20

ADVICE = ("dontfork", "dofork", "wipeonfork", "keeponfork")


@dataclass(frozen=True)
class Arg:
    """One argument of a command, as the grammar table declares it.

    kind is what the word names, for the schema and the completer:
      task      an existing task                 new-task  a task this command creates
      task-or-new  an existing task or a new one (mmap)
      vma       a VMA of the task before it      new-vma   a VMA this command maps
      page      VMA[I] of the task before it     number    a whole number
      value     any word (what is written)       device    a device holder (gup/pin make one)
      pipe      a pipe (vmsplice makes one)      word      one of `words`
      flags     optional trailing words, each at most once, any order (`xN` is x and a number)
    """
    kind: str
    name: str                     # the placeholder in the usage line: TASK, VMA[I], ...
    words: tuple = ()             # kind "word" and "flags": the allowed words
    optional: bool = False        # an optional single argument (fail-alloc's N)
    creates: bool = False         # device / pipe: this command claims the name


def _a(kind, name, *words, optional=False, creates=False):
    return Arg(kind, name, tuple(words), optional, creates)


# The grammar, declared once: each command's forms (assert has two), each a tuple of arguments.
# The usage lines, the JSON Schema (cowviz/scenario/schema.py) and the completers (the console's
# and the editor's, which gets this table as boot data) are made from it; a test checks that the
# parser below accepts exactly what it declares.
GRAMMAR: dict[str, tuple] = {
    "mmap": ((_a("task-or-new", "TASK"), _a("new-vma", "VMA"), _a("number", "PAGES"),
              _a("flags", "[private|shared] [rw|ro]", "private", "shared", "rw", "ro")),),
    "munmap": ((_a("task", "TASK"), _a("vma", "VMA")),),
    "mprotect": ((_a("task", "TASK"), _a("vma", "VMA"), _a("word", "rw|ro", "rw", "ro")),),
    "madvise": ((_a("task", "TASK"), _a("vma", "VMA"), _a("word", "|".join(ADVICE), *ADVICE)),),
    "read": ((_a("task", "TASK"), _a("page", "VMA[I]")),),
    "write": ((_a("task", "TASK"), _a("page", "VMA[I]"), _a("value", "VALUE")),),
    "fork": ((_a("task", "PARENT"), _a("new-task", "CHILD")),),
    "thread": ((_a("task", "TASK"), _a("new-task", "NEWTASK")),),
    "exit": ((_a("task", "TASK"),),),
    "exec": ((_a("task", "TASK"),),),
    "gup": ((_a("task", "TASK"), _a("page", "VMA[I]"), _a("word", "as", "as"),
             _a("device", "HOLDER", creates=True), _a("flags", "[write] [xN]", "write", "xN")),),
    "pin": ((_a("task", "TASK"), _a("page", "VMA[I]"), _a("word", "as", "as"),
             _a("device", "HOLDER", creates=True), _a("flags", "[write] [longterm]", "write", "longterm")),),
    "unpin": ((_a("device", "HOLDER"),),),
    "dma-write": ((_a("device", "HOLDER"), _a("value", "VALUE")),),
    "dma-read": ((_a("device", "HOLDER"),),),
    "vmsplice": ((_a("task", "TASK"), _a("page", "VMA[I]"), _a("pipe", "PIPE", creates=True)),),
    "pipe-read": ((_a("pipe", "PIPE"),),),
    "memcg-limit": ((_a("task-or-new", "TASK"), _a("number", "PAGES")),),
    "fail-alloc": ((_a("number", "[N]", optional=True),),),
    "assert": ((_a("word", "same-page|different-page", "same-page", "different-page"), _a("task", "TASK"),
                _a("page", "VMA[I]"), _a("task", "TASK2"), _a("page", "VMA2[J]")),
               (_a("word", "writable|readonly|unmapped|pinned", "writable", "readonly", "unmapped", "pinned"),
                _a("task", "TASK"), _a("page", "VMA[I]")),
               (_a("word", "refcount|mapcount|pincount", "refcount", "mapcount", "pincount"),
                _a("task", "TASK"), _a("page", "VMA[I]"), _a("number", "N")),
               (_a("word", "exclusive", "exclusive"), _a("task", "TASK"), _a("page", "VMA[I]"),
                _a("word", "yes|no", "yes", "no")),
               (_a("word", "has-pinned", "has-pinned"), _a("task", "TASK"), _a("word", "yes|no", "yes", "no")),
               # anon-vma: of a VMA (vma->anon_vma) or of a page (page->mapping); an id or none.
               (_a("word", "anon-vma", "anon-vma"), _a("task", "TASK"), _a("vma", "VMA"), _a("number", "N")),
               (_a("word", "anon-vma", "anon-vma"), _a("task", "TASK"), _a("vma", "VMA"), _a("word", "none", "none")),
               (_a("word", "anon-vma", "anon-vma"), _a("task", "TASK"), _a("page", "VMA[I]"), _a("number", "N")),
               (_a("word", "anon-vma", "anon-vma"), _a("task", "TASK"), _a("page", "VMA[I]"),
                _a("word", "none", "none"))),
}
COMMANDS = tuple(GRAMMAR)
ASSERTS = tuple(dict.fromkeys(w for form in GRAMMAR["assert"] for w in form[0].words))
COUNT_ASSERTS = ("refcount", "mapcount", "pincount")
YES_NO = ("yes", "no")


def _usage_of(op: str) -> str:
    return "  or  ".join(" ".join([op, *(a.name for a in form)]) for form in GRAMMAR[op])


USAGE = {op: _usage_of(op) for op in GRAMMAR}


def grammar_json() -> dict:
    """The grammar as plain data, for the page's boot data (the editor's completer reads it)."""
    return {op: {"usage": USAGE[op],
                 "forms": [[{"kind": a.kind, "name": a.name, "words": list(a.words), "optional": a.optional,
                             "creates": a.creates} for a in form] for form in GRAMMAR[op]]}
            for op in GRAMMAR}


class CommandError(Exception):
    """A command that does not parse or names something unknown; `col` is 1-based."""

    def __init__(self, message: str, col: int = 1):
        # A quoted word of thousands of characters is shown by its start: the column says where it is.
        message = _LONG_QUOTE.sub(lambda m: f"'{m.group(1)}...'", message)
        super().__init__(message)
        self.message = message
        self.col = col


_LONG_QUOTE = re.compile(r"'([^'\n]{40})[^'\n]{20,}'")


@dataclass(frozen=True)
class PageRef:
    """TASK VMA[I]: one page of one VMA of one task."""
    task: str
    vma: str
    index: int

    def __str__(self):
        return f"{self.task} {self.vma}[{self.index}]"


@dataclass(frozen=True)
class Command:
    """One parsed command.  `cols` gives the column of each argument, for error messages."""
    op: str
    text: str
    task: str | None = None
    vma: str | None = None
    index: int | None = None
    other: PageRef | None = None        # the second page of assert same-page / different-page
    pages: int | None = None
    shared: bool = False
    writable: bool = True
    advice: str | None = None
    value: str | None = None
    holder: str | None = None
    write: bool = False
    longterm: bool = False
    count: int = 1
    child: str | None = None            # fork's CHILD, thread's NEWTASK
    check: str | None = None            # which assert
    want: str | None = None             # what a counter/flag assert expects: a number, yes/no, none
    cols: dict = field(default_factory=dict, compare=False)

    @property
    def page(self) -> PageRef | None:
        return PageRef(self.task, self.vma, self.index) if self.index is not None else None

    def col(self, what: str) -> int:
        return self.cols.get(what, 1)


def tokenize(line: str) -> list[tuple[str, int]]:
    """Words of the line with their 1-based columns, comment removed."""
    hash_at = line.find("#")
    if hash_at >= 0:
        line = line[:hash_at]
    return [(m.group(), m.start() + 1) for m in re.finditer(r"\S+", line)]


def parse_command(line: str) -> Command | None:
    """Parse one line; None for a blank or comment-only line.  Raises CommandError."""
    words = tokenize(line)
    if not words:
        return None
    op, op_col = words[0]
    if op not in COMMANDS:
        hint = _closest(op, COMMANDS)
        raise CommandError(f"unknown command '{op}'" + (f" (did you mean '{hint}'?)" if hint else "")
                           + f"; commands are: {', '.join(COMMANDS)}", op_col)
    p = _Parser(op, words[1:], op_col + len(op), line.strip())
    return p.parse()


class _Parser:
    def __init__(self, op: str, words: list[tuple[str, int]], end_col: int, text: str):
        self.op = op
        self.words = words
        self.pos = 0
        self.end_col = end_col
        self.fields: dict = {"op": op, "text": text}
        self.cols: dict = {"op": 1}

    # -- helpers -----------------------------------------------------------------

    def _usage(self) -> str:
        check = self.fields.get("check")
        if self.op == "assert" and check:
            # Only the forms of this assert, not all of them.
            forms = [f for f in GRAMMAR["assert"] if check in f[0].words]
            return "usage: " + "  or  ".join(" ".join(["assert", check, *(a.name for a in f[1:])])
                                              for f in forms)
        return f"usage: {USAGE[self.op]}"

    def _next(self, what: str) -> tuple[str, int]:
        if self.pos >= len(self.words):
            col = self.words[-1][1] + len(self.words[-1][0]) if self.words else self.end_col
            raise CommandError(f"{self.op}: missing {what}; {self._usage()}", col)
        w = self.words[self.pos]
        self.pos += 1
        return w

    def _peek(self) -> str | None:
        return self.words[self.pos][0] if self.pos < len(self.words) else None

    def name(self, key: str, what: str) -> str:
        word, col = self._next(what)
        if not NAME.match(word):
            raise CommandError(f"{self.op}: '{word}' is not a valid {what} name (letters, digits, "
                               f"'_', '.', '-'; starting with a letter)", col)
        self.fields[key] = word
        self.cols[key] = col
        return word

    def page_ref(self) -> None:
        self.name("task", "TASK")
        word, col = self._next("VMA[I]")
        m = PAGE_REF.match(word)
        if not m:
            raise CommandError(f"{self.op}: expected VMA[I] (a VMA name and a page index, like "
                               f"buf[0]), got '{word}'", col)
        index = int(m.group(2))
        if index < 0:
            raise CommandError(f"{self.op}: page index {index} is negative", col + len(m.group(1)) + 1)
        self.fields.update(vma=m.group(1), index=index)
        self.cols.update(vma=col, index=col + len(m.group(1)) + 1)

    def number(self, key: str, what: str, low: int, high: int) -> int:
        word, col = self._next(what)
        if not (word.isascii() and word.isdigit()):
            raise CommandError(f"{self.op}: {what} must be a whole number, got '{word[:40]}'", col)
        try:
            n = ascii_int(word, what, low, high)
        except LimitError as e:
            raise CommandError(f"{self.op}: {e}", col) from None
        self.fields[key] = n
        self.cols[key] = col
        return n

    def value(self) -> None:
        word, col = self._next("VALUE")
        problem = value_problem(word)
        if problem is not None:
            raise CommandError(f"{self.op}: {problem}", col)
        self.fields["value"] = word
        self.cols["value"] = col

    def choice(self, key: str, options: tuple, what: str, store: bool = True) -> str:
        word, col = self._next(what)
        if word not in options:
            raise CommandError(f"{self.op}: {what} must be one of {', '.join(options)}, got '{word}'", col)
        if store:
            self.fields[key] = word
        self.cols[key] = col
        return word

    def keyword(self, word: str) -> None:
        got, col = self._next(f"'{word}'")
        if got != word:
            raise CommandError(f"{self.op}: expected '{word}', got '{got}'; {self._usage()}", col)

    def options(self, allowed: dict) -> None:
        """Optional trailing words, each at most once, in any order."""
        seen = set()
        while self.pos < len(self.words):
            word, col = self.words[self.pos]
            self.pos += 1
            key = next((k for k, test in allowed.items() if test(word)), None)
            if key is None:
                raise CommandError(f"{self.op}: unexpected '{word}'; {self._usage()}", col)
            if key in seen:
                raise CommandError(f"{self.op}: '{word}' given twice", col)
            seen.add(key)
            self.cols[key] = col
            if key == "count":
                n = int(COUNT.match(word).group(1))
                if not 1 <= n <= MAX_COUNT:
                    raise CommandError(f"{self.op}: the repeat count must be between 1 and {MAX_COUNT}", col)
                self.fields["count"] = n
            elif key == "share":
                self.fields["shared"] = word == "shared"
            elif key == "prot":
                self.fields["writable"] = word == "rw"
            else:
                self.fields[key] = True

    def done(self) -> Command:
        if self.pos < len(self.words):
            word, col = self.words[self.pos]
            raise CommandError(f"{self.op}: unexpected '{word}'; {self._usage()}", col)
        return Command(cols=self.cols, **self.fields)

    # -- the commands ----------------------------------------------------------------

    def parse(self) -> Command:
        op = self.op
        if op == "mmap":
            self.name("task", "TASK")
            self.name("vma", "VMA")
            self.number("pages", "PAGES", 1, MAX_PAGES)
            self.options({"share": lambda w: w in ("private", "shared"),
                          "prot": lambda w: w in ("rw", "ro")})
        elif op == "munmap":
            self.name("task", "TASK")
            self.name("vma", "VMA")
        elif op == "mprotect":
            self.name("task", "TASK")
            self.name("vma", "VMA")
            self.fields["writable"] = self.choice("prot", ("rw", "ro"), "protection", store=False) == "rw"
        elif op == "madvise":
            self.name("task", "TASK")
            self.name("vma", "VMA")
            self.choice("advice", ADVICE, "advice")
        elif op == "read":
            self.page_ref()
        elif op == "write":
            self.page_ref()
            self.value()
        elif op in ("fork", "thread"):
            self.name("task", "TASK" if op == "thread" else "PARENT")
            self.name("child", "NEWTASK" if op == "thread" else "CHILD")
        elif op in ("exit", "exec"):
            self.name("task", "TASK")
        elif op in ("gup", "pin"):
            self.page_ref()
            self.keyword("as")
            self.name("holder", "HOLDER")
            opts = {"write": lambda w: w == "write"}
            if op == "pin":
                opts["longterm"] = lambda w: w == "longterm"
            else:
                opts["count"] = lambda w: bool(COUNT.match(w))
            self.options(opts)
        elif op in ("unpin", "dma-read", "pipe-read"):
            self.name("holder", "PIPE" if op == "pipe-read" else "HOLDER")
        elif op == "dma-write":
            self.name("holder", "HOLDER")
            self.value()
        elif op == "vmsplice":
            self.page_ref()
            self.name("holder", "PIPE")
        elif op == "memcg-limit":
            self.name("task", "TASK")
            self.number("pages", "PAGES", 0, MAX_PAGES)
        elif op == "fail-alloc":
            if self._peek() is None:
                self.fields["count"] = 1
            else:
                self.number("count", "N", 1, MAX_COUNT)
        elif op == "assert":
            check = self.choice("check", ASSERTS, "what to assert")
            if check == "has-pinned":
                self.name("task", "TASK")
                self.choice("want", YES_NO, "the answer")
                return self.done()
            if check == "anon-vma":
                self.name("task", "TASK")
                word, col = self._next("VMA or VMA[I]")
                m = PAGE_REF.match(word)
                if m and int(m.group(2)) >= 0:
                    self.fields.update(vma=m.group(1), index=int(m.group(2)))
                    self.cols.update(vma=col, index=col + len(m.group(1)) + 1)
                elif NAME.match(word):
                    self.fields["vma"] = word
                    self.cols["vma"] = col
                else:
                    raise CommandError(f"assert: expected a VMA name or VMA[I], got '{word}'", col)
                word, col = self._next("anon_vma id (a number, or none)")
                if not (word.isdigit() or word == "none"):
                    raise CommandError(f"assert anon-vma: expected an anon_vma id (a number) or "
                                       f"'none', got '{word}'", col)
                self.fields["want"] = word
                self.cols["want"] = col
                return self.done()
            self.page_ref()
            if check in COUNT_ASSERTS:
                self.fields["want"] = str(self.number("count", "N", 0, 1 << 40))
                self.fields.pop("count")
            elif check == "exclusive":
                self.choice("want", YES_NO, "the answer")
            if check in ("same-page", "different-page"):
                self.name("task2", "TASK2")
                word, col = self._next("VMA2[J]")
                m = PAGE_REF.match(word)
                if not m or int(m.group(2)) < 0:
                    raise CommandError(f"assert: expected VMA2[J], got '{word}'", col)
                self.fields["other"] = PageRef(self.fields.pop("task2"), m.group(1), int(m.group(2)))
                self.cols.update(task2=self.cols["task2"], vma2=col, index2=col + len(m.group(1)) + 1)
        return self.done()


def _closest(word: str, options) -> str | None:
    import difflib
    match = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return match[0] if match else None
