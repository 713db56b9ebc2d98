"""Scenario files: the format and its errors, each as file:line:col: message."""
import pytest

from cowviz.scenario import ScenarioError, load_scenario, parse_scenario

GOOD = """\
title: A test
summary: Something small.
eras: [5.9-rc, 5.9]
kernel: 5.9-rc
level: beginner
tags: [cow]
compare: [5.9-rc, 5.9]
references:
  - title: "70e806e4e645 mm: Do early cow for pinned pages during fork() for ptes"
  - {title: LWN, url: "https://lwn.net/Articles/849638/"}
steps:
  - do: mmap P buf 1
    say: "**Map** it."
  - do: write P buf[0] 0
    expect: ok
  - do: read P buf[0]
    expect: 0
    ask:
      question: What does P read?
      choices: ["0", "1"]
      answer: "0"
      explain: {5.9-rc: because, 5.9: because too}
  - do: fork P C
    ask: {question: "Which page will C map?", pick: page, of: "C buf[0]"}
  - do: write P buf[0] B
    expect: {5.9-rc: ok, latest: ok}
"""


def test_a_good_file_loads_with_strings_kept_as_strings():
    s = parse_scenario(GOOD, "good.yaml")
    assert s.title == "A test" and s.eras == ("5.9-rc", "5.9") and s.kernel == "5.9-rc"
    assert s.compare == ("5.9-rc", "5.9") and s.level == "beginner" and s.tags == ("cow",)
    assert s.references[1] == {"title": "LWN", "url": "https://lwn.net/Articles/849638/"}
    assert s.steps[2].expect_for("5.9") == "0"           # YAML's int 0 stays the string "0"
    assert s.steps[2].ask.answer_for("5.9") == "0" and s.steps[2].ask.explain_for("5.9") == "because too"
    assert s.steps[3].ask.kind == "pick" and str(s.steps[3].ask.of) == "C buf[0]"
    assert s.steps[4].expect == {"5.9-rc": "ok", "6.x": "ok"}
    assert s.steps[1].line == 14 and s.steps[1].col == 9


def test_defaults_are_every_era_and_the_newest():
    s = parse_scenario("title: t\nsteps:\n  - do: mmap P b 1\n")
    assert s.eras == ("5.7", "5.8", "5.9-rc", "5.9", "6.x") and s.kernel == "6.x"


BAD = [
    ("title: t\nsteps:\n  - do: frok P C\n", 3, 9, "unknown command 'frok'"),
    ("title: t\nsteps:\n  - do: read P buf[0]\n", 3, 14, "unknown task 'P'"),
    ("title: t\nsteps:\n  - do: mmap P buf 1\n  - do: read P bf[0]\n", 4, 16, "P has no VMA named 'bf'"),
    ("title: t\nsteps:\n  - do: mmap P buf 2\n  - do: read P buf[2]\n", 4, 20, "index 2 is out of range (0-1)"),
    ("title: t\nsteps:\n  - do: mmap P buf 1\n  - do: unpin nic\n", 4, 15, "unknown holder 'nic'"),
    ("title: t\nsteps:\n  - do: mmap P b 1\n  - do: vmsplice P b[0] x\n  - do: unpin x\n", 5, 15, "'x' is a pipe"),
    ("title: t\nsteps:\n  - do: mmap P b 1\n  - do: mmap P b 2\n", 4, 16, "duplicate VMA name 'b'"),
    ("title: t\nsteps:\n  - do: mmap P b 1\n  - do: fork P P\n", 4, 16, "duplicate task name 'P'"),
    ("title: t\nsteps:\n  - do: mmap P b four\n", 3, 18, "PAGES must be a whole number"),
    ("title: t\nsteps:\n  - do: 'mmap P b four'\n", 3, 19, "PAGES must be a whole number"),
    ("title: t\neras: [5.9, 7.0]\nsteps:\n  - do: mmap P b 1\n", 2, 13, "unknown era '7.0'"),
    ("title: t\nkernel: 5.8\neras: [5.9]\nsteps:\n  - do: mmap P b 1\n", 2, 9, "not among this scenario's eras"),
    ("title: t\nsteps:\n  - do: mmap P b 1\n    expect: {5.10: ok}\n", 4, 14, "unknown era '5.10'"),
    ("title: t\nsteps:\n  - do: mmap P b 1\n    expct: ok\n", 4, 5, "unknown key 'expct'"),
    ("title: t\nsteps:\n  - say: hi\n", 3, 5, "needs 'do:'"),
    ("title: t\nsteps: []\n", 2, 8, "non-empty list"),
    ("title: t\ntitle: u\nsteps:\n  - do: mmap P b 1\n", 2, 1, "duplicate key 'title'"),
    ("steps:\n  - do: mmap P b 1\n", 1, 1, "needs 'title'"),
    ("title: [a, b]\nsteps:\n  - do: mmap P b 1\n", 1, 8, "title must be text"),
    ("title: t\nsteps:\n  - do: mmap P b 1\n    say: a: b\n", 4, 11, "not valid YAML"),
    ("title: t\nsteps:\n  - do: mmap P b 1\n    ask: {question: q, choices: [a, b], answer: c}\n", 4, 49,
     "answer 'c' is not one of the choices"),
    ("title: t\nsteps:\n  - do: mmap P b 1\n    ask: {question: q, pick: page, of: \"Q b[0]\"}\n", 4, 40,
     "unknown task 'Q'"),
    ("", 1, 1, "the file is empty"),
    ("title: t\nsteps:\n  - do: mmap P b 1\n    notes: [a, b]\n", 4, 12, "step 1 'notes' must be text"),
]


@pytest.mark.parametrize("text, line, col, words", BAD)
def test_bad_files_say_file_line_col(text, line, col, words):
    with pytest.raises(ScenarioError) as e:
        parse_scenario(text, "bad.yaml")
    assert (e.value.line, e.value.col) == (line, col), str(e.value)
    assert words in e.value.message and str(e.value).startswith(f"bad.yaml:{line}:{col}: ")


def test_unreadable_files(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load_scenario(str(tmp_path / "missing.yaml"))
    p = tmp_path / "latin1.yaml"
    p.write_bytes(b"title: caf\xe9\n")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(str(p))


def test_a_name_stays_known_after_munmap_and_dontfork_so_touching_it_is_a_runtime_outcome():
    s = parse_scenario("title: t\nsteps:\n  - do: mmap P b 1\n  - do: madvise P b dontfork\n"
                       "  - do: fork P C\n  - do: read C b[0]\n  - do: munmap P b\n  - do: read P b[0]\n")
    assert len(s.steps) == 6


def test_presenter_notes_are_kept_per_step_and_optional():
    s = parse_scenario("title: t\nsteps:\n  - do: mmap P b 1\n    notes: Ask the room *first*.\n"
                       "  - do: write P b[0] A\n", "n.yaml")
    assert [st.notes for st in s.steps] == ["Ask the room *first*.", None]
