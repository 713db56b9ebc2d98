"""The asserts on counters and flags (refcount, mapcount, pincount, exclusive, has-pinned,
anon-vma) and memcg-limit creating a task: the docs/commands.md example, per era."""
import pytest

from cowviz.eras import ERA_IDS
from cowviz.scenario import ScenarioError, parse_command, parse_scenario
from cowviz.scenario.runner import run_scenario
from tests.sim import Sim

EXAMPLE = open(__file__.replace("test_counter_asserts.py", "counter-asserts.yaml")).read()


@pytest.mark.parametrize("era", ERA_IDS)
def test_the_documented_example_holds_in_every_era(era):
    run = run_scenario(parse_scenario(EXAMPLE), era)
    assert run.ok, [(s.command, s.message) for s in run.failures()]


def test_the_example_is_the_one_in_the_docs():
    import os
    doc = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "commands.md")).read()
    for step in parse_scenario(EXAMPLE).steps:
        assert step.command.text in doc, step.command.text


def test_a_missing_bit_or_flag_fails_with_a_reason():
    s = Sim("5.8")
    s("mmap P buf 1", "write P buf[0] A")
    assert s("assert exclusive P buf[0] no") == "failed"
    assert s("assert has-pinned P no") == "failed"
    from cowviz.scenario.runner import check_assert
    held, why = check_assert(s.k, parse_command("assert exclusive P buf[0] no"))
    assert not held and "5.8 has no PG_anon_exclusive" in why and "5.19" in why
    held, why = check_assert(s.k, parse_command("assert has-pinned P no"))
    assert not held and "no pinned flag" in why and "008cfe4418b3" in why


def test_counters_of_nothing_and_of_the_zero_page_fail_clearly():
    from cowviz.scenario.runner import check_assert
    s = Sim("6.x")
    s("mmap P buf 2", "read P buf[0]")
    held, why = check_assert(s.k, parse_command("assert refcount P buf[0] 1"))
    assert not held and "zero page" in why
    held, why = check_assert(s.k, parse_command("assert mapcount P buf[1] 0"))
    assert not held and "maps nothing" in why
    assert s("assert anon-vma P buf none") == "ok"          # nothing written: no anon_vma yet


def test_parse_errors_say_where_and_what():
    for line, col, words in [("assert refcount P buf[0]", 25, "missing N"),
                             ("assert refcount P buf[0] x", 26, "whole number"),
                             ("assert has-pinned P maybe", 21, "one of yes, no"),
                             ("assert anon-vma P buf x", 23, "anon_vma id"),
                             ("assert exclusive P buf[0]", 26, "yes|no")]:
        with pytest.raises(Exception) as e:
            parse_command(line)
        assert e.value.col == col and words in e.value.message, (line, e.value.message)


def test_names_are_checked_for_the_new_forms():
    with pytest.raises(ScenarioError, match="unknown task 'Q'"):
        parse_scenario("title: t\nsteps:\n  - do: mmap P buf 1\n  - do: assert has-pinned Q no\n")
    with pytest.raises(ScenarioError, match="no VMA named 'x'"):
        parse_scenario("title: t\nsteps:\n  - do: mmap P buf 1\n  - do: assert anon-vma P x 1\n")


def test_memcg_limit_creates_a_new_task_as_mmap_does():
    s = parse_scenario("title: t\nsteps:\n  - do: memcg-limit Q 1\n  - do: mmap Q buf 2\n"
                       "  - do: write Q buf[0] A\n  - do: write Q buf[1] B\n    expect: ENOMEM\n")
    for era in ("5.7", "6.x"):
        assert run_scenario(s, era).ok
