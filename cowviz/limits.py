"""Every size limit on input, in one place: what a file, a line or a request may hold.

Cost is bounded by design: each way in (a scenario file, a console line, a URL, a Socket.IO
event) is checked against these before any work, and a refusal is a clear message that changes
nothing (docs/scenarios.md "Limits", docs/web.md "Limits").

    scenario files   MAX_FILE_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES, MAX_STEPS    (loader)
    runs             MAX_RUN_CELLS: the state summed over every step of a run     (runner)
    numbers          MAX_DIGITS: plain ASCII digits only, at most this many        (commands, URLs, events)
    values           value_problem(): what a page can hold, as the model writes it (commands, the lab)
    console lines    MAX_LINE (sandbox), plus the sandbox's own DEFAULT_LIMITS (cowviz/web/sandbox.py)
"""
from __future__ import annotations

import yaml

MAX_FILE_BYTES = 1 << 20        # a scenario file: 1 MiB (the biggest shipped one is ~12 KB)
MAX_YAML_DEPTH = 32             # nesting of mappings and lists (a scenario needs 5)
MAX_YAML_NODES = 200_000        # YAML nodes in one file
MAX_STEPS = 500                 # steps of one scenario
MAX_RUN_CELLS = 1_000_000       # sum over a run's steps of (tasks + PTE slots + references) in its snapshots
MAX_DIGITS = 12                 # a number anywhere in input: at most this many ASCII digits
MAX_LINE = 1000                 # one console line, in characters
PAGE_SIZE = 4096
MAX_VALUE_BYTES = PAGE_SIZE - 1  # a value and the NUL after it fill at most one page (cowviz/lab/agent.py)


class LimitError(ValueError):
    """Input past a limit; str() says which limit and what to do."""


def ascii_int(text, what: str, low: int, high: int) -> int:
    """`text` as a whole number low..high: plain ASCII digits, at most MAX_DIGITS.  LimitError otherwise.

    int() alone would accept '٣' (Arabic-Indic three), ' 3', '3_000' and '+3', and raise on '³' or
    on 5,000 digits; none of those is a number a person typed here."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise LimitError(f"{what} must be a whole number, got {_show(text)}")
    if isinstance(text, int):
        n = text
    else:
        if not text or not text.isascii() or not text.isdigit():
            raise LimitError(f"{what} must be a whole number (digits 0-9), got {_show(text)}")
        if len(text) > MAX_DIGITS:
            raise LimitError(f"{what} must be between {low} and {high}, got a number of {len(text)} digits")
        n = int(text)
    if not low <= n <= high:
        raise LimitError(f"{what} must be between {low} and {high}, got {n if abs(n) < 10 ** MAX_DIGITS else 'a huge number'}")
    return n


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def value_problem(value: str) -> str | None:
    """Why `value` cannot be written into a page as the model (and the lab) writes it, or None.

    A page holds a value as its UTF-8 bytes and a NUL (the lab's agent writes exactly that), so
    a value must be text that encodes to UTF-8, hold no NUL, and fit in one page with its NUL."""
    if not isinstance(value, str):
        return "a value must be text"
    if "\0" in value:
        return "a value cannot contain a NUL character (a page holds the value up to its first NUL)"
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        return "a value must be valid text (it has a lone surrogate, which UTF-8 cannot encode)"
    if size > MAX_VALUE_BYTES:
        return f"a value must fit in one page: at most {MAX_VALUE_BYTES} bytes of UTF-8, got {size}"
    return None


class LimitedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a bound on nesting and on the number of nodes.

    The composer recurses once per level, so a file nested a few hundred levels deep would end
    in RecursionError; here it ends in a YAML error at the line where it got too deep."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent, index):
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_YAML_DEPTH} levels deep (a scenario needs 5)",
                    self.peek_event().start_mark)
            if self._nodes > MAX_YAML_NODES:
                raise yaml.composer.ComposerError(
                    None, None, f"more than {MAX_YAML_NODES} YAML values in one file", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def compose(text: str):
    """yaml.compose with the limits above (raises yaml.YAMLError, never RecursionError)."""
    loader = LimitedLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()
