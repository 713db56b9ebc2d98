"""Faults and copy-on-write (mm/memory.c): do_anonymous_page, do_wp_page, wp_page_reuse, wp_page_copy."""
import pytest

from cowviz.mm import PageAnon, PageAnonExclusive, page_count, page_mapcount, pte_write
from tests.sim import ERAS, Sim


@pytest.mark.parametrize("era", ERAS)
def test_read_fault_on_untouched_private_memory_maps_the_zero_page(era):
    s = Sim(era)
    assert s("mmap P buf 2", "read P buf[0]") == "0"
    pte = s.pte("P", "buf", 0)
    assert pte.special and not pte_write(pte) and pte.pfn == 0
    assert s.fns() == ["do_anonymous_page"]
    assert s.k.pages == {} and s.vma("P", "buf").anon_vma is None     # nothing allocated, no anon_vma


@pytest.mark.parametrize("era", ERAS)
def test_write_fault_on_untouched_memory_allocates_an_anonymous_page(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A")
    page, pte = s.page("P", "buf"), s.pte("P", "buf")
    assert s.fns() == ["anon_vma_prepare", "do_anonymous_page"]
    assert page_mapcount(page) == 1 and page_count(page) == 1 and PageAnon(page)
    assert pte_write(pte) and pte.dirty
    assert page.mapping is s.vma("P", "buf").anon_vma
    assert page.memcg is s.k.tasks["P"].memcg and page.memcg.usage == 1
    assert PageAnonExclusive(page) == (era in ("5.19", "6.x"))


@pytest.mark.parametrize("era", ERAS)
def test_write_to_a_read_only_vma_is_sigsegv_and_changes_nothing(era):
    s = Sim(era)
    assert s("mmap P buf 1 private ro", "write P buf[0] A") == "SIGSEGV"
    assert s.pte("P", "buf") is None and s.k.pages == {}


@pytest.mark.parametrize("era", ERAS)
def test_write_after_fork_copies_for_the_writer_and_leaves_the_other_on_the_original(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "fork P C")
    x = s.page("P", "buf")
    s("write P buf[0] B")
    assert "wp_page_copy" in s.fns()
    z = s.page("P", "buf")
    assert z is not x and s.page("C", "buf") is x
    assert page_mapcount(x) == 1 and page_count(x) == 1
    assert z.data == "B" and x.data == "A"
    assert pte_write(s.pte("P", "buf")) and not pte_write(s.pte("C", "buf"))
    # The parent's copy is filed under its own anon_vma; its old page stays where it was born.
    assert z.mapping is s.vma("P", "buf").anon_vma and x.mapping is s.vma("P", "buf").anon_vma
    if era == "6.x":
        assert PageAnonExclusive(z) and not PageAnonExclusive(x)


@pytest.mark.parametrize("era", ERAS)
def test_child_cow_copy_is_filed_under_the_childs_anon_vma(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "fork P C", "write C buf[0] B")
    y = s.page("C", "buf")
    assert y.mapping is s.vma("C", "buf").anon_vma
    assert y.mapping.parent is s.vma("P", "buf").anon_vma


@pytest.mark.parametrize("era", ERAS)
def test_reuse_after_the_child_exits(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "fork P C")
    x = s.page("P", "buf")
    s("exit C", "write P buf[0] B")
    assert s.fns() == ["wp_page_reuse"] and s.tags() == ["reuse"]
    assert s.page("P", "buf") is x and pte_write(s.pte("P", "buf"))
    assert PageAnonExclusive(x) == (era in ("5.19", "6.x"))


@pytest.mark.parametrize("era, reused", [("5.7", True), ("5.8", True), ("5.9-rc", False), ("5.9", False),
                                         ("6.x", False)])
def test_extra_reference_is_invisible_to_the_mapcount_rule(era, reused):
    """A pipe's reference: 5.7 reuses (mapcount 1); from 5.9-rc the page_count rule copies."""
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "fork P C", "exit C")
    x = s.page("P", "buf")
    s("vmsplice P buf[0] pipe")          # 5.8 breaks COW here, but mapcount is 1: P keeps x
    assert page_count(x) == 2 and page_mapcount(x) == 1
    s("write P buf[0] B")
    assert (s.page("P", "buf") is x) == reused


def test_reuse_moves_the_page_to_the_writers_anon_vma_in_5_7_and_6_x_but_not_5_9_rc():
    for era, moved in (("5.7", True), ("5.9-rc", False), ("6.x", True)):
        s = Sim(era)
        s("mmap P buf 1", "write P buf[0] A", "fork P C", "exit P")
        x = s.page("C", "buf")
        assert x.mapping is not s.vma("C", "buf").anon_vma
        s("write C buf[0] B")
        assert s.page("C", "buf") is x
        assert (x.mapping is s.vma("C", "buf").anon_vma) == moved, era


@pytest.mark.parametrize("era", ERAS)
def test_write_to_the_zero_page_allocates_a_zeroed_page(era):
    s = Sim(era)
    s("mmap P buf 1", "read P buf[0]", "write P buf[0] A")
    assert s.fns() == ["anon_vma_prepare", "wp_page_copy"]
    assert "zero-filled" in s.events[-1].text
    page = s.page("P", "buf")
    assert page.data == "A" and page_count(page) == 1 and pte_write(s.pte("P", "buf"))


@pytest.mark.parametrize("era", ERAS)
def test_fault_without_memory_is_enomem_and_maps_nothing(era):
    s = Sim(era)
    assert s("mmap P buf 1", "fail-alloc", "write P buf[0] A") == "ENOMEM"
    assert s.pte("P", "buf") is None and s.k.pages == {}
    assert s("memcg-limit P 0", "write P buf[0] A") == "ENOMEM"
    assert s.pte("P", "buf") is None and s.k.memcgs["P"].usage == 0


@pytest.mark.parametrize("era", ERAS)
def test_shared_mapping_is_one_page_for_both_and_the_page_cache_holds_it(era):
    s = Sim(era)
    s("mmap P shm 1 shared", "write P shm[0] A", "fork P C")
    assert s.pte("C", "shm") is None               # no anon_vma: the child faults it in
    assert s("read C shm[0]") == "A"
    page = s.page("P", "shm")
    assert s.page("C", "shm") is page and not PageAnon(page)
    assert page_mapcount(page) == 2 and page_count(page) == 3     # two mappings + the page cache
    s("write C shm[0] B")
    assert s.page("C", "shm") is page and s("read P shm[0]") == "B"


@pytest.mark.parametrize("era", ERAS)
def test_fault_around_maps_cached_neighbours_of_a_shared_read_fault(era):
    s = Sim(era)
    s("mmap P shm 4 shared", "write P shm[1] A", "write P shm[3] B", "fork P C", "read C shm[0]")
    assert [p is not None for p in s.vma("C", "shm").ptes] == [True, True, False, True]
    assert s.fns()[0] == "do_fault_around"


@pytest.mark.parametrize("era", ERAS)
def test_munmap_drops_the_mapping_and_frees_unreferenced_pages(era):
    s = Sim(era)
    s("mmap P buf 2", "write P buf[0] A", "write P buf[1] B", "pin P buf[1] as nic write")
    kept = s.page("P", "buf", 1)
    s("munmap P buf")
    assert sorted(s.k.pages) == [kept.pfn]
    assert page_mapcount(kept) == 0 and page_count(kept) == 1024
    assert s.k.memcgs["P"].usage == 1
    assert s("unpin nic") == "ok" and s.k.pages == {} and s.k.memcgs["P"].usage == 0


def test_mprotect_write_upgrade_only_for_exclusive_pages_in_6_x():
    for era in ERAS:
        s = Sim(era)
        s("mmap P buf 2", "write P buf[0] A", "mprotect P buf ro")
        assert not pte_write(s.pte("P", "buf"))
        s("mprotect P buf rw")
        assert pte_write(s.pte("P", "buf")) == (era == "6.x"), era
        s("fork P C", "mprotect P buf ro", "mprotect P buf rw")
        assert not pte_write(s.pte("P", "buf")), era        # shared: never upgraded


@pytest.mark.parametrize("era", ERAS)
def test_mprotect_of_a_shared_mapping_makes_its_ptes_writable_again(era):
    s = Sim(era)
    s("mmap P shm 1 shared", "write P shm[0] A", "mprotect P shm ro")
    assert not pte_write(s.pte("P", "shm"))
    s("mprotect P shm rw")
    assert pte_write(s.pte("P", "shm"))


@pytest.mark.parametrize("era", ERAS)
def test_fault_around_window_is_the_page_tables_16_page_block(era):
    """pte_index() wraps at 512 entries; found by the live-kernel lab (shmem past the first table)."""
    s = Sim(era)
    s("mmap P big 600 shared", "write P big[512] A", "write P big[513] A", "fork P D", "read D big[514]")
    present = [i for i, p in enumerate(s.vma("D", "big").ptes) if p is not None]
    assert present == [512, 513, 514]
