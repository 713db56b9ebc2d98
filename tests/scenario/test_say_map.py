"""`say:` per era: the map form, its errors (file:line:col), and where each era's text shows."""
import json
import subprocess
import sys

import pytest

from cowviz.scenario import ScenarioError, parse_scenario, run_scenario
from cowviz.scenario.trace import format_run, run_to_json
from cowviz.web.wire import pane

HEAD = "title: t\neras: [5.8, 5.9-rc, 5.9]\nkernel: 5.9\nsteps:\n  - do: mmap P b 1\n"


def test_a_map_gives_each_era_its_text_and_a_plain_say_gives_all_one():
    s = parse_scenario(HEAD + "    say: one for all\n  - do: write P b[0] A\n    say:\n"
                       "      5.8,5.9-rc: before\n      latest: never\n      5.9: fixed\n".replace(
                           "      latest: never\n", ""))
    plain, per = s.steps
    assert plain.say_for("5.8") == plain.say_for("5.9") == "one for all" and not plain.say_varies
    assert per.say_for("5.8") == per.say_for("5.9-rc") == "before" and per.say_for("5.9") == "fixed"
    assert per.say_varies


BAD = [
    # (map lines, line, col, words)
    ("      5.8: a\n      5.9-rc: b\n", 8, 7, "no text for era 5.9"),
    ("      5.8,5.9-rc: a\n      5.10: b\n", 9, 7, "unknown era '5.10' (did you mean 5.19"),
    ("      5.8, 5.9-rc, 5.91: a\n      5.9: b\n", 8, 20, "unknown era '5.91' (did you mean 5.9"),
    ("      5.8,5.9-rc: a\n      5.9,5.8: b\n", 9, 11, "era 5.8 given twice"),
    ("      5.8,5.9-rc,5.9: a\n      6.x: b\n", 9, 7, "era 6.x is not among this scenario's eras"),
    ("      5.8,,5.9-rc: a\n      5.9: b\n", 8, 11, "an empty era id"),
    ("      \"5.8,5.9-rc\": a\n      \"5.9\": [b]\n", 9, 14, "must be text"),
]


@pytest.mark.parametrize("lines, line, col, words", BAD)
def test_bad_say_maps_say_file_line_col(lines, line, col, words):
    text = HEAD + "  - do: write P b[0] A\n    say:\n" + lines
    with pytest.raises(ScenarioError) as e:
        parse_scenario(text, "s.yaml")
    assert words in e.value.message, e.value.message
    assert (e.value.line, e.value.col) == (line, col), str(e.value)
    assert str(e.value).startswith(f"s.yaml:{line}:{col}: step 2 'say'")


MAPPED = HEAD + ("  - do: write P b[0] A\n  - do: fork P C\n  - do: write P b[0] B\n    say:\n"
                 "      5.8,5.9-rc: The PTE is read-only from the fork, so *it faults*.\n"
                 "      5.9: No fault at all.\n")


def test_the_pane_carries_its_own_eras_text():
    s = parse_scenario(MAPPED)
    old, new = run_scenario(s, "5.8"), run_scenario(s, "5.9")
    frame = lambda i: None   # noqa: E731
    a, b = pane(old, 4, frame, held=False), pane(new, 4, frame, held=False)
    assert "<em>it faults</em>" in a["narration"] and a["narration_varies"] is True
    assert b["narration"] == "<p>No fault at all.</p>\n" and b["narration_varies"] is True
    assert pane(new, 1, frame, held=False)["narration_varies"] is False


def test_the_trace_and_json_show_the_text_of_the_era_run(tmp_path):
    s = parse_scenario(MAPPED)
    assert "it faults" in format_run(run_scenario(s, "5.9-rc"), "x") and "No fault" not in format_run(run_scenario(s, "5.9-rc"), "x")
    assert run_to_json(run_scenario(s, "5.9"))["steps"][3]["say"] == "No fault at all."
    f = tmp_path / "m.yaml"
    f.write_text(MAPPED)
    out = subprocess.run([sys.executable, "-m", "cowviz", "run", str(f), "--kernel", "all", "--json"],
                         capture_output=True, text=True, check=True).stdout
    says = {r["kernel"]: r["steps"][3]["say"] for r in json.loads(out)["runs"]}
    assert says == {"5.8": "The PTE is read-only from the fork, so *it faults*.",
                    "5.9-rc": "The PTE is read-only from the fork, so *it faults*.", "5.9": "No fault at all."}
