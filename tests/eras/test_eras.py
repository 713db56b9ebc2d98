"""The era registry and the eras' answers at the kernel's decision points."""
import re

import pytest

from cowviz.eras import DEFAULT_ERA_IDS, ERA_IDS, ERAS, get_era, resolve


def test_ids_are_the_contract():
    assert ERA_IDS == ("5.7", "5.8", "5.9-rc", "5.9", "5.19", "6.x")
    # A scenario without an `eras:` list keeps running in the five it always had.
    assert DEFAULT_ERA_IDS == ("5.7", "5.8", "5.9-rc", "5.9", "6.x")
    assert resolve("latest") == "6.x" and get_era("latest") is ERAS["6.x"]
    assert resolve("5.10") is None
    with pytest.raises(KeyError):
        get_era("4.19")


@pytest.mark.parametrize("era", ERA_IDS)
def test_each_era_names_its_kernels_and_commits(era):
    e = ERAS[era]
    assert e.id == era and e.kernels and e.summary and e.__doc__
    assert e.commits and all(re.fullmatch(r"[0-9a-f]{12}", c) for c, _ in e.commits)
    assert all(c in e.__doc__ or c in str(e.commits) for c, _ in e.commits)


def test_which_eras_have_the_pinned_flag_and_exclusive_pages():
    assert [ERAS[e].has_pinned_flag for e in ERA_IDS] == [None, None, None, "has_pinned", "MMF_HAS_PINNED",
                                                          "MMF_HAS_PINNED"]
    assert [ERAS[e].tracks_anon_exclusive for e in ERA_IDS] == [False, False, False, False, True, True]


def test_5_19_has_exclusive_pages_but_not_the_later_three():
    """5.19 vs 6.x: mprotect upgrade (64fe24a3e05e), anon_vma rule (2555283eb40d), zero-page unshare (84209e87c696)."""
    assert ERAS["5.19"].anon_vma_counter == "degree" and ERAS["6.x"].anon_vma_counter != "degree"
    assert "6.2" in ERAS["6.x"].kernels and "5.19" not in ERAS["6.x"].kernels
    assert "5.19" in ERAS["5.19"].kernels


def test_no_era_checks_is_scattered_in_the_engine():
    import glob
    import os
    for path in glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "cowviz", "mm", "*.py")):
        src = open(path).read()
        assert not re.search(r"era\.id\s*==|era ==", src), path
