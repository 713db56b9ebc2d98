"""Running the system Graphviz `dot`, with an in-memory cache keyed by the DOT text.

Graphviz comes from the system (Debian/Ubuntu `graphviz`, Homebrew `graphviz`),
found through COWVIZ_DOT or on PATH.  The cache is shared by every thread, and
two threads asking for the same layout at once cause one Graphviz run.

A layout (`-Tjson0`) is run by a `dot` started before it was asked for (_Primed): one process
waits for the next layout, already past the start of its run, and a new one is started while
that layout runs.  The waiting process has laid out an empty graph (PRIME): that loads its
plugins, a fifth of a sandbox layout's run.  Graphviz 2.43 carries state from one graph to the
next in a process (the second of two real graphs is sometimes laid out differently, and a prime
that measures a text, loading the fonts, changed one layout in four of one graph), so a process
lays out one graph after the empty one and exits.  Its answer is byte for byte a fresh `dot`'s
(1,024 of 1,024 layouts of 128 graphs); tests/diagram/test_cache.py checks that on the
machine's Graphviz.

A layout can also be started ahead of the moment it is wanted (Started, run_dot(started=)):
an era switch or a long restore starts its last full state's layout while it runs the commands
after it.
"""
from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
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

PRIME = "digraph prime {}\n"      # nothing to measure or place: only the plugins are loaded


class _Primed:
    """At most one `dot -Tjson0` per program and server process, started and primed, waiting."""

    def __init__(self):
        self.lock = threading.Lock()
        self.waiting: dict = {}          # program -> (pid of the server process, Popen)

    def take(self, prog: str):
        """A primed process of `prog` that has answered its prime (None if there is none), and a new
        one started in its place."""
        with self.lock:
            entry = self.waiting.pop(prog, None)
        self.start(prog)
        if entry is None:
            return None
        pid, p = entry
        if pid != os.getpid() or not _primed(p):
            _drop(p)                 # made by the process this one was forked from, or broken
            return None
        return p

    def start(self, prog: str) -> None:
        try:
            p = subprocess.Popen([prog, "-Tjson0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            p.stdin.write(PRIME.encode())
            p.stdin.flush()
        except OSError:
            return                   # no primed process: the next layout starts its own
        with self.lock:
            old = self.waiting.get(prog)
            self.waiting[prog] = (os.getpid(), p)
        if old is not None:
            _drop(old[1])


def _primed(p) -> bool:
    """Read the prime's answer: the graph asked for is written to a process that has read all of
    its input before."""
    try:
        while True:
            line = p.stdout.readline()
            if not line:
                return False         # it ended
            if line == b"}\n":      # the end of a JSON document: its one line at column 0
                return True
    except (OSError, ValueError):
        return False


def _drop(p) -> None:
    """End a waiting process that will not be used."""
    try:
        p.kill()
        p.communicate(timeout=5)
    except (OSError, ValueError, subprocess.SubprocessError):
        pass


PRIMED = _Primed()


def _primed_layout(prog: str, dot_text: str):
    """`dot -Tjson0` of the text by a primed process: (returncode, stdout, stderr), or None if
    there was none to take (the caller starts one of its own)."""
    p = PRIMED.take(prog)
    if p is None:
        return None
    try:
        out, err = p.communicate(dot_text.encode("utf-8"), timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        _drop(p)
        raise GraphvizError(f"dot took more than {TIMEOUT} s") from None
    except OSError:
        _drop(p)
        return None                  # it died waiting: run afresh
    return p.returncode, out, err


class Started:
    """A `dot -Tjson0` started ahead of the layout that will want it (history.py, expect()): it
    reads its text from a file and writes its answer to one, so it runs beside Python without
    needing Python (a thread feeding a pipe waits for the interpreter at every read)."""

    def __init__(self, dot_text: str):
        self.text = dot_text
        self._files = [tempfile.TemporaryFile() for _ in range(3)]
        fin, fout, ferr = self._files
        fin.write(dot_text.encode("utf-8"))
        fin.seek(0)
        try:
            self._proc = subprocess.Popen([find_dot(), "-Tjson0"], stdin=fin, stdout=fout, stderr=ferr)
        except (OSError, GraphvizMissing):
            self._proc = None        # the layout runs when it is asked for, and says why it cannot

    def result(self):
        """(returncode, stdout, stderr) once it has ended, or None if it did not start."""
        if self._proc is None:
            return None
        try:
            _wait(self._proc, TIMEOUT)
        except subprocess.TimeoutExpired:
            self.discard()
            raise GraphvizError(f"dot took more than {TIMEOUT} s") from None
        _, fout, ferr = self._files
        fout.seek(0)
        ferr.seek(0)
        done = self._proc.returncode, fout.read(), ferr.read()
        self.discard()
        return done

    def discard(self) -> None:
        """End it if it still runs (its answer is not wanted) and let go of its files."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        for f in self._files:
            f.close()


def _wait(proc, timeout: float) -> None:
    """proc.wait(timeout), woken when the process ends: Popen.wait with a timeout polls, sleeping
    ever longer (up to 50 ms) between looks; a pidfd (Linux 5.3) can be waited on instead."""
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        proc.wait(timeout=timeout)
        return
    try:
        if not select.select([fd], [], [], timeout)[0]:
            raise subprocess.TimeoutExpired(proc.args, timeout)
    finally:
        os.close(fd)
    proc.wait()


def run_dot(dot_text: str, fmt: str, *args: str, cache: bool = True, started: Started | None = None) -> bytes:
    """Lay out and render DOT text with `dot -T<fmt>`; cached by (text, format, args).  `started`:
    a Started run of this text and format, whose answer is taken if the cache has none."""
    prog = find_dot()
    if started is not None and (started.text != dot_text or fmt != "json0" or args):
        started.discard()
        started = None

    def compute() -> bytes:
        done = started.result() if started is not None else None
        if done is None and fmt == "json0" and not args:
            done = _primed_layout(prog, dot_text)
        if done is None:
            try:
                ran = subprocess.run([prog, f"-T{fmt}", *args], input=dot_text.encode("utf-8"),
                                     capture_output=True, timeout=TIMEOUT)
            except FileNotFoundError:
                raise GraphvizMissing(f"{prog} cannot be run") from None
            except subprocess.TimeoutExpired:
                raise GraphvizError(f"dot took more than {TIMEOUT} s") from None
            done = ran.returncode, ran.stdout, ran.stderr
        returncode, stdout, stderr = done
        if returncode != 0:
            msg = stderr.decode("utf-8", "replace").strip().splitlines()
            raise GraphvizError(f"dot -T{fmt} failed: " + (msg[-1] if msg else f"exit {returncode}"))
        return stdout

    try:
        if not cache:
            return compute()
        return CACHE.get((dot_text, fmt, args), compute)
    finally:
        if started is not None:
            started.discard()        # the answer was cached already: the run is not needed
