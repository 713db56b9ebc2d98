"""anon_vma trees and the rmap walk (mm/rmap.c)."""
import pytest

from cowviz.mm.rmap import rmap_walk
from tests.sim import ERAS, Sim


def labels(k, page):
    return sorted(v.label(i) for v, i in rmap_walk(k, page))


@pytest.mark.parametrize("era", ERAS)
def test_anon_vma_prepare_makes_a_root_that_is_its_own_parent(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A")
    av = s.vma("P", "buf").anon_vma
    assert av.root is av and av.parent is av
    assert (av.num_children, av.num_active_vmas, av.degree) == (1, 1, 2)


@pytest.mark.parametrize("era", ERAS)
def test_anon_vma_fork_links_the_child_into_the_parents_tree_and_gives_it_its_own(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "fork P C")
    pav, cvma = s.vma("P", "buf").anon_vma, s.vma("C", "buf")
    cav = cvma.anon_vma
    assert cav is not pav and cav.parent is pav and cav.root is pav
    assert [avc.anon_vma for avc in cvma.anon_vma_chain] == [cav, pav]     # newest first
    assert pav.num_children == 2 and pav.refcount == 2                      # itself + C's; C's holds the root
    assert {avc.vma.label() for avc in pav.rb_root} == {"P buf", "C buf"}
    # The shared page is still filed under the parent's anon_vma, and the walk finds both.
    assert labels(s.k, s.page("P", "buf")) == ["C buf[0]", "P buf[0]"]


@pytest.mark.parametrize("era", ERAS)
def test_rmap_walk_of_a_childs_cow_copy_finds_only_the_child(era):
    s = Sim(era)
    s("mmap P buf 2", "write P buf[0] A", "write P buf[1] B", "fork P C", "write C buf[1] X")
    assert labels(s.k, s.page("C", "buf", 1)) == ["C buf[1]"]
    assert labels(s.k, s.page("P", "buf", 1)) == ["P buf[1]"]
    assert labels(s.k, s.page("P", "buf", 0)) == ["C buf[0]", "P buf[0]"]


@pytest.mark.parametrize("era", ERAS)
def test_exit_frees_the_childs_anon_vma_and_the_root_survives(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "fork P C")
    pav = s.vma("P", "buf").anon_vma
    s("exit C")
    assert list(s.k.anon_vmas) == [pav.id] and pav.refcount == 1 and pav.num_children == 1
    s("exit P")
    assert s.k.anon_vmas == {}


@pytest.mark.parametrize("era", ERAS)
def test_a_grandchild_reuses_an_anon_vma_nobody_uses_any_more(era):
    """7a3ef208e662 / 2555283eb40d: an anon_vma with no VMA and one child is taken over at the next fork."""
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "fork P C", "fork C G")
    c_av = s.vma("C", "buf").anon_vma
    s("exit C")
    assert c_av.num_active_vmas == 0 and c_av.num_children == 1
    before = set(s.k.anon_vmas)
    s("fork G H")
    assert s.vma("H", "buf").anon_vma is c_av and set(s.k.anon_vmas) == before
    assert "reuses anon_vma" in next(e.text for e in s.events if e.fn == "anon_vma_fork")


def test_reuse_rules_differ_where_degree_is_ambiguous():
    """degree counts children and VMAs together; 6.0 looks at each (2555283eb40d)."""
    from cowviz.eras import get_era
    from cowviz.mm.types import AnonVma

    av = AnonVma(None, 9)
    av.num_children, av.num_active_vmas = 0, 1          # one VMA, no child: degree 1
    src = type("V", (), {"anon_vma": object()})()
    assert get_era("5.9").anon_vma_reusable(av, src)     # degree < 2: taken although a VMA uses it
    assert not get_era("6.x").anon_vma_reusable(av, src)
