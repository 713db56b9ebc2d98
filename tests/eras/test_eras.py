"""The era registry and the eras' answers at the kernel's decision points."""
import ast
import glob
import os
import re
import sys

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


ENGINE_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "cowviz", "mm")
# What the engine may read off an era without calling it: its id and facts (for the snapshot
# and the words) and its kernel_name (to rename events).
ERA_READS = {"id", "facts", "kernel_name"}
# The modules whose job is to present the era's facts, and so may test them.
PRESENTERS = {"snapshot.py", "narration.py"}


def _is_era(node) -> bool:
    """`era`, `self.era`, `k.era`, `vma.vm_mm.kernel.era`."""
    return (isinstance(node, ast.Name) and node.id == "era") or \
        (isinstance(node, ast.Attribute) and node.attr == "era")


def flag_branches(src: str, name: str = "x.py") -> list:
    """Where the source reads an era's flag instead of asking it a question (line, text)."""
    tree = ast.parse(src)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_era(node.value) and id(node) not in called \
                and node.attr not in ERA_READS:
            found.append((node.lineno, f"era.{node.attr}"))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
                "getattr", "hasattr") and node.args and _is_era(node.args[0]):
            found.append((node.lineno, f"{node.func.id}(era, ...)"))
        if isinstance(node, ast.Compare) and (_is_era(node.left) or any(_is_era(c) for c in node.comparators)
                                              or any(isinstance(x, ast.Attribute) and x.attr == "id"
                                                     and _is_era(x.value)
                                                     for x in [node.left, *node.comparators])):
            found.append((node.lineno, "era compared"))
        # A test of the era's facts: only the presenters may.
        tests = [node.test] if isinstance(node, (ast.If, ast.IfExp, ast.While, ast.Assert)) else \
            node.values if isinstance(node, ast.BoolOp) else []
        if name not in PRESENTERS:
            for t in tests:
                for sub in ast.walk(t):
                    if isinstance(sub, ast.Attribute) and sub.attr == "facts":
                        found.append((sub.lineno, "a test of era.facts"))
    return sorted(set(found))


def test_the_guard_catches_flag_branches_and_era_comparisons():
    assert flag_branches("if k.era.tracks_anon_exclusive:\n    pass\n")
    assert flag_branches("x = a if era.has_pinned_flag else b\n")
    assert flag_branches("ok = flags and vma.vm_mm.kernel.era.fork_copy_decider\n")
    assert flag_branches("if era.id == '5.9': pass\n")
    assert flag_branches("if era == ERA59: pass\n")
    assert flag_branches("if getattr(k.era, 'tracks_anon_exclusive', False): pass\n")
    assert flag_branches("if k.era.facts.pg_anon_exclusive: pass\n")
    assert not flag_branches("if k.era.new_anon_page_exclusive():\n    pass\n")
    assert not flag_branches("name = k.era.kernel_name\nflag = k.era.facts.has_pinned_flag\n")


def test_no_era_checks_is_scattered_in_the_engine():
    """The engine asks the era questions; it never tests which era it is or reads an era's flags."""
    files = glob.glob(os.path.join(ENGINE_DIR, "*.py"))
    assert len(files) >= 10
    for path in files:
        src = open(path).read()
        assert not re.search(r"era\.id\s*==|era ==", src), path
        assert not flag_branches(src, os.path.basename(path)), (path, flag_branches(src, os.path.basename(path)))


def test_each_era_module_states_its_own_do_wp_page_rule():
    """Each era module names its do_wp_page() rule, even where it keeps its predecessor's."""
    for era in ERA_IDS:
        cls = type(ERAS[era])
        assert "wp_can_reuse_anon_page" in vars(cls), (era, cls.__module__)
        src = open(sys.modules[cls.__module__].__file__).read()
        assert "do_wp_page" in src, cls.__module__


def test_era_facts_travel_on_the_snapshot():
    from cowviz.mm import Kernel, take_snapshot
    for era in ERA_IDS:
        e = ERAS[era]
        f = take_snapshot(Kernel(e)).facts
        assert f.id == era
        assert f.has_pinned_flag == e.has_pinned_flag
        assert f.pg_anon_exclusive == e.tracks_anon_exclusive == e.new_anon_page_exclusive()
        assert (f.has_pinned_flag is not None) == e.pin_sets_mm_flag()
