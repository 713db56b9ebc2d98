"""The command table (cowviz/scenario/command.py COMMANDS) is the one declaration of each command.

For every command and every form of its grammar, a line made from the grammar alone parses to that
form, name-checks (and changes the names as its arguments' kinds and its effect say), completes word
by word in the console, makes exactly the one Kernel call the table declares and runs under every
era, and is replayable in the live lab or says why not.  docs/commands.md and docs/lab.md list
exactly what the table declares.
"""
import itertools
import os
import re

import pytest

from cowviz.eras import ERA_IDS
from cowviz.lab import replayable
from cowviz.lab.machine import Machine
from cowviz.mm import Kernel
from cowviz.scenario import Names, parse_command, run_commands
from cowviz.scenario.command import COMMANDS, FLAGS, USAGE
from cowviz.web.sandbox import complete_line

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")

# The names the setup lines make, which the generated lines use.
SETUP = ["mmap P buf 2", "write P buf[0] A", "pin P buf[0] as nic write", "vmsplice P buf[1] pp"]
WORD_FOR = {"task": "P", "task2": "P", "task-or-new": "P", "new-task": "C", "vma": "buf", "new-vma": "fresh",
            "page": "buf[0]", "other": "buf[1]", "value": "B", "device": "nic", "pipe": "pp"}


def _word(arg) -> list:
    if arg.kind == "flags":
        return [w if w != "xN" else "x2" for w in arg.words if w not in ("private", "rw")]
    if arg.kind == "word":
        return [arg.words[-1] if arg.words[-1] != "none" or len(arg.words) == 1 else arg.words[0]]
    if arg.kind == "number":
        return [str(max(arg.low, 1))]
    if arg.kind == "device" and not arg.creates:
        return ["nic"]
    return [WORD_FOR[arg.key if arg.key in ("task2", "other") else arg.kind]]


def _line(op, form) -> str:
    return " ".join([op] + [w for arg in form for w in _word(arg)])


CASES = [(op, i, _line(op, form)) for op, spec in COMMANDS.items() for i, form in enumerate(spec.forms)]


def _names() -> Names:
    names = Names()
    for line in SETUP:
        names.apply(parse_command(line))
    return names


def test_every_command_and_form_has_a_case():
    assert {op for op, _, _ in CASES} == set(COMMANDS) and len(CASES) >= len(COMMANDS) + 8


@pytest.mark.parametrize("op, form, line", CASES, ids=[c[2] for c in CASES])
def test_a_line_made_from_the_grammar_parses_name_checks_and_completes(op, form, line):
    cmd = parse_command(line)
    assert (cmd.op, cmd.form) == (op, form)
    assert isinstance(cmd.args, COMMANDS[op].args)
    names = _names()
    names.apply(cmd)
    # What the argument kinds and the command's effect say it does to the names.
    a = cmd.args
    for arg in cmd.spec.forms[cmd.form]:
        if arg.kind in ("new-task", "task-or-new"):
            assert getattr(a, arg.key) in names.tasks
        if arg.kind in ("device", "pipe"):
            assert names.holders[getattr(a, arg.key)] == arg.kind
        if arg.kind == "new-vma":
            assert a.vma in names.vma_names(a.task)
    effect = cmd.spec.names
    if effect == "exit":
        assert a.task not in names.tasks
    elif effect == "unmap":
        assert not names.mms[names.tasks[a.task]][a.vma].mapped
    elif effect in ("fork", "thread"):
        assert (names.tasks[a.child] == names.tasks[a.task]) == (effect == "thread")
    # The console completes each word the line has, where the argument is one the names offer.
    words = line.split()
    before = _names()
    for i in range(len(words)):
        offered = complete_line(" ".join(words[:i]) + (" " if i else ""), before)["candidates"]
        arg_kind = None if i == 0 else _kind_at(cmd, i - 1)
        if arg_kind in (None, "task", "task-or-new", "vma", "page", "word", "flags", "device", "pipe"):
            if not (arg_kind == "device" and words[i] not in before.holder_names("device")):
                assert words[i] in offered, (words[:i], words[i], offered)


def _kind_at(cmd, n):
    """The kind of the argument the n-th word after the op fills."""
    flat = []
    for arg in cmd.spec.forms[cmd.form]:
        flat += [arg.kind] * len(_word(arg))
    return flat[n]


class _Recorder:
    """A Kernel that notes which of its public methods a command calls."""

    def __init__(self, kernel):
        self._kernel, self.called = kernel, []

    def __getattr__(self, name):
        value = getattr(self._kernel, name)
        if callable(value) and not name.startswith("_"):
            self.called.append(name)
        return value


@pytest.mark.parametrize("op, form, line", CASES, ids=[c[2] for c in CASES])
def test_it_makes_the_one_kernel_call_the_table_declares_and_runs_in_every_era(op, form, line):
    spec = COMMANDS[op]
    cmds = [parse_command(s) for s in SETUP + [line]]
    for era in ERA_IDS:
        run = run_commands(cmds, era)                 # invariants are checked after every step
        assert len(run.steps) == len(cmds) and run.steps[-1].command == line
    if spec.kernel is None:
        assert op == "assert" and spec.call is None
        return
    assert callable(getattr(Kernel, spec.kernel))
    run = run_commands(cmds[:-1], ERA_IDS[-1])
    from cowviz.scenario.runner import LiveRun
    live = LiveRun(ERA_IDS[-1])
    for c in cmds[:-1]:
        live.add(c)
    recorder = _Recorder(live.kernel)
    spec.call(recorder, cmds[-1].args)
    assert recorder.called == [spec.kernel]
    assert run.ok


@pytest.mark.parametrize("op, form, line", CASES, ids=[c[2] for c in CASES])
def test_the_lab_replays_it_or_says_why_not(op, form, line):
    cmd = parse_command(line)
    why = cmd.spec.lab_skip(cmd.args)
    whole, said = replayable([cmd])
    if why is None:
        assert whole and said == ""
        if cmd.spec.kernel is not None:
            assert callable(getattr(Machine, "do_" + op.replace("-", "_")))
    else:
        assert not whole and why in said and len(why) > 20
        lab_doc = open(os.path.join(ROOT, "docs", "lab.md"), encoding="utf-8").read()
        row = re.search(rf"^\| `{re.escape(op)}[` ].*$", lab_doc, re.M)
        assert row and why.split(": ", 1)[-1] in row.group(), f"docs/lab.md does not say why {op} is skipped"


def test_a_read_only_pin_is_not_replayable_and_a_write_pin_is():
    assert replayable([parse_command("pin P buf[0] as nic")])[0] is False
    assert replayable([parse_command("pin P buf[0] as nic write")]) == (True, "")


def _expand(usage: str) -> set:
    """`assert writable|readonly TASK` -> {("assert", "writable", "TASK"), ("assert", "readonly", "TASK")}."""
    words = [w.split("|") if "|" in w and not w.startswith("[") else [w] for w in usage.split()]
    return set(itertools.product(*words))


def test_docs_commands_md_lists_exactly_the_table():
    text = open(os.path.join(ROOT, "docs", "commands.md"), encoding="utf-8").read().split("\n## ")[0]
    rows = [m.group(1).replace("\\|", "|") for m in re.finditer(r"^\| `([^`]+)` \|", text, re.M)]
    documented = {}
    for row in rows:
        documented.setdefault(row.split()[0], set()).update(_expand(row))
    declared = {op: set().union(*(_expand(u) for u in USAGE[op].split("  or  "))) for op in COMMANDS}
    assert documented == declared


def test_every_flag_word_sets_a_field_of_the_commands_that_take_it():
    for spec in COMMANDS.values():
        for form in spec.forms:
            for arg in form:
                if arg.kind == "flags":
                    for w in arg.words:
                        field = "count" if w == "xN" else FLAGS[w][0]
                        assert field in spec.args._fields, (spec.op, w)


def test_the_editor_completes_each_line_from_the_grammar_in_its_boot_data(tmp_path):
    """The scenario editor's completer (static/js/edit-complete.js) has no vocabulary of its own:
    given the table's grammar as boot data, it offers each word of every generated line."""
    import json
    import shutil
    import subprocess
    from cowviz.scenario.command import grammar_json
    node = shutil.which("node")
    if node is None:                                   # pragma: no cover - setup.sh installs node
        pytest.skip("node is not installed")
    queries = []
    for op, form, line in CASES:
        cmd = parse_command(line)
        words = line.split()
        for i in range(len(words)):
            kind = None if i == 0 else _kind_at(cmd, i - 1)
            if kind in (None, "task", "task-or-new", "vma", "page", "word", "flags", "device", "pipe"):
                queries.append((line, " ".join(words[:i]) + (" " if i else ""), words[i]))
    script = tmp_path / "complete.mjs"
    module = "file://" + os.path.abspath(os.path.join(ROOT, "static", "js", "edit-complete.js"))
    script.write_text(
        f"import {{ completeAt }} from {json.dumps(module)};\n"
        f"const boot = {{ grammar: {json.dumps(grammar_json())}, all_eras: [], aliases: {{}}, keys: {{}} }};\n"
        f"const setup = {json.dumps(['steps:'] + [f'  - do: {s}' for s in SETUP])};\n"
        f"const queries = {json.dumps(queries)};\n"
        "const out = queries.map(([line, typed, want]) => {\n"
        "  const lines = [...setup, `  - do: ${typed}`];\n"
        "  const starts = []; let at = 0;\n"
        "  for (const l of lines) { starts.push(at); at += l.length + 1; }\n"
        "  const doc = { lines: lines.length, line: (n) => ({ text: lines[n - 1] }),\n"
        "    lineAt: (pos) => { const n = starts.filter((s) => s <= pos).length;\n"
        "      return { text: lines[n - 1], from: starts[n - 1], number: n }; } };\n"
        "  const pos = starts[lines.length - 1] + lines[lines.length - 1].length;\n"
        "  const r = completeAt({ state: { doc }, pos, explicit: true }, boot);\n"
        "  return r ? r.options.map((o) => o.label) : [];\n"
        "});\n"
        "console.log(JSON.stringify(out));\n")
    got = json.loads(subprocess.run([node, str(script)], capture_output=True, text=True, check=True).stdout)
    assert len(got) == len(queries) > 90
    missing = [(line, typed, want) for (line, typed, want), offered in zip(queries, got) if want not in offered]
    assert not missing, missing
