"""The sandbox state machine and console completion, without a socket."""
from __future__ import annotations

import pytest

from cowviz.scenario import Names, parse_command
from cowviz.web.library import WebError
from cowviz.web.sandbox import Sandbox, complete_line


def names_after(*lines):
    n = Names()
    for line in lines:
        n.apply(parse_command(line))
    return n


def test_apply_undo_and_era_switch():
    box = Sandbox("5.9-rc")
    for line in ("mmap P buf 1", "write P buf[0] A", "fork P C"):
        box.apply(line)
    assert box.history == ["mmap P buf 1", "write P buf[0] A", "fork P C"]
    assert box.undo() == "fork P C" and box.names.task_names() == ["P"]
    box.set_era("6.x")
    assert box.run.era == "6.x" and len(box.run.steps) == 2


def test_a_failed_line_leaves_everything_as_it_was():
    box = Sandbox("5.9")
    box.apply("mmap P buf 1")
    run, names = box.run, box.names
    with pytest.raises(WebError, match=r"^console:1:8: duplicate VMA name 'buf'"):
        box.apply("mmap P buf 2")
    assert box.run is run and box.names is names and box.history == ["mmap P buf 1"]


def test_a_bad_era_is_refused():
    with pytest.raises(WebError, match="unknown era"):
        Sandbox("5.10")
    box = Sandbox("5.9")
    with pytest.raises(WebError):
        box.set_era("latest!")
    assert box.era == "5.9"


@pytest.mark.parametrize("text, start, expect", [
    ("", 0, None),
    ("w", 0, ["write"]),
    ("write ", 6, ["P"]),
    ("write P ", 8, ["buf[0]", "buf[1]", "other[0]"]),
    ("write P o", 8, ["other[0]"]),
    ("gup P buf[0] ", 13, ["as"]),
    ("gup P buf[0] as ", 16, ["nic"]),
    ("pin P buf[0] as nic ", 20, ["longterm", "write"]),
    ("pin P buf[0] as nic write ", 26, ["longterm"]),
    ("vmsplice P buf[0] ", 18, ["pipe"]),
    ("pipe-read ", 10, ["pipe"]),
    ("mprotect P buf ", 15, ["ro", "rw"]),
    ("assert ", 7, ["anon-vma", "different-page", "exclusive", "has-pinned", "mapcount", "pincount",
                    "pinned", "readonly", "refcount", "same-page", "unmapped", "writable"]),
    ("assert has-pinned P ", 20, ["no", "yes"]),
    ("assert anon-vma P ", 18, ["buf", "buf[0]", "buf[1]", "other", "other[0]"]),
    ("assert exclusive P buf[0] ", 26, ["no", "yes"]),
    ("assert same-page P buf[0] ", 26, ["P"]),
    ("read P buf[0] # x", 17, []),
    ("exit P ", 7, []),
])
def test_completion(text, start, expect):
    names = names_after("mmap P buf 2", "mmap P other 1", "pin P buf[0] as nic", "vmsplice P buf[1] pipe")
    r = complete_line(text, names)
    assert r["start"] == start
    if expect is None:
        assert "mmap" in r["candidates"] and len(r["candidates"]) == 20
    else:
        assert r["candidates"] == expect


def test_completion_offers_the_usage_of_the_command():
    assert complete_line("fork ", Names())["usage"] == "fork PARENT CHILD"
