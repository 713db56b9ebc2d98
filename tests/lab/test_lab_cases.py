"""Real probes of the cases issue 6 names: each agrees with the 6.x model, and the kernel facts hold.

Facts are read from the kernel's side of each row (what pagemap showed), so
they would fail if the lab compared the model with itself.
"""
from __future__ import annotations

import dataclasses

import pytest

from cowviz.lab.views import ZERO

from tests.lab.labkit import assert_all_agree, lab_file, needs_frames, needs_io_uring, needs_lab, probe_file, row

pytestmark = [needs_lab, needs_frames]


def frame(r, page):
    return r.kernel_view.pages[page].frame


def exclusive(r, page):
    return r.kernel_view.pages[page].exclusive


def present(r, page):
    return r.kernel_view.pages[page].present


def test_basic_cow_shares_at_fork_and_copies_on_the_childs_write():
    report = probe_file(lab_file("lab-01-basic-cow.yaml"), era="6.x")
    assert_all_agree(report)
    fork = row(report, "fork P C")
    assert frame(fork, "P buf[0]") == frame(fork, "C buf[0]")
    assert not exclusive(fork, "P buf[0]") and not exclusive(fork, "C buf[0]")
    write = row(report, "write C buf[0] B")
    assert frame(write, "C buf[0]") != frame(write, "P buf[0]")
    assert "C buf[0]" in write.kernel_view.moved and "P buf[0]" in write.kernel_view.stayed
    assert exclusive(write, "P buf[0]") and exclusive(write, "C buf[0]")
    assert row(report, "read P buf[0]").kernel_view.result == "A"
    assert row(report, "read C buf[0]", 2).kernel_view.result == "B"
    reuse = row(report, "write P buf[0] D")
    assert "P buf[0]" in reuse.kernel_view.stayed


def test_reads_of_untouched_memory_map_the_zero_page():
    report = probe_file(lab_file("lab-02-zero-page.yaml"), era="6.x")
    assert_all_agree(report)
    both = row(report, "read P b[0]")
    assert frame(both, "P a[0]") == frame(both, "P b[0]") == ZERO
    assert not exclusive(both, "P a[0]")
    write = row(report, "write P a[0] X")
    assert frame(write, "P a[0]") != ZERO and "P a[0]" in write.kernel_view.moved
    assert frame(write, "P b[0]") == ZERO
    fork = row(report, "fork P C")
    assert present(fork, "C a[0]") and not present(fork, "C b[0]")


def test_shared_mapping_is_not_copied_at_fork_and_the_child_sees_the_same_frames():
    report = probe_file(lab_file("lab-03-shared.yaml"), era="6.x")
    assert_all_agree(report)
    fork = row(report, "fork P C")
    assert fork.kernel_view.vmas["C shm"] and not any(present(fork, f"C shm[{i}]") for i in range(4))
    read = row(report, "read C shm[1]")
    # Fault-around maps the pages already in the page cache next to the fault.
    assert frame(read, "C shm[0]") == frame(read, "P shm[0]")
    assert frame(read, "C shm[2]") == frame(read, "P shm[2]")
    assert present(read, "C shm[1]") and not present(read, "C shm[3]")
    assert row(report, "read P shm[0]").kernel_view.result == "S"


@needs_io_uring
def test_madv_dontfork_leaves_the_vma_out_of_the_child():
    report = probe_file(lab_file("lab-04-dontfork.yaml"), era="6.x")
    assert_all_agree(report)
    fork = row(report, "fork P C")
    assert fork.kernel_view.vmas["P buf"] and not fork.kernel_view.vmas["C buf"]
    assert "P buf[0]" in fork.kernel_view.stayed
    assert row(report, "read C buf[0]").kernel_view.result == "SIGSEGV"
    assert row(report, "read P buf[0]").kernel_view.result == "C"


def test_madv_wipeonfork_gives_the_child_an_empty_vma():
    report = probe_file(lab_file("lab-05-wipeonfork.yaml"), era="6.x")
    assert_all_agree(report)
    fork = row(report, "fork P C")
    assert fork.kernel_view.vmas["C buf"] and not present(fork, "C buf[0]")
    assert row(report, "read C buf[0]").kernel_view.result == "0"
    assert row(report, "read D buf[0]").kernel_view.result == "A"


@needs_io_uring
def test_fork_copies_an_io_uring_pinned_page_for_the_child():
    report = probe_file(lab_file("lab-06-pin-fork.yaml"), era="6.x")
    assert_all_agree(report)
    pin = row(report, "pin P buf[0] as ring write longterm")
    fork = row(report, "fork P C")
    assert frame(fork, "C buf[0]") != frame(fork, "P buf[0]")
    assert frame(fork, "P buf[0]") == frame(pin, "P buf[0]")
    assert exclusive(fork, "P buf[0]") and exclusive(fork, "C buf[0]")
    assert row(report, "read C buf[0]").kernel_view.result == "A"
    assert row(report, "read C buf[0]", 2).kernel_view.result == "A"
    write = row(report, "write P buf[0] B")
    assert "P buf[0]" in write.kernel_view.stayed
    assert row(report, "read P buf[0]").kernel_view.result == "C"
    # After IORING_UNREGISTER_BUFFERS the page is an ordinary one again: shared at fork.
    again = row(report, "fork P D")
    assert frame(again, "D buf[0]") == frame(again, "P buf[0]")


def test_vmsplice_then_unmap_does_not_leak_the_parents_write():
    report = probe_file(lab_file("lab-07-vmsplice-unmap.yaml"), era="6.x")
    assert_all_agree(report)
    write = row(report, "write P buf[0] SECRET")
    assert "P buf[0]" in write.kernel_view.moved
    assert row(report, "pipe-read pipe").kernel_view.result == "A"


def test_threads_exec_and_a_write_gup_agree():
    report = probe_file(lab_file("lab-08-threads-exec.yaml"), era="6.x")
    assert_all_agree(report)
    fork = row(report, "fork T C")
    assert "P/T buf[0]" in fork.kernel_view.pages
    gup = row(report, "gup C buf[0] as dio write")
    assert "C buf[0]" in gup.kernel_view.moved
    assert frame(row(report, "gup C buf[1] as dio2"), "C buf[1]") == ZERO
    assert row(report, "exec C").kernel_view.vmas["C buf"] is False
    assert row(report, "dma-read dio").kernel_view.result == "A"


@pytest.mark.parametrize("era", ["5.7", "5.8", "5.9-rc"])
@needs_io_uring
def test_an_era_that_does_not_copy_pinned_pages_is_reported_as_differing(era):
    # The 5.x-before-the-fix models share a pinned page with the child at
    # fork; the running kernel does not.  Holding those models against it is
    # a deliberately wrong expectation, and the lab must say so.
    report = probe_file(lab_file("lab-06-pin-fork.yaml"), era=era)
    fork = row(report, "fork P C")
    assert fork.verdict == "differ" and fork.agree is False
    assert any(d.startswith("frames: P buf[0]=C buf[0] in the model") for d in fork.differences)
    assert not report.ok
    assert "differ" in report.table()


def test_a_doctored_model_run_is_reported_as_differing():
    from cowviz.scenario import load_scenario, run_scenario
    scenario = load_scenario(lab_file("lab-01-basic-cow.yaml"))
    run = run_scenario(scenario, "6.x")
    # Claim that the child's write (step 5) changed nothing: it shows step 4's state.
    steps = list(run.steps)
    assert steps[4].command == "write C buf[0] B"
    steps[4] = dataclasses.replace(steps[4], snapshot=steps[3].snapshot)
    doctored = run.__class__(run.scenario, run.era, run.initial, tuple(steps))
    report = probe_file(lab_file("lab-01-basic-cow.yaml"), run=doctored)
    wrong = row(report, "write C buf[0] B")
    assert wrong.verdict == "differ"
    assert any(d.startswith("frames: P buf[0]=C buf[0] in the model") for d in wrong.differences)
    assert [r.verdict for r in report.rows[:4]] == ["agree"] * 4


FAULT_AROUND_PAST_THE_FIRST_PAGE_TABLE = """
title: fault-around past the first page table
steps:
  - do: mmap P big 600 shared
  - do: write P big[512] A
  - do: write P big[513] A
  - do: fork P D
  - do: read D big[514]
"""


def test_fault_around_past_the_first_page_table_agrees():
    from tests.lab.labkit import probe_text
    report = probe_text(FAULT_AROUND_PAST_THE_FIRST_PAGE_TABLE, era="6.x")
    read = row(report, "read D big[514]")
    # The kernel maps the cached pages of the same 16-page window.
    assert read.kernel_view.pages["D big[512]"].present and read.kernel_view.pages["D big[513]"].present
    assert_all_agree(report)
