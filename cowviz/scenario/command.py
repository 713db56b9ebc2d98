"""The command language: one line, one command.  Its syntax is a contract (docs/commands.md).

    mmap P buf 4                     fork P C
    write P buf[0] A                 pin P buf[0] as nic write longterm
    assert same-page P buf[0] C buf[0]

The usage line of every command is made from the table below (USAGE; docs/commands.md lists the
same lines, and a test holds the two together).  `#` starts a comment.  Parsing knows nothing
about which names exist; that is names.py's job.  Errors carry the 1-based column of the
offending word.

Each command is declared once, in COMMANDS below: its grammar (typed arguments), its typed
argument record, the one Kernel call it makes, what it does to the names beyond what its
arguments' kinds say, what it costs (pages mapped, references taken: the sandbox's and the lab's
limits), and whether the live lab can replay it (and why not).  The parser, Names, the runner,
the completers, the schema, the lab, the sandbox limits and docs/commands.md all walk that table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

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

    kind is what the word names, for the parser, Names, the schema and the completers:
      task      an existing task                 new-task  a task this command creates
      task-or-new  an existing task or a new one (mmap)
      vma       a VMA of the task before it      new-vma   a VMA this command maps
      page      VMA[I] of the task before it     number    a whole number from low to high
      value     any word (what is written)       device    a device holder (gup/pin make one)
      pipe      a pipe (vmsplice makes one)      word      one of `words`
      flags     optional trailing words, each at most once, any order (`xN` is x and a number)
    key is the typed argument the word fills (None for a keyword such as `as`; a page fills vma
    and index, or `other` for the second page of same-page); `what` is how errors name it.
    """
    kind: str
    name: str                     # the placeholder in the usage line: TASK, VMA[I], ...
    words: tuple = ()             # kind "word" and "flags": the allowed words
    optional: bool = False        # an optional single argument (fail-alloc's N)
    creates: bool = False         # device / pipe: this command claims the name
    key: str | None = None
    what: str | None = None
    low: int = 0
    high: int = 0
    to: Callable | None = field(default=None, compare=False)   # a word's typed value (rw -> writable)
    # Where forms differ in this argument's kind (assert anon-vma: VMA or VMA[I]; N or none): how
    # an error says the word is missing, and that it fits none of them.
    either: tuple = ()

    @property
    def says(self) -> str:
        return self.what or self.name


_KEYS = {"task": "task", "task-or-new": "task", "new-task": "child", "vma": "vma", "new-vma": "vma",
         "page": "page", "device": "holder", "pipe": "pipe", "value": "value"}


def _a(kind, name, *words, key=None, **kw):
    return Arg(kind, name, tuple(words), key=key if key is not None or kind in ("word", "number") else _KEYS.get(kind),
               **kw)


# The trailing flag words: each sets one field of the typed arguments (xN: the repeat count).
FLAGS = {"private": ("shared", False), "shared": ("shared", True), "rw": ("writable", True),
         "ro": ("writable", False), "write": ("write", True), "longterm": ("longterm", True)}


# -- the typed arguments of each command ------------------------------------------------------

class Mmap(NamedTuple):
    task: str
    vma: str
    pages: int
    shared: bool = False
    writable: bool = True


class Munmap(NamedTuple):
    task: str
    vma: str


class Mprotect(NamedTuple):
    task: str
    vma: str
    writable: bool


class Madvise(NamedTuple):
    task: str
    vma: str
    advice: str


class Read(NamedTuple):
    task: str
    vma: str
    index: int


class Write(NamedTuple):
    task: str
    vma: str
    index: int
    value: str


class Fork(NamedTuple):
    task: str                     # the parent
    child: str


class Thread(NamedTuple):
    task: str
    child: str                    # NEWTASK


class Exit(NamedTuple):
    task: str


class Exec(NamedTuple):
    task: str


class Gup(NamedTuple):
    task: str
    vma: str
    index: int
    holder: str
    write: bool = False
    count: int = 1


class Pin(NamedTuple):
    task: str
    vma: str
    index: int
    holder: str
    write: bool = False
    longterm: bool = False


class Unpin(NamedTuple):
    holder: str


class DmaWrite(NamedTuple):
    holder: str
    value: str


class DmaRead(NamedTuple):
    holder: str


class Vmsplice(NamedTuple):
    task: str
    vma: str
    index: int
    pipe: str


class PipeRead(NamedTuple):
    pipe: str


class MemcgLimit(NamedTuple):
    task: str
    limit: int                    # pages


class FailAlloc(NamedTuple):
    n: int = 1                    # how many allocations fail


class Assert(NamedTuple):
    check: str                    # which assert: same-page, pinned, refcount, anon-vma, ...
    task: str
    vma: str | None = None        # None: has-pinned (a task's mm)
    index: int | None = None      # None: anon-vma of a VMA
    other: "PageRef | None" = None  # the second page of same-page / different-page
    want: str | None = None       # what a counter/flag assert expects: a number, yes/no, none


# -- the table -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Spec:
    """One command, declared once."""
    op: str
    args: type                    # its typed arguments
    forms: tuple                  # its grammar: each form a tuple of Args (assert has several)
    kernel: str | None            # the Kernel method it calls (None: an assert reads the state)
    call: Callable | None = field(default=None, compare=False)    # (kernel, args) -> Outcome
    names: str | None = None      # what it does to the names beyond its arguments' kinds (names.py)
    lab: str | Callable | None = field(default=None, compare=False)
    lab_later: bool = False       # skipped in the lab, its effect shows only when an allocation fails
    maps: Callable | None = field(default=None, compare=False)    # args -> pages it maps
    refs: Callable | None = field(default=None, compare=False)    # args -> ("pin"|"get", references it takes)

    def lab_skip(self, args) -> str | None:
        """Why the live lab cannot replay the command with these arguments; None when it can."""
        return self.lab(args) if callable(self.lab) else self.lab


_TASK, _VMA, _PAGE = _a("task", "TASK"), _a("vma", "VMA"), _a("page", "VMA[I]")
_YES_NO = _a("word", "yes|no", "yes", "no", key="want", what="the answer")


_AV_VMA = _a("vma", "VMA", either=("VMA or VMA[I]", "assert: expected a VMA name or VMA[I]"))
_AV_ID = _a("number", "N", key="want", low=0, high=1 << 40, to=str,
            either=("anon_vma id (a number, or none)", "assert anon-vma: expected an anon_vma id (a number) or 'none'"))
_AV_NONE = _a("word", "none", "none", key="want")


def _check(*words):
    return _a("word", "|".join(words), *words, key="check", what="what to assert")


COMMANDS: dict[str, Spec] = {s.op: s for s in (
    Spec("mmap", Mmap, ((_a("task-or-new", "TASK"), _a("new-vma", "VMA"),
                         _a("number", "PAGES", key="pages", low=1, high=MAX_PAGES),
                         _a("flags", "[private|shared] [rw|ro]", "private", "shared", "rw", "ro")),),
         "mmap", lambda k, a: k.mmap(a.task, a.vma, a.pages, a.shared, a.writable), maps=lambda a: a.pages),
    Spec("munmap", Munmap, ((_TASK, _VMA),), "munmap", lambda k, a: k.munmap(a.task, a.vma), names="unmap"),
    Spec("mprotect", Mprotect, ((_TASK, _VMA, _a("word", "rw|ro", "rw", "ro", key="writable", what="protection",
                                                 to=lambda w: w == "rw")),),
         "mprotect", lambda k, a: k.mprotect(a.task, a.vma, a.writable)),
    Spec("madvise", Madvise, ((_TASK, _VMA, _a("word", "|".join(ADVICE), *ADVICE, key="advice", what="advice")),),
         "madvise", lambda k, a: k.madvise(a.task, a.vma, a.advice), names="advise"),
    Spec("read", Read, ((_TASK, _PAGE),), "access", lambda k, a: k.access(a.task, a.vma, a.index, False)),
    Spec("write", Write, ((_TASK, _PAGE, _a("value", "VALUE")),),
         "access", lambda k, a: k.access(a.task, a.vma, a.index, True, a.value)),
    Spec("fork", Fork, ((_a("task", "PARENT"), _a("new-task", "CHILD")),), "fork",
         lambda k, a: k.fork(a.task, a.child), names="fork"),
    Spec("thread", Thread, ((_TASK, _a("new-task", "NEWTASK")),), "thread",
         lambda k, a: k.thread(a.task, a.child), names="thread"),
    Spec("exit", Exit, ((_TASK,),), "exit", lambda k, a: k.exit(a.task), names="exit"),
    Spec("exec", Exec, ((_TASK,),), "execve", lambda k, a: k.execve(a.task), names="exec"),
    Spec("gup", Gup, ((_TASK, _PAGE, _a("word", "as", "as"), _a("device", "HOLDER", creates=True),
                       _a("flags", "[write] [xN]", "write", "xN")),),
         "gup", lambda k, a: k.gup(a.task, a.vma, a.index, a.holder, write=a.write, pin=False, count=a.count),
         refs=lambda a: ("get", a.count)),
    Spec("pin", Pin, ((_TASK, _PAGE, _a("word", "as", "as"), _a("device", "HOLDER", creates=True),
                       _a("flags", "[write] [longterm]", "write", "longterm")),),
         "gup", lambda k, a: k.gup(a.task, a.vma, a.index, a.holder, write=a.write, pin=True, longterm=a.longterm),
         lab=lambda a: None if a.write else ("a read-only pin cannot be taken for real: io_uring fixed buffers "
                                             "always pin with FOLL_WRITE"),
         refs=lambda a: ("pin", 1)),
    Spec("unpin", Unpin, ((_a("device", "HOLDER"),),), "unpin", lambda k, a: k.unpin(a.holder)),
    Spec("dma-write", DmaWrite, ((_a("device", "HOLDER"), _a("value", "VALUE")),), "dma_write",
         lambda k, a: k.dma_write(a.holder, a.value)),
    Spec("dma-read", DmaRead, ((_a("device", "HOLDER"),),), "dma_read", lambda k, a: k.dma_read(a.holder)),
    Spec("vmsplice", Vmsplice, ((_TASK, _PAGE, _a("pipe", "PIPE", creates=True)),), "vmsplice",
         lambda k, a: k.vmsplice(a.task, a.vma, a.index, a.pipe), refs=lambda a: ("get", 1)),
    Spec("pipe-read", PipeRead, ((_a("pipe", "PIPE"),),), "pipe_read", lambda k, a: k.pipe_read(a.pipe)),
    Spec("memcg-limit", MemcgLimit, ((_a("task-or-new", "TASK"),
                                      _a("number", "PAGES", key="limit", low=0, high=MAX_PAGES)),),
         "memcg_limit", lambda k, a: k.memcg_limit(a.task, a.limit),
         lab="the lab sets up no memory cgroup: a real one would also be charged for the agent's own "
             "interpreter heap, so a limit of a few pages means nothing comparable", lab_later=True),
    Spec("fail-alloc", FailAlloc, ((_a("number", "[N]", key="n", what="N", optional=True, low=1, high=MAX_COUNT),),),
         "set_fail_alloc", lambda k, a: k.set_fail_alloc(a.n),
         lab="the kernel's allocator cannot be made to fail on cue", lab_later=True),
    Spec("assert", Assert, (
        (_check("same-page", "different-page"), _TASK, _PAGE, _a("task", "TASK2", key="task2"),
         _a("page", "VMA2[J]", key="other")),
        (_check("writable", "readonly", "unmapped", "pinned"), _TASK, _PAGE),
        (_check("refcount", "mapcount", "pincount"), _TASK, _PAGE,
         _a("number", "N", key="want", low=0, high=1 << 40, to=str)),
        (_check("exclusive"), _TASK, _PAGE, _YES_NO),
        (_check("has-pinned"), _TASK, _YES_NO),
        # anon-vma: of a VMA (vma->anon_vma) or of a page (page->mapping); an id or none.
        (_check("anon-vma"), _TASK, _AV_VMA, _AV_ID),
        (_check("anon-vma"), _TASK, _AV_VMA, _AV_NONE),
        (_check("anon-vma"), _TASK, _PAGE, _AV_ID),
        (_check("anon-vma"), _TASK, _PAGE, _AV_NONE)),
     None),
)}

# The grammar alone, for the schema and the completers.
GRAMMAR: dict[str, tuple] = {op: spec.forms for op, spec in COMMANDS.items()}
OPS = tuple(COMMANDS)
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
    """One parsed command: its op, its text, its typed arguments (COMMANDS[op].args) and which form
    of the grammar it took.  `cols` gives the column of each argument, for error messages."""
    op: str
    text: str
    args: tuple
    form: int = 0
    cols: dict = field(default_factory=dict, compare=False)

    @property
    def spec(self) -> Spec:
        return COMMANDS[self.op]

    @property
    def page(self) -> PageRef | None:
        """The page the command names first (TASK VMA[I]), if it names one."""
        index = getattr(self.args, "index", None)
        return PageRef(self.args.task, self.args.vma, index) if index is not None else None

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
        hint = _closest(op, OPS)
        raise CommandError(f"unknown command '{op}'" + (f" (did you mean '{hint}'?)" if hint else "")
                           + f"; commands are: {', '.join(OPS)}", op_col)
    return _Parser(op, words[1:], op_col + len(op), line.strip()).parse()


def _fits(arg: Arg, word: str) -> bool:
    """Whether the word has the shape of the argument (for choosing among forms)."""
    if arg.kind == "page":
        m = PAGE_REF.match(word)
        return bool(m) and int(m.group(2)) >= 0
    if arg.kind == "number":
        return word.isascii() and word.isdigit()
    if arg.kind == "word":
        return word in arg.words
    return arg.kind == "value" or bool(NAME.match(word))


class _Parser:
    """Walks the forms of one command in the table, word by word."""

    def __init__(self, op: str, words: list[tuple[str, int]], end_col: int, text: str):
        self.op = op
        self.words = words
        self.pos = 0
        self.end_col = end_col
        self.text = text
        self.fields: dict = {}
        self.cols: dict = {"op": 1}

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

    def parse(self) -> Command:
        forms = list(enumerate(COMMANDS[self.op].forms))
        at = 0
        while True:
            going = [(i, f) for i, f in forms if at < len(f)]
            if not going:
                break
            args = list(dict.fromkeys(f[at] for _, f in going))
            if len(args) == 1:
                arg = args[0]
            elif all(a.kind == "word" for a in args):
                # Forms told apart by a word (which assert): one choice among all their words.
                arg = Arg("word", args[0].name, tuple(w for a in args for w in a.words), key=args[0].key,
                          what=args[0].what)
            else:
                arg = self._alternative(args)
            if arg.optional and self.pos >= len(self.words):
                break                                    # its typed default (fail-alloc: 1)
            self._one(arg)
            forms = [(i, f) for i, f in going if f[at] == arg or arg.kind == "word" and f[at].kind == "word"
                     and self.words[self.pos - 1][0] in f[at].words]
            at += 1
            if arg.kind == "flags":
                break
        if self.pos < len(self.words):
            word, col = self.words[self.pos]
            raise CommandError(f"{self.op}: unexpected '{word}'; {self._usage()}", col)
        form, _ = forms[0] if len(forms) == 1 else next((i, f) for i, f in forms if len(f) == at)
        spec = COMMANDS[self.op]
        return Command(self.op, self.text, spec.args(**self.fields), form, self.cols)

    def _alternative(self, args: list) -> Arg:
        """Forms that differ in the kind of one argument (assert anon-vma: VMA or VMA[I], N or none)."""
        missing, unfit = next(a.either for a in args if a.either)
        word, col = self._next(missing)
        self.pos -= 1
        fit = next((a for a in args if _fits(a, word)), None)
        if fit is None:
            raise CommandError(f"{unfit}, got '{word}'", col)
        return fit

    def _one(self, arg: Arg) -> None:
        kind = arg.kind
        if kind == "flags":
            return self._flags(arg)
        if kind == "page":
            return self._page(arg)
        word, col = self._next(f"'{arg.words[0]}'" if kind == "word" and arg.key is None else arg.says)
        if kind == "word":
            if arg.key is None:                          # a keyword: `as`
                if word != arg.words[0]:
                    raise CommandError(f"{self.op}: expected '{arg.words[0]}', got '{word}'; {self._usage()}", col)
                return
            if word not in arg.words:
                raise CommandError(f"{self.op}: {arg.says} must be one of {', '.join(arg.words)}, got '{word}'", col)
            value = arg.to(word) if arg.to else word
        elif kind == "number":
            if not (word.isascii() and word.isdigit()):
                raise CommandError(f"{self.op}: {arg.says} must be a whole number, got '{word[:40]}'", col)
            try:
                value = ascii_int(word, arg.says, arg.low, arg.high)
            except LimitError as e:
                raise CommandError(f"{self.op}: {e}", col) from None
            value = arg.to(value) if arg.to else value
        elif kind == "value":
            problem = value_problem(word)
            if problem is not None:
                raise CommandError(f"{self.op}: {problem}", col)
            value = word
        else:                                            # a name: task, VMA, holder, pipe
            if not NAME.match(word):
                raise CommandError(f"{self.op}: '{word}' is not a valid {arg.says} name (letters, digits, "
                                   f"'_', '.', '-'; starting with a letter)", col)
            value = word
        self.fields[arg.key] = value
        self.cols[arg.key] = col

    def _page(self, arg: Arg) -> None:
        word, col = self._next(arg.says)
        m = PAGE_REF.match(word)
        first = arg.key == "page"
        if not m or (not first and int(m.group(2)) < 0):
            raise CommandError(f"{self.op}: expected {arg.says}" + (" (a VMA name and a page index, like buf[0])"
                                                                    if first else "") + f", got '{word}'", col)
        index = int(m.group(2))
        if index < 0:
            raise CommandError(f"{self.op}: page index {index} is negative", col + len(m.group(1)) + 1)
        if first:
            self.fields.update(vma=m.group(1), index=index)
            self.cols.update(vma=col, index=col + len(m.group(1)) + 1)
        else:
            self.fields[arg.key] = PageRef(self.fields.pop("task2"), m.group(1), index)
            self.cols.update(vma2=col, index2=col + len(m.group(1)) + 1)

    def _flags(self, arg: Arg) -> None:
        """Optional trailing words, each at most once, in any order."""
        seen = set()
        while self.pos < len(self.words):
            word, col = self.words[self.pos]
            self.pos += 1
            m = COUNT.match(word) if "xN" in arg.words else None
            if m:
                key, value = "count", int(m.group(1))
            elif word in arg.words and word in FLAGS:
                key, value = FLAGS[word]
            else:
                raise CommandError(f"{self.op}: unexpected '{word}'; {self._usage()}", col)
            if key in seen:
                raise CommandError(f"{self.op}: '{word}' given twice", col)
            seen.add(key)
            if key == "count" and not 1 <= value <= MAX_COUNT:
                raise CommandError(f"{self.op}: the repeat count must be between 1 and {MAX_COUNT}", col)
            self.fields[key] = value
            self.cols[key] = col


def _closest(word: str, options) -> str | None:
    import difflib
    match = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return match[0] if match else None
