"""Each era names its own kernel functions: every event's fn, in every shipped scenario under
every era, is a name the kernel of that era's `names_at` version had (cowviz/eras/names.py)."""
import glob
import os

import pytest

from cowviz.eras import ALL, ERA_IDS, get_era
from cowviz.eras.names import (BY_NAME, LINEAGE, NOT_KERNEL, TABLE, TREES, holds_at, name_at,
                               parse_version)
from cowviz.scenario import load_scenario
from cowviz.scenario.runner import run_commands

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
FILES = sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml"))
               + glob.glob(os.path.join(ROOT, "scenarios", "reference", "*.yaml"))
               + glob.glob(os.path.join(ROOT, "tests", "**", "scenarios", "*.yaml"), recursive=True))


def emitted_fns(era_id: str) -> dict:
    """fn -> (scenario, step) of its first event, over every scenario run in this era."""
    seen = {}
    for path in FILES:
        s = load_scenario(path)
        run = run_commands([st.command for st in s.steps], era_id, steps=s.steps, scenario=s)
        for st in run.steps:
            for e in st.events:
                seen.setdefault(e.fn, (os.path.basename(path), st.index))
    return seen


@pytest.fixture(scope="module")
def fns():
    return {era: emitted_fns(era) for era in ERA_IDS}


@pytest.mark.parametrize("era", ERA_IDS)
def test_every_event_fn_existed_in_that_eras_kernel(fns, era):
    version = get_era(era).names_at
    wrong = []
    for fn, where in sorted(fns[era].items()):
        if fn in NOT_KERNEL:
            continue
        entry = BY_NAME.get(fn)
        if entry is None:
            wrong.append(f"{fn} (first in {where}) is not in the names table")
        elif not holds_at(entry, version):
            wrong.append(f"{fn} (first in {where}) did not exist in v{version}: "
                         f"{entry.since or '<=5.7'} .. {entry.until or 'now'}")
    assert not wrong, f"era {era} (names of v{version}):\n" + "\n".join(wrong)


def test_the_renames_the_issue_names(fns):
    # copy_one_pte() until the 5.9-rc7 split; copy_present_pte() after; copy_present_ptes() in 6.x.
    for era in ("5.7", "5.8", "5.9-rc"):
        assert "copy_one_pte" in fns[era] and "copy_present_pte" not in fns[era]
    assert "copy_present_pte" in fns["5.9"] and "copy_present_pte" in fns["5.19"]
    assert "copy_present_ptes" in fns["6.x"] and "copy_present_pte" not in fns["6.x"]
    # memcg: the try/commit API in 5.7, mem_cgroup_charge() from 5.8.
    assert "mem_cgroup_charge" not in fns["5.7"]
    assert get_era("5.7").kernel_name("mem_cgroup_charge") == "mem_cgroup_try_charge_delay"
    assert "mem_cgroup_charge" in fns["5.9"]
    # madvise_behavior() is gone by 5.19 (madvise_vma_behavior(), 5.17).
    assert "madvise_behavior" in fns["5.9"] and "madvise_behavior" not in fns["6.x"]
    assert "madvise_vma_behavior" in fns["6.x"] and "madvise_vma_behavior" in fns["5.19"]
    # The early copy's preallocation.
    assert "page_copy_prealloc" in fns["5.9"] and "folio_prealloc" in fns["6.x"]


def test_era_objects_answer_the_name():
    assert get_era("5.8").kernel_name("copy_present_pte") == "copy_one_pte"
    assert get_era("5.9").kernel_name("copy_present_pte") == "copy_present_pte"
    assert get_era("6.x").kernel_name("copy_present_pte") == "copy_present_ptes"
    assert get_era("5.19").kernel_name("page_try_dup_anon_rmap") == "page_try_dup_anon_rmap"
    assert get_era("6.x").kernel_name("page_try_dup_anon_rmap") == "folio_try_dup_anon_rmap_pte"
    assert get_era("6.x").kernel_name("do_wp_page") == "do_wp_page"
    assert get_era("6.x").kernel_name("device DMA") == "device DMA"


def test_the_table_is_consistent():
    assert len({e.name for e in TABLE}) == len(TABLE)
    for e in TABLE:
        if e.since and e.until:
            assert parse_version(e.since) < parse_version(e.until), e
        for c in filter(None, (e.commit_in, e.commit_out)):
            assert all(len(x) == 12 and int(x, 16) >= 0 for x in c.split()), e
    for role, chain in LINEAGE.items():
        # One name at a time: the lineage's entries follow each other without a gap.
        for a, b in zip(chain, chain[1:]):
            assert BY_NAME[a].until == BY_NAME[b].since, (role, a, b)
        for v in TREES:
            assert name_at(role, v) in chain
    assert parse_version("5.9-rc7") < parse_version("5.9") < parse_version("5.19") < parse_version("6.0")
    assert [e.names_at for e in ALL] == ["5.7", "5.8", "5.9-rc6", "5.9", "5.19", "6.18"]


def test_the_early_copy_credits_the_right_function():
    """-EBUSY is the rmap function's answer; -EAGAIN is copy_present_page()'s, for want of a page."""
    from tests.sim import Sim
    for era in ("5.9", "5.19", "6.x"):
        s = Sim(era)
        s("mmap P buf 1", "write P buf[0] A", "pin P buf[0] as nic write", "fork P C")
        eagain = [e for e in s.events if "-EAGAIN" in e.text]
        assert [e.fn for e in eagain] == ["copy_present_page"]
        if era == "5.9":
            assert "-EBUSY" not in eagain[0].text
        else:
            decider = "page_try_dup_anon_rmap" if era == "5.19" else "folio_try_dup_anon_rmap_pte"
            assert f"{decider}() refuses to share it (-EBUSY)" in eagain[0].text
            assert decider not in {e.fn for e in s.events}   # never credited with -EAGAIN
