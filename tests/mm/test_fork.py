"""fork, exit, exec and threads (kernel/fork.c): dup_mmap, copy_page_range, copy_pte_range, copy_present_pte, copy_present_page, page_copy_prealloc."""
import pytest

from cowviz.mm import PageAnonExclusive, page_count, page_mapcount, pte_write
from tests.sim import EARLY_COPY, ERAS, PRE_59, Sim


@pytest.mark.parametrize("era", ERAS)
def test_fork_shares_private_pages_write_protected_in_both(era):
    s = Sim(era)
    s("mmap P buf 2", "write P buf[0] A", "write P buf[1] B", "fork P C")
    # copy_one_pte() before 5.9-rc7, copy_present_ptes() in 6.x (the era names it).
    assert s.fns() == ["copy_process", "anon_vma_fork", s.k.era.kernel_name("copy_present_pte")]
    for i in (0, 1):
        page = s.page("P", "buf", i)
        assert s.page("C", "buf", i) is page
        assert page_mapcount(page) == 2 and page_count(page) == 2
        assert not pte_write(s.pte("P", "buf", i)) and not pte_write(s.pte("C", "buf", i))
        assert PageAnonExclusive(page) is False
    assert s.events[-1].objs == ("pte:P:buf:0-1", "pte:C:buf:0-1")


@pytest.mark.parametrize("era", ERAS)
def test_pinned_page_at_fork(era):
    s = Sim(era)
    s("mmap P buf 2", "write P buf[0] A", "write P buf[1] B", "pin P buf[0] as nic write longterm")
    x = s.page("P", "buf", 0)
    s("fork P C")
    if era in PRE_59:
        assert s.page("C", "buf", 0) is x and not pte_write(s.pte("P", "buf", 0))
        return
    # 5.9+: the child gets a copy now; the parent keeps its page, writable.
    name = s.k.era.kernel_name
    # copy_present_page() returns -EAGAIN (no preallocated page), then copies with one.
    assert s.fns() == ["copy_process", "anon_vma_fork", "copy_present_page", name("page_copy_prealloc"),
                       "copy_present_page", name("copy_present_pte")]
    y = s.page("C", "buf", 0)
    assert y is not x and y.data == "A" and page_mapcount(y) == 1 and page_count(y) == 1
    assert s.page("P", "buf", 0) is x and pte_write(s.pte("P", "buf", 0))
    assert pte_write(s.pte("C", "buf", 0)) and s.pte("C", "buf", 0).dirty
    assert y.mapping is s.vma("C", "buf").anon_vma               # filed under the child's VMA
    assert y.memcg is s.k.tasks["P"].memcg                        # charged to the parent
    assert s.page("C", "buf", 1) is s.page("P", "buf", 1)         # the other page is shared
    excl = s.k.era.tracks_anon_exclusive
    assert PageAnonExclusive(y) == excl and PageAnonExclusive(x) == excl


@pytest.mark.parametrize("era", EARLY_COPY)
def test_early_copy_failure_fails_fork_and_leaves_the_parent_as_it_got(era):
    s = Sim(era)
    s("mmap P buf 3", "write P buf[0] A", "write P buf[1] B", "write P buf[2] C",
      "pin P buf[1] as nic write longterm")
    pages_before = dict(s.k.pages)
    assert s("fail-alloc", "fork P C") == "ENOMEM"
    assert "C" not in s.k.tasks and s.k.pages == pages_before and s.k.memcgs["P"].usage == 3
    assert [pte_write(s.pte("P", "buf", i)) for i in range(3)] == [False, True, True]
    assert all(page_mapcount(p) == 1 for p in s.k.pages.values())
    assert s("read C buf[0]") == "ESRCH"


@pytest.mark.parametrize("era", EARLY_COPY)
def test_the_pinned_flag_spares_ordinary_processes_even_with_false_positives(era):
    """A page with 1024 ordinary references looks pinned, but only an mm that pinned pays."""
    for pinned_elsewhere in (False, True):
        s = Sim(era)
        s("mmap P buf 1", "write P buf[0] A", "gup P buf[0] as cache x1023", "mmap P other 1",
          "write P other[0] Z")
        if pinned_elsewhere:
            s("pin P other[0] as nic")
        s("fork P C")
        # Without the flag the false positive costs nothing; with it the page is copied.
        assert (s.page("C", "buf") is not s.page("P", "buf")) == pinned_elsewhere


@pytest.mark.parametrize("era", ERAS)
def test_dontfork_and_wipeonfork(era):
    s = Sim(era)
    s("mmap P a 1", "mmap P b 1", "write P a[0] A", "write P b[0] B",
      "madvise P a dontfork", "madvise P b wipeonfork", "fork P C")
    assert "a" not in s.k.tasks["C"].mm.mmap and pte_write(s.pte("P", "a"))
    assert s("read C a[0]") == "SIGSEGV"
    cb = s.vma("C", "b")
    assert cb.anon_vma is None and s.pte("C", "b") is None and s("read C b[0]") == "0"
    assert pte_write(s.pte("P", "b"))                  # wiped ranges are not write-protected
    assert s("madvise P shm wipeonfork") == "ENOMEM"   # nothing mapped there


@pytest.mark.parametrize("era", ERAS)
def test_wipeonfork_is_refused_on_shared_memory(era):
    s = Sim(era)
    assert s("mmap P shm 1 shared", "madvise P shm wipeonfork") == "EINVAL"


@pytest.mark.parametrize("era", ERAS)
def test_threads_share_one_mm(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "thread P T")
    assert s.mm("T") is s.mm("P") and s.mm("P").mm_users == 2
    assert s("write T buf[0] B", "read P buf[0]") == "B"
    s("exit P")
    assert s("read T buf[0]") == "B"                   # the mm lives on with its other user
    s("fork T C")
    assert s.page("C", "buf") is s.page("T", "buf")


@pytest.mark.parametrize("era", ERAS)
def test_another_thread_writes_right_after_fork_and_pays_for_the_copy(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "thread P T", "fork P C", "write T buf[0] B")
    assert s.page("P", "buf").memcg is s.k.tasks["P"].memcg and s.page("P", "buf") is not s.page("C", "buf")


@pytest.mark.parametrize("era", ERAS)
def test_exec_kills_the_other_threads_and_starts_an_empty_mm(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "thread P T", "exec P")
    assert "T" not in s.k.tasks and s.mm("P").mmap == {} and s.k.pages == {}
    assert s("read P buf[0]") == "SIGSEGV" and s("read T buf[0]") == "ESRCH"
