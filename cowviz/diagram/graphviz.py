"""Running the system Graphviz `dot`, with an in-memory cache keyed by the DOT text.

Graphviz comes from the system (Debian/Ubuntu `graphviz`, Homebrew `graphviz`),
found through COWVIZ_DOT or on PATH.  The cache is shared by every thread, and
two threads asking for the same layout at once cause one Graphviz run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections import OrderedDict
from concurrent.futures import Future

INSTALL_HINT = ("Graphviz 'dot' was not found: install it (Debian/Ubuntu: apt-get install graphviz; "
                "macOS: brew install graphviz) or set COWVIZ_DOT to the dot program")
CACHE_SIZE = 512
CACHE_BYTES = 64 << 20        # what the cached DOT texts and outputs may hold in all
TIMEOUT = 60


class GraphvizMissing(RuntimeError):
    """Graphviz is not installed; str() is one line saying how to install it."""

    def __init__(self, detail: str = ""):
        super().__init__(INSTALL_HINT + (f" ({detail})" if detail else ""))


class GraphvizError(RuntimeError):
    """dot ran but failed (a bug in the DOT cowviz built)."""


def find_dot() -> str:
    """The path of the dot program: $COWVIZ_DOT, else dot on PATH.  Raises GraphvizMissing."""
    wanted = os.environ.get("COWVIZ_DOT")
    if wanted:
        path = shutil.which(wanted)
        if path is None:
            raise GraphvizMissing(f"COWVIZ_DOT={wanted} is not an executable program")
        return path
    path = shutil.which("dot")
    if path is None:
        raise GraphvizMissing()
    return path


class _Cache:
    """A bounded LRU of finished results plus the runs in flight, behind one lock."""

    def __init__(self, size: int, max_bytes: int = CACHE_BYTES):
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0           # the size of what is cached: keys' text and the results
        self.lock = threading.Lock()
        self.done: OrderedDict = OrderedDict()
        self.running: dict = {}
        self.runs = 0            # Graphviz runs made (for tests and the benchmark)

    def get(self, key, compute):
        with self.lock:
            if key in self.done:
                self.done.move_to_end(key)
                return self.done[key]
            future = self.running.get(key)
            owner = future is None
            if owner:
                future = self.running[key] = Future()
        if not owner:
            return future.result()
        try:
            value = compute()
        except BaseException as e:
            with self.lock:
                del self.running[key]
            future.set_exception(e)
            raise
        with self.lock:
            del self.running[key]
            self.done[key] = value
            self.bytes += _weight(key, value)
            self.runs += 1
            while len(self.done) > self.size or (self.bytes > self.max_bytes and len(self.done) > 1):
                old_key, old_value = self.done.popitem(last=False)
                self.bytes -= _weight(old_key, old_value)
        future.set_result(value)
        return value

    def clear(self) -> None:
        with self.lock:
            self.done.clear()
            self.bytes = 0


def _weight(key, value) -> int:
    """Roughly the bytes an entry holds: its key's strings and its result."""
    parts = key if isinstance(key, tuple) else (key,)
    return sum(len(k) for k in parts if isinstance(k, (str, bytes))) + \
        (len(value) if isinstance(value, (bytes, str)) else 0)


CACHE = _Cache(CACHE_SIZE)


def run_dot(dot_text: str, fmt: str, *args: str, cache: bool = True) -> bytes:
    """Lay out and render DOT text with `dot -T<fmt>`; cached by (text, format, args)."""
    prog = find_dot()

    def compute() -> bytes:
        try:
            done = subprocess.run([prog, f"-T{fmt}", *args], input=dot_text.encode("utf-8"),
                                  capture_output=True, timeout=TIMEOUT)
        except FileNotFoundError:
            raise GraphvizMissing(f"{prog} cannot be run") from None
        except subprocess.TimeoutExpired:
            raise GraphvizError(f"dot took more than {TIMEOUT} s") from None
        if done.returncode != 0:
            msg = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GraphvizError(f"dot -T{fmt} failed: " + (msg[-1] if msg else f"exit {done.returncode}"))
        return done.stdout

    if not cache:
        return compute()
    return CACHE.get((dot_text, fmt, args), compute)
