"""Regression tests for the findings of issue 14 outside the web: the loader, the command language,
runs, the CLI and the lab's values.  Each bad input ends in a clear message and changes nothing."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cowviz import limits
from cowviz.lab.agent import encode_value
from cowviz.lab.probe import LabLimitError, check_limits
from cowviz.limits import LimitError, ascii_int, value_problem
from cowviz.scenario import ScenarioError, load_scenario, parse_command, run_scenario
from cowviz.scenario.loader import parse_scenario
from cowviz.scenario.runner import RunLimitError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def scenario_text(*commands: str) -> str:
    return "title: t\nsteps:\n" + "".join(f"  - do: {c}\n" for c in commands)


def deep_yaml(levels: int) -> str:
    return "title: t\nsummary: " + "[" * levels + "]" * levels + "\nsteps:\n  - do: mmap P buf 1\n"


# -- the loader ------------------------------------------------------------------------------------

def test_deep_yaml_is_a_clear_error_not_recursion():
    """Finding: YAML nested ~500 levels deep raised RecursionError (and took the site down)."""
    for levels in (500, 5000):
        with pytest.raises(ScenarioError) as e:
            parse_scenario(deep_yaml(levels), "deep.yaml")
        assert f"nested more than {limits.MAX_YAML_DEPTH} levels" in str(e.value)
        assert str(e.value).startswith("deep.yaml:2:")


def test_a_number_of_5000_digits_is_a_clear_error():
    """Finding: a number of more than 4,300 digits raised ValueError."""
    for text in (scenario_text("mmap P buf " + "9" * 5000),
                 scenario_text("mmap P buf 1", "read P buf[" + "9" * 5000 + "]"),
                 scenario_text("mmap P buf 1", "gup P buf[0] as d x" + "9" * 5000),
                 scenario_text("fail-alloc " + "9" * 5000)):
        with pytest.raises(ScenarioError) as e:
            parse_scenario(text, "big.yaml")
        assert "big.yaml:" in str(e.value) and len(str(e.value)) < 600


@pytest.mark.parametrize("digits", ["\u00b3", "\u0663", "\u0663\u0664", "\uff13", "3\u00b2"])
def test_non_ascii_digits_are_not_numbers(digits):
    for line in (f"mmap P buf {digits}", f"read P buf[{digits}]", f"gup P buf[0] as d x{digits}"):
        with pytest.raises(Exception) as e:
            parse_command(line)
        assert type(e.value).__name__ == "CommandError", line


def test_a_big_file_is_refused_without_reading_it_all(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"title: t\n" + b"#" * (limits.MAX_FILE_BYTES + 10))
    with pytest.raises(ScenarioError, match="larger than 1024 KiB"):
        load_scenario(str(big))


def test_too_many_steps_is_refused():
    with pytest.raises(ScenarioError, match=f"at most {limits.MAX_STEPS} steps"):
        parse_scenario(scenario_text("mmap P buf 1", *["read P buf[0]"] * limits.MAX_STEPS))


def test_a_long_fork_chain_ends_at_the_run_limit():
    """Finding: a 1,000-step fork chain passed 8.7 GB.  Its states summed over the run are bounded."""
    steps = ["mmap P buf 16", "fork P C0"] + [f"fork C{i} C{i + 1}" for i in range(498)]
    scenario = parse_scenario(scenario_text(*steps), "chain.yaml")
    with pytest.raises(RunLimitError) as e:
        run_scenario(scenario, "6.x")
    assert "the run is too big" in str(e.value) and str(e.value).startswith("chain.yaml:")
    assert isinstance(e.value, ScenarioError)


def test_a_long_chain_that_lets_tasks_exit_runs():
    steps = ["mmap P buf 16"] + [f"fork P C{i}" if i % 2 == 0 else f"exit C{i - 1}" for i in range(498)]
    run = run_scenario(parse_scenario(scenario_text(*steps)), "6.x")
    assert len(run.steps) == 499


# -- numbers and values -----------------------------------------------------------------------------

def test_ascii_int():
    assert ascii_int("42", "n", 0, 100) == 42 and ascii_int(7, "n", 0, 9) == 7
    for bad in ("\u0663", "\u00b3", " 3", "+3", "3_0", "", "9" * 5000, True, None, 3.0, "-1"):
        with pytest.raises(LimitError):
            ascii_int(bad, "n", 0, 10 ** 9)
    with pytest.raises(LimitError, match="between 0 and 5, got 6"):
        ascii_int("6", "n", 0, 5)


@pytest.mark.parametrize("value,words", [("x" * 4096, "at most 4095 bytes"), ("\u00e9" * 2048, "at most 4095 bytes"),
                                         ("a\0b", "NUL"), ("\ud800", "lone surrogate")])
def test_values_the_model_cannot_write(value, words):
    problem = value_problem(value)
    assert words in problem
    # The model refuses it where the line is parsed ...
    from cowviz.scenario.command import CommandError
    with pytest.raises(CommandError) as e:
        parse_command(f"write P buf[0] {value}")
    assert problem in e.value.message
    # ... and the lab with the same words, before anything runs, and its agent never writes past a page.
    cmd = parse_command("write P buf[0] ok")
    import dataclasses
    bad = dataclasses.replace(cmd, args=cmd.args._replace(value=value))
    with pytest.raises(LabLimitError) as e:
        check_limits([parse_command("mmap P buf 1"), bad])
    assert problem in str(e.value)
    with pytest.raises(ValueError, match=problem[:20]):
        encode_value(value)


def test_a_value_that_fits_is_written():
    assert value_problem("x" * 4095) is None
    assert encode_value("x" * 4095) == b"x" * 4095 + b"\0"


# -- the CLI ----------------------------------------------------------------------------------------

def cli(*args, stdin=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "cowviz", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, input=stdin)


def test_cli_exits_2_on_every_bad_file(tmp_path):
    files = {"deep.yaml": deep_yaml(600), "big.yaml": scenario_text("mmap P buf " + "9" * 5000),
             "sup.yaml": scenario_text("mmap P buf \u00b3"), "bin.yaml": "\udcff",
             "chain.yaml": scenario_text("mmap P buf 16", "fork P C0", *[f"fork C{i} C{i + 1}" for i in range(498)])}
    for name, text in files.items():
        p = tmp_path / name
        if name == "bin.yaml":
            p.write_bytes(b"\xff\xfe\x00title")
        else:
            p.write_text(text)
        # `check` reads without running: a chain too big to run is a bad file for `run`.
        for args in ([["run", str(p)]] if name == "chain.yaml" else [["check", str(p)], ["run", str(p)]]):
            done = cli(*args)
            assert done.returncode == 2, (name, args, done.stderr[-500:])
            assert "Traceback" not in done.stderr and done.stderr.strip(), (name, args)


def test_cli_check_dev_zero_is_bounded():
    """Finding: `check /dev/zero` read until MemoryError."""
    done = cli("check", "/dev/zero", timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "/dev/zero:1:1:" in done.stderr


def test_cli_output_can_be_piped_into_head():
    """Finding: `run ... | head` ended in a BrokenPipeError traceback."""
    scenario = os.path.join(ROOT, "scenarios", "01-fork-and-cow.yaml")
    done = subprocess.run(f"{sys.executable} -m cowviz run {scenario} --kernel all | head -2", shell=True,
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert len(done.stdout.splitlines()) == 2
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
