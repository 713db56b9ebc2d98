"""The error catalogue: each typical mistake an author makes, with its exact position, and a file with
several mistakes reported all at once, in line order, without the errors that only follow from them."""
import os
import subprocess
import sys

import pytest

from cowviz.scenario import ScenarioError, parse_scenario

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAD = "title: t\nsteps:\n"


def errors(text):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "f.yaml")
    return [(e.line, e.col, e.message) for e in info.value.errors]


def one(text):
    got = errors(text)
    assert len(got) == 1, got
    return got[0]


CATALOGUE = [
    # (what the author did, the file, line, col, the start of the message)
    ("a misspelt command", HEAD + "  - do: mmpa P buf 4\n", 3, 9, "unknown command 'mmpa' (did you mean 'mmap'?)"),
    ("a misspelt step key", HEAD + "  - do: mmap P buf 4\n    sya: hello\n", 4, 5, "step 1: unknown key 'sya'"),
    ("a misspelt top key", "title: t\nsumary: s\nsteps:\n  - do: mmap P b 1\n", 2, 1, "a scenario: unknown key 'sumary'"),
    ("an unknown era", "title: t\neras: [5.9, 6.y]\nsteps:\n  - do: mmap P b 1\n", 2, 13, "unknown era '6.y'"),
    ("a ': ' inside an unquoted say", HEAD + "  - do: mmap P b 1\n    say: note: this\n", 4, 14,
     "not valid YAML: mapping values are not allowed here (a ': ' inside a value"),
    ("a page past the end", HEAD + "  - do: mmap P buf 2\n  - do: read P buf[2]\n", 4, 20,
     "P buf has 2 pages: index 2 is out of range"),
    ("a task nobody made", HEAD + "  - do: mmap P buf 2\n  - do: read C buf[0]\n", 4, 14, "unknown task 'C'"),
    ("a VMA the task lacks", HEAD + "  - do: mmap P buf 2\n  - do: read P bfu[0]\n", 4, 16, "P has no VMA named 'bfu'"),
    ("a step without do", HEAD + "  - say: hello\n", 3, 5, "step 1 needs 'do:'"),
    ("a missing argument", HEAD + "  - do: mmap P buf\n", 3, 19, "mmap: missing PAGES"),
    ("a word that is not a number", HEAD + "  - do: mmap P buf four\n", 3, 20, "mmap: PAGES must be a whole number"),
    ("a quoted command", HEAD + "  - do: \"mmap P buf x\"\n", 3, 21, "mmap: PAGES must be a whole number"),
    ("a duplicate VMA", HEAD + "  - do: mmap P buf 2\n  - do: mmap P buf 2\n", 4, 16, "duplicate VMA name 'buf'"),
    ("an answer not among the choices", HEAD + "  - do: mmap P b 1\n    ask: {question: q, choices: [a, b], "
     "answer: c}\n", 4, 49, "answer 'c' is not one of the choices"),
    ("a pick without of", HEAD + "  - do: mmap P b 1\n    ask: {question: q, pick: page}\n", 4, 10,
     "a pick question needs 'of: TASK VMA[I]'"),
    ("an expectation for an unknown era", HEAD + "  - do: mmap P b 1\n    expect: {5.10: ok}\n", 4, 14,
     "unknown era '5.10'"),
    ("a holder used as a pipe", HEAD + "  - do: mmap P b 1\n  - do: pin P b[0] as nic\n  - do: pipe-read nic\n",
     5, 19, "'nic' is a device holder"),
    ("an empty file", "", 1, 1, "the file is empty; a scenario needs a title and steps"),
    ("no steps", "title: t\n", 1, 1, "a scenario needs 'steps'"),
    ("a tab in the indentation", HEAD + "  - do: mmap P b 1\n\t say: x\n", 4, 1, "not valid YAML"),
]


@pytest.mark.parametrize("what, text, line, col, message", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_each_typical_mistake_is_reported_where_it_is(what, text, line, col, message):
    got = one(text)
    assert got[:2] == (line, col) and got[2].startswith(message), got


def test_an_empty_file_is_not_told_summary_is_required():
    assert "summary" not in one("")[2]


SEVERAL = """\
title: Several mistakes
sumary: a misspelt key
eras: [5.9, 6.y]
steps:
  - do: mmpa P buf 4
    say: map it
  - do: write P buf[0] A
    expect: {5.9: ok, 5.10: ok}
  - do: fork P C
  - do: write C buf[0] B
  - do: read Q buf[0]
  - do: pin C buf[0] as nic
    ask: {question: "which?", pick: page, of: "C buf[0]"}
  - do: unpin nix
  - dox: read P buf[0]
  - do: read P buf[0]
    expect: {5.7: ok}
"""


def test_several_mistakes_are_all_reported_in_line_order():
    assert [(line, col, m.split(" (")[0].split(";")[0]) for line, col, m in errors(SEVERAL)] == [
        (2, 1, "a scenario: unknown key 'sumary'"),
        (3, 13, "unknown era '6.y'"),
        (5, 9, "unknown command 'mmpa'"),
        (8, 23, "unknown era '5.10'"),
        # steps 2-4 and 6 use P, buf and C, which the broken step 1 would have made: consequences, not reported.
        (11, 14, "unknown task 'Q'"),
        (14, 15, "unknown holder 'nix'"),
        (15, 5, "step 8: unknown key 'dox'"),   # and not also "step 8 needs 'do:'"
    ]


def test_an_era_error_does_not_make_later_era_checks_fail():
    # eras is broken, so what the file's eras are is unknown: a later 5.7 expectation is not blamed.
    text = "title: t\neras: [5.9, 6.y]\nkernel: 5.7\nsteps:\n  - do: mmap P b 1\n    expect: {5.7: ok}\n"
    assert [e[:2] for e in errors(text)] == [(2, 13)]


def test_the_message_is_one_line_per_error_and_check_exits_2(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(SEVERAL)
    out = subprocess.run([sys.executable, "-m", "cowviz", "check", str(f)], cwd=ROOT, capture_output=True, text=True)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 7
    assert all(line.startswith(f"{f}:") for line in lines)
    assert lines[0].startswith(f"{f}:2:1: a scenario: unknown key 'sumary'")
    run = subprocess.run([sys.executable, "-m", "cowviz", "run", str(f)], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.strip().splitlines() == lines


def test_a_good_file_still_loads():
    s = parse_scenario(HEAD + "  - do: mmap P b 1\n  - do: read P b[0]\n")
    assert len(s.steps) == 2
