"""The comparison without a kernel: views from model snapshots and from pagemap words, and their diff."""
from __future__ import annotations

import dataclasses

import pytest

from cowviz.lab import LabLimitError, kernel_era
from cowviz.lab import linux
from cowviz.lab.probe import MAX_PAGES, check_limits
from cowviz.lab.report import LabReport, LabRow, wrap_cell
from cowviz.lab.views import (ZERO, Group, PageView, View, assert_result, compare, describe,
                              groups_of, kernel_view, model_view)
from cowviz.scenario import Names, parse_command, run_commands

PRESENT = linux.PM_PRESENT
EXCL = linux.PM_EXCLUSIVE
ZERO_PFN = 0x3b34


def run_lines(*lines):
    """The model's 6.x run of the lines, and the names after each step."""
    cmds = [parse_command(line) for line in lines]
    names, after = Names(), []
    for c in cmds:
        names.apply(c)
        after.append(names.clone())
    return run_commands(cmds, "6.x"), after


def views_of(*lines):
    run, names = run_lines(*lines)
    views, prev = [], None
    for step, n in zip(run.steps, names):
        prev = model_view(step.snapshot, n, step.result, prev)
        views.append(prev)
    return views


def test_model_view_after_fork_shares_the_frame_and_nobody_is_exclusive():
    v = views_of("mmap P buf 2", "write P buf[0] A", "read P buf[1]", "fork P C")[-1]
    assert v.pages["P buf[0]"].frame == v.pages["C buf[0]"].frame != ZERO
    assert v.pages["P buf[1]"].frame == v.pages["C buf[1]"].frame == ZERO
    assert not v.pages["P buf[0]"].exclusive and not v.pages["P buf[1]"].exclusive
    assert describe(v) == "ok; P buf[0]=C buf[0], zero: P buf[1]=C buf[1]"


def test_model_view_marks_the_page_that_moved():
    v = views_of("mmap P buf 1", "write P buf[0] A", "fork P C", "write C buf[0] B")[-1]
    assert v.moved == {"C buf[0]"} and v.stayed == {"P buf[0]"}
    assert v.pages["P buf[0]"].exclusive and v.pages["C buf[0]"].exclusive
    assert describe(v) == "ok; P buf[0], C buf[0] (new)"


def test_threads_share_one_name_for_their_pages():
    v = views_of("mmap P buf 1", "write P buf[0] A", "thread P T")[-1]
    assert list(v.pages) == ["P/T buf[0]"] and v.tasks == ("P", "T")


def test_a_vma_left_out_by_dontfork_is_named():
    v = views_of("mmap P buf 1", "madvise P buf dontfork", "fork P C")[-1]
    assert v.vmas == {"P buf": True, "C buf": False}
    assert describe(v).endswith("; no C buf")


def entry(pfn, exclusive=False):
    return PRESENT | pfn | (EXCL if exclusive else 0)


GROUPS = [Group("P", "P", (("buf", 2),)), Group("C", "C", (("buf", 2),))]


def test_kernel_view_reads_pagemap_words():
    raw = {("P", "buf"): [entry(0x1000), entry(ZERO_PFN)], ("C", "buf"): [entry(0x1000), 0]}
    v = kernel_view(raw, GROUPS, ["P", "C"], ZERO_PFN, "ok")
    assert v.pages["P buf[0]"] == PageView(True, "pfn 0x1000", False)
    assert v.pages["P buf[1]"].frame == ZERO and not v.pages["C buf[1]"].present
    assert describe(v) == "ok; P buf[0]=C buf[0], zero: P buf[1]"


def test_kernel_view_without_frames_keeps_presence_and_the_exclusive_bit():
    raw = {("P", "buf"): [entry(0, True), 0], ("C", "buf"): None}
    v = kernel_view(raw, GROUPS, ["P", "C"], None, "ok")
    assert not v.frames_visible and v.pages["P buf[0]"] == PageView(True, None, True)
    assert v.vmas["C buf"] is False
    assert describe(v) == "ok; P buf[0] excl; no C buf"


def kernel_like(model: View, **pages) -> View:
    """A kernel view equal to the model view, but for the given pages."""
    return dataclasses.replace(model, pages={**model.pages, **pages})


def test_identical_views_agree():
    v = views_of("mmap P buf 1", "write P buf[0] A", "fork P C")[-1]
    assert compare(v, v) == []


def test_a_wrong_prediction_of_sharing_is_a_difference():
    model = views_of("mmap P buf 1", "write P buf[0] A", "fork P C")[-1]
    kernel = kernel_like(model, **{"C buf[0]": PageView(True, "pfn 0x99", False)})
    diffs = compare(model, kernel)
    assert diffs == ["frames: P buf[0]=C buf[0] in the model, P buf[0], C buf[0] in the kernel"]


def test_results_presence_exclusivity_tasks_and_vmas_are_compared():
    model = views_of("mmap P buf 1", "write P buf[0] A", "fork P C")[-1]
    kernel = dataclasses.replace(
        kernel_like(model, **{"P buf[0]": PageView(True, model.pages["P buf[0]"].frame, True),
                              "C buf[0]": PageView(False)}),
        result="ENOMEM", tasks=("P",), vmas={"P buf": True, "C buf": False})
    diffs = compare(model, kernel)
    assert diffs[0] == "the command gave ok in the model, ENOMEM in the kernel"
    assert "live tasks: P, C in the model, P in the kernel" in diffs
    assert "C buf is mapped in the model, not mapped in the kernel" in diffs
    assert "C buf[0] is present in the model, not present in the kernel" in diffs
    assert "P buf[0] is not mapped exclusively in the model, mapped exclusively in the kernel" in diffs


def test_a_frame_that_moves_in_one_and_not_the_other_is_a_difference():
    model = views_of("mmap P buf 1", "write P buf[0] A", "fork P C", "exit C", "write P buf[0] B")[-1]
    assert model.stayed == {"P buf[0]"}
    kernel = dataclasses.replace(model, moved=frozenset({"P buf[0]"}), stayed=frozenset())
    assert compare(model, kernel) == ["P buf[0] kept its frame in the model, moved to a new frame "
                                      "in the kernel"]


def test_hidden_frames_are_not_compared():
    model = views_of("mmap P buf 1", "write P buf[0] A", "fork P C")[-1]
    kernel = dataclasses.replace(kernel_like(model, **{"C buf[0]": PageView(True, None, False),
                                                       "P buf[0]": PageView(True, None, False)}),
                                 frames_visible=False)
    assert compare(model, kernel) == []


def test_assertions_are_evaluated_on_views():
    v = views_of("mmap P buf 1", "write P buf[0] A", "fork P C")[-1]
    assert assert_result(parse_command("assert same-page P buf[0] C buf[0]"), v) == "holds"
    assert assert_result(parse_command("assert different-page P buf[0] C buf[0]"), v) == "fails"
    assert assert_result(parse_command("assert unmapped C buf[0]"), v) == "fails"
    assert assert_result(parse_command("assert writable C buf[0]"), v) is None
    hidden = dataclasses.replace(v, frames_visible=False)
    assert assert_result(parse_command("assert same-page P buf[0] C buf[0]"), hidden) is None


def test_groups_follow_the_scenarios_address_spaces():
    names = Names()
    for line in ("mmap P buf 1", "thread P T", "fork T C", "mmap C extra 2"):
        names.apply(parse_command(line))
    groups = groups_of(names, ["P", "T", "C"])
    assert [(g.label, g.task, g.vmas) for g in groups] == [
        ("P/T", "P", (("buf", 1),)), ("C", "C", (("buf", 1), ("extra", 2)))]
    assert [g.label for g in groups_of(names, ["T", "C"])] == ["T", "C"]


@pytest.mark.parametrize("release, era", [("6.18.44-fc", "6.x"), ("6.1.0", "6.x"), ("5.19.0", "5.19"), ("5.15.0-91-generic", "5.9"),
                                          ("5.9.0", "5.9"), ("5.9.0-rc5", "5.9-rc"), ("5.8.18", "5.8"),
                                          ("5.4.0", "5.7"), ("4.19.0", "5.7")])
def test_kernel_releases_map_to_eras(release, era):
    assert kernel_era(release) == era


def test_a_scenario_mapping_too_much_is_refused_with_a_clear_message():
    cmds = [parse_command("mmap P a 1000"), parse_command("mmap P b 100")]
    with pytest.raises(LabLimitError) as e:
        check_limits(cmds)
    assert str(e.value) == (f"the scenario maps 1100 pages (4 MiB) in all; the lab maps at most "
                            f"{MAX_PAGES} pages (4 MiB)")


def test_too_many_tasks_are_refused():
    cmds = [parse_command("mmap P a 1")] + [parse_command(f"fork P C{i}") for i in range(16)]
    with pytest.raises(LabLimitError, match="creates 17 tasks"):
        check_limits(cmds)


def test_report_json_numbers_frames_instead_of_showing_pfns():
    kernel = View("ok", ("P",), {"P buf": True},
                  {"P buf[0]": PageView(True, "pfn 0x1234", True), "P buf[1]": PageView(True, ZERO, False)})
    report = LabReport("6.x", "6.18", rows=[LabRow(1, "write P buf[0] A", "agree", "", "", kernel_view=kernel)])
    pages = report.to_json()["rows"][0]["kernel_view"]["pages"]
    assert pages["P buf[0]"]["frame"] == "frame 1" and pages["P buf[1]"]["frame"] == ZERO
    assert report.to_json(pfns=True)["rows"][0]["kernel_view"]["pages"]["P buf[0]"]["frame"] == "pfn 0x1234"
    assert report.ok and report.to_json()["counts"]["agree"] == 1


def test_cells_wrap_between_pages_never_inside_one():
    assert wrap_cell("ok; P buf[0]=C buf[0], P buf[1], zero: C buf[1]", 20) == \
        ["ok; P buf[0]=", "C buf[0], P buf[1],", "zero: C buf[1]"]
    assert wrap_cell("ok; P buf[0]=C buf[0]=D buf[0]", 10) == ["ok;", "P buf[0]=", "C buf[0]=", "D buf[0]"]
    assert wrap_cell("", 10) == [""]


def test_a_machine_that_is_not_linux_says_so(monkeypatch):
    from cowviz.lab import LabUnavailable, lab_available, probe_commands
    monkeypatch.setattr(linux.platform, "system", lambda: "Darwin")
    assert lab_available() == (False, "the lab needs Linux (this is Darwin)")
    with pytest.raises(LabUnavailable, match="needs Linux"):
        probe_commands([parse_command("mmap P buf 1")])


def test_every_assert_the_lab_cannot_see_says_why():
    from cowviz.lab.probe import UNOBSERVABLE_ASSERT
    from cowviz.scenario.command import ASSERTS
    assert set(ASSERTS) - {"unmapped"} <= set(UNOBSERVABLE_ASSERT)
