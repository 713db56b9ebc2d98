"""The command language parser: every command, and errors that say where."""
import random

import pytest

from cowviz.scenario import CommandError, PageRef, parse_command


@pytest.mark.parametrize("line, fields", [
    ("mmap P buf 4", dict(op="mmap", task="P", vma="buf", pages=4, shared=False, writable=True)),
    ("mmap P buf 4 shared ro", dict(shared=True, writable=False)),
    ("mmap P buf 4 ro private", dict(shared=False, writable=False)),
    ("munmap P buf", dict(op="munmap", task="P", vma="buf")),
    ("mprotect P buf ro", dict(op="mprotect", writable=False)),
    ("madvise P buf wipeonfork", dict(advice="wipeonfork")),
    ("read P buf[3]", dict(op="read", task="P", vma="buf", index=3)),
    ("write C buf[0] SECRET", dict(op="write", task="C", value="SECRET")),
    ("fork P C", dict(op="fork", task="P", child="C")),
    ("thread P T", dict(op="thread", task="P", child="T")),
    ("exit C", dict(op="exit", task="C")),
    ("exec P", dict(op="exec", task="P")),
    ("gup P buf[0] as dio write", dict(op="gup", holder="dio", write=True, count=1)),
    ("gup P buf[0] as cache x1024", dict(count=1024, write=False)),
    ("pin P buf[0] as nic write longterm", dict(op="pin", holder="nic", write=True, longterm=True)),
    ("pin P buf[0] as nic longterm", dict(write=False, longterm=True)),
    ("unpin nic", dict(op="unpin", holder="nic")),
    ("dma-write nic C", dict(op="dma-write", holder="nic", value="C")),
    ("dma-read nic", dict(op="dma-read", holder="nic")),
    ("vmsplice C buf[0] pipe", dict(op="vmsplice", pipe="pipe", index=0)),
    ("pipe-read pipe", dict(op="pipe-read", pipe="pipe")),
    ("memcg-limit P 3", dict(op="memcg-limit", limit=3)),
    ("fail-alloc", dict(op="fail-alloc", n=1)),
    ("fail-alloc 2", dict(n=2)),
    ("assert same-page P buf[0] C buf[1]", dict(check="same-page", other=PageRef("C", "buf", 1))),
    ("assert pinned P buf[0]   # a comment", dict(check="pinned", index=0)),
])
def test_every_command_parses(line, fields):
    cmd = parse_command(line)
    for key, value in fields.items():
        assert (cmd.op if key == "op" else getattr(cmd.args, key)) == value, key


def test_blank_and_comment_lines_are_nothing():
    assert parse_command("") is None and parse_command("   # just a note") is None


@pytest.mark.parametrize("line, col, words", [
    ("frok P C", 1, "unknown command 'frok' (did you mean 'fork'?)"),
    ("read P buf", 8, "expected VMA[I]"),
    ("read P buf[x]", 8, "expected VMA[I]"),
    ("mmap P buf four", 12, "PAGES must be a whole number"),
    ("mmap P buf 0", 12, "between 1 and"),
    ("mmap P buf 4 shared shared", 21, "given twice"),
    ("mmap P buf 4 huge", 14, "unexpected 'huge'"),
    ("mprotect P buf rwx", 16, "must be one of rw, ro"),
    ("pin P buf[0] nic", 14, "expected 'as'"),
    ("pin P buf[0] as nic x3", 21, "unexpected 'x3'"),
    ("write P buf[0]", 15, "missing VALUE"),
    ("fork P", 7, "missing CHILD"),
    ("fork P 9C", 8, "not a valid CHILD name"),
    ("exit P C", 8, "unexpected 'C'"),
    ("assert equal P buf[0]", 8, "what to assert must be one of"),
    ("assert same-page P buf[0]", 26, "missing TASK2"),
    ("assert anon-vma P", 18, "assert: missing VMA or VMA[I]; usage: assert anon-vma TASK VMA N  or"),
    ("assert anon-vma P buf[x]", 19, "assert: expected a VMA name or VMA[I], got 'buf[x]'"),
    ("assert anon-vma P buf", 22, "assert: missing anon_vma id (a number, or none); usage"),
    ("assert anon-vma P buf[0] x", 26, "assert anon-vma: expected an anon_vma id (a number) or 'none', got 'x'"),
])
def test_errors_say_where_and_what(line, col, words):
    with pytest.raises(CommandError) as e:
        parse_command(line)
    assert e.value.col == col and words in e.value.message


def test_random_input_gives_only_command_errors():
    rnd = random.Random(7)
    vocab = ["mmap", "read", "write", "pin", "gup", "as", "P", "buf[0]", "buf[", "[1]", "3", "-1", "x2",
             "write", "longterm", "shared", "ro", "rw", "#", "assert", "same-page", "fork", "é", "\t", ""]
    for _ in range(3000):
        line = " ".join(rnd.choice(vocab) for _ in range(rnd.randint(0, 7)))
        try:
            parse_command(line)
        except CommandError as e:
            assert e.col >= 1
