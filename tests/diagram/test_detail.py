"""`shows:` - a walkthrough's diagrams leave out what it has not taught yet (web frames and export)."""
import os
import re

import pytest

from cowviz.diagram import layout_run
from cowviz.scenario import ScenarioError, load_scenario, parse_scenario, run_scenario
from cowviz.scenario.detail import DETAILS, hidden_details

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WALK = lambda n: os.path.join(ROOT, "scenarios", n)   # noqa: E731

# What each detail puts in a diagram label, by the words it uses.
WORDS = {"pinned-flag": re.compile(r"has_pinned|MMF_HAS_PINNED"), "exclusive": re.compile(r"exclusive"),
         "memcg": re.compile(r"memcg|limit \d|usage \d"), "anon_vma": re.compile(r"anon_vma"),
         "pins": re.compile(r"\bpins \d")}


def labels(frame_json) -> str:
    return "\n".join(line for n in frame_json["nodes"] for line in n.get("label") or ())


@pytest.mark.parametrize("era", ["5.7", "5.9", "6.x"])
def test_walkthrough_01_shows_no_pinned_flag_exclusive_bit_memcg_anon_vma_or_pins(era):
    run = run_scenario(load_scenario(WALK("01-fork-and-cow.yaml")), era)
    frames = layout_run(run).frames
    text = "\n".join(labels(f.to_json()) for f in frames)
    assert "refcount 2" in text and "mapcount 2" in text          # the basics are there
    for detail, words in WORDS.items():
        assert not words.search(text), f"{detail} shown in 01 under {era}"
    assert not [n for f in frames for n in f.to_json()["nodes"] if n["kind"] in ("anon_vma", "memcg")]
    svg = frames[10].to_svg()                                      # the export: same rule
    for detail in ("pinned-flag", "exclusive", "memcg"):
        assert not WORDS[detail].search(svg), detail
    assert "refcount 1" in svg


def test_a_walkthrough_that_shows_everything_still_draws_every_detail():
    run = run_scenario(load_scenario(WALK("14-exclusive-pages.yaml")), "6.x")
    text = "\n".join(labels(f.to_json()) for f in layout_run(run).frames)
    for detail, words in WORDS.items():
        assert words.search(text), f"{detail} missing from 14 under 6.x"


def test_the_series_teaches_details_in_order_and_never_unteaches_one():
    names = sorted(n for n in os.listdir(os.path.join(ROOT, "scenarios")) if re.match(r"\d\d-.*\.yaml$", n))
    shown = set()
    for name in names:
        s = load_scenario(WALK(name))
        assert s.shows is not None, f"{name} declares no shows:"
        assert shown <= set(s.shows), f"{name} hides {shown - set(s.shows)} again"
        shown = set(s.shows)
    assert shown == set(DETAILS)
    assert load_scenario(WALK("01-fork-and-cow.yaml")).shows == ()



HEAD = "title: t\nsteps:\n  - do: mmap P b 1\n"


def test_shows_forms_and_errors():
    assert parse_scenario(HEAD + "shows: all\n").shows == tuple(DETAILS)
    assert parse_scenario(HEAD + "shows: []\n").shows == ()
    assert hidden_details(parse_scenario(HEAD)) == frozenset()             # no key: show all
    assert hidden_details(parse_scenario(HEAD + "shows: [pins]\n")) == frozenset(DETAILS) - {"pins"}
    with pytest.raises(ScenarioError) as e:
        parse_scenario(HEAD + "shows: [pins, anon-vma]\n", "s.yaml")
    assert str(e.value).startswith("s.yaml:4:15: shows: unknown detail 'anon-vma' (did you mean anon_vma?)")
    with pytest.raises(ScenarioError) as e:
        parse_scenario(HEAD + "shows: [pins, pins]\n", "s.yaml")
    assert "listed twice" in str(e.value) and e.value.line == 4
