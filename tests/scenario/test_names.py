"""Names: the name space the commands build up, checked before anything runs."""
from __future__ import annotations

import pytest

from cowviz.scenario import Names, ScenarioError, parse_console_line
from cowviz.scenario.command import parse_command


def _names(lines) -> Names:
    """The names after `lines`, applied in place (no clone on the way)."""
    names = Names()
    for line in lines:
        names.apply(parse_command(line))
    return names


def test_a_clone_keeps_the_names_of_live_processes_only_and_checks_the_same():
    """The console clones the names on every line: a long session leaves many exited children,
    whose VMA names are never looked up again, so a clone does not copy them."""
    lines = ["mmap P buf 4", "mmap P sh 2 shared", "madvise P sh dontfork"]
    for i in range(20):
        lines += [f"fork P C{i}", f"write C{i} buf[0] X", f"exit C{i}"]
    lines += ["fork P D", "thread D T", "munmap P buf"]
    names = _names(lines)
    clone = names.clone()
    assert len(names.mms) == 22 and sorted(clone.mms) == sorted(set(names.tasks.values())) and len(clone.mms) == 2
    assert clone.tasks == names.tasks and clone.holders == names.holders
    assert {t: [(n, v.pages, v.mapped, v.dontfork) for n, v in clone.mms[m].items()] for t, m in clone.tasks.items()} == \
           {t: [(n, v.pages, v.mapped, v.dontfork) for n, v in names.mms[m].items()] for t, m in names.tasks.items()}
    for line in ["write D buf[3] Y", "write T buf[0] Z", "fork D E", "mmap P buf 1"]:
        parse_console_line(line, clone)                 # D kept buf, not sh (dontfork); P unmapped buf
    for line, message in [("write C3 buf[0] X", "unknown task 'C3'"), ("write D sh[0] X", None),
                          ("write P buf[4] X", "index 4 is out of range")]:
        if message is None:
            parse_console_line(line, clone.clone())    # a name D keeps: a run-time outcome (SIGSEGV)
            continue
        with pytest.raises(ScenarioError, match=message):
            parse_console_line(line, clone.clone())
    assert len(names.clone().mms) == 2                 # and the original is as it was
