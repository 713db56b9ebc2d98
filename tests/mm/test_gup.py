"""get_user_pages / pin_user_pages / unpin_user_page / put_page (mm/gup.c)."""
import pytest

from cowviz.mm import GUP_PIN_COUNTING_BIAS, PageAnonExclusive, page_count, page_mapcount, page_maybe_dma_pinned, pte_write
from tests.sim import EARLY_COPY, ERAS, PRE_59, Sim


@pytest.mark.parametrize("era", ERAS)
def test_foll_get_adds_one_and_foll_pin_adds_the_bias(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "gup P buf[0] as dio write")
    page = s.page("P", "buf")
    assert page_count(page) == 2 and not page_maybe_dma_pinned(page)
    s("pin P buf[0] as nic write longterm")
    assert page_count(page) == 2 + GUP_PIN_COUNTING_BIAS and page_maybe_dma_pinned(page)
    assert page_mapcount(page) == 1
    s("unpin nic")
    assert page_count(page) == 2 and not page_maybe_dma_pinned(page)
    s("unpin dio")
    assert page_count(page) == 1


@pytest.mark.parametrize("era", ERAS)
def test_1024_ordinary_references_look_like_a_pin(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "gup P buf[0] as cache x1022")
    assert page_count(s.page("P", "buf")) == 1023 and not page_maybe_dma_pinned(s.page("P", "buf"))
    s("gup P buf[0] as cache")
    assert page_maybe_dma_pinned(s.page("P", "buf")) and s("assert pinned P buf[0]") == "ok"


@pytest.mark.parametrize("era", ERAS)
def test_the_pinned_flag_is_set_by_the_first_pin_and_never_cleared(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "gup P buf[0] as dio")
    assert not s.mm("P").has_pinned
    s("pin P buf[0] as nic")
    flag = s.k.era.has_pinned_flag
    assert s.mm("P").has_pinned == (flag is not None)
    assert flag == {"5.9": "has_pinned", "5.19": "MMF_HAS_PINNED", "6.x": "MMF_HAS_PINNED"}.get(era)
    s("unpin nic")
    assert s.mm("P").has_pinned == (flag is not None)
    s("fork P C")
    assert not s.mm("C").has_pinned                     # mm_init() clears it for the child
    s("exec P")
    assert not s.mm("P").has_pinned                     # and for a new program


@pytest.mark.parametrize("era", ERAS)
def test_gup_errors(era):
    s = Sim(era)
    s("mmap P ro 1 private ro", "mmap P buf 1")
    assert s("pin P ro[0] as nic write") == "EFAULT"    # FOLL_WRITE on a VMA without VM_WRITE
    s("munmap P buf")
    assert s("gup P buf[0] as dio") == "EFAULT"         # nothing mapped there
    assert s("vmsplice P buf[0] pipe") == "EFAULT"


def test_5_8_breaks_cow_before_a_read_only_reference():
    s = Sim("5.8")
    s("mmap P buf 1", "write P buf[0] A", "fork P C")
    x = s.page("P", "buf")
    s("vmsplice C buf[0] pipe")
    y = s.page("C", "buf")
    assert "__get_user_pages" in s.fns() and "wp_page_copy" in s.fns()
    assert y is not x and page_count(y) == 2 and page_count(x) == 1
    assert pte_write(s.pte("C", "buf"))


def test_5_8_forced_write_on_a_read_only_vma_leaves_the_pte_read_only_but_dirty():
    s = Sim("5.8")
    s("mmap P buf 1 private ro", "read P buf[0]", "gup P buf[0] as dio")
    pte = s.pte("P", "buf")
    assert not pte.special and not pte.write and pte.dirty      # FOLL_COW followed the dirty PTE
    assert page_count(s.page("P", "buf")) == 2


@pytest.mark.parametrize("era", ("5.7", "5.9-rc", "5.9"))
def test_read_only_pin_of_a_shared_page_pins_the_shared_page(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "fork P C", "pin P buf[0] as dev longterm")
    assert s.page("P", "buf") is s.page("C", "buf")


def test_6_x_read_only_pin_of_a_shared_page_unshares_first():
    s = Sim("6.x")
    s("mmap P buf 1", "write P buf[0] A", "fork P C")
    x = s.page("C", "buf")
    s("pin P buf[0] as dev longterm")
    assert "gup_must_unshare" in s.fns() and "unshare" in s.tags()
    y = s.page("P", "buf")
    assert y is not x and PageAnonExclusive(y) and not pte_write(s.pte("P", "buf"))
    assert page_count(y) == 1 + GUP_PIN_COUNTING_BIAS and page_count(x) == 1
    s("write P buf[0] B")                                # exclusive: reused, the pin sees it
    assert s.page("P", "buf") is y and s("dma-read dev") == "B"


def test_6_x_foll_get_never_unshares():
    s = Sim("6.x")
    s("mmap P buf 1", "write P buf[0] A", "fork P C", "vmsplice P buf[0] pipe")
    assert s.page("P", "buf") is s.page("C", "buf")


def test_6_x_long_term_read_only_pin_of_the_zero_page_unshares():
    s = Sim("6.x")
    s("mmap P buf 2", "read P buf[0]", "read P buf[1]", "pin P buf[0] as dev longterm")
    page = s.page("P", "buf", 0)
    assert page.kind == "anon" and PageAnonExclusive(page) and not pte_write(s.pte("P", "buf", 0))
    s("pin P buf[1] as dev2")                            # not long-term: the zero page itself
    assert s.pte("P", "buf", 1).special


@pytest.mark.parametrize("era", ERAS)
def test_write_pin_of_a_shared_page_breaks_cow_at_pin_time(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "fork P C", "pin P buf[0] as nic write longterm")
    assert s.page("P", "buf") is not s.page("C", "buf") and pte_write(s.pte("P", "buf"))


@pytest.mark.parametrize("era", ERAS)
def test_dma_write_through_a_read_only_reference_is_refused(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "pin P buf[0] as dev")
    assert s("dma-write dev B") == "EFAULT" and s("read P buf[0]") == "A"


@pytest.mark.parametrize("era", PRE_59)
def test_lost_dma_is_reported_where_it_happens(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "pin P buf[0] as nic write longterm", "fork P C",
      "write P buf[0] B", "dma-write nic C")
    assert s.tags() == ["lost_dma"]
    s("dma-read nic")
    assert s.tags() == ["stale_pin"]


@pytest.mark.parametrize("era", EARLY_COPY)
def test_no_lost_dma_with_the_early_copy(era):
    s = Sim(era)
    s("mmap P buf 1", "write P buf[0] A", "pin P buf[0] as nic write longterm", "fork P C",
      "write P buf[0] B", "dma-write nic C")
    assert "lost_dma" not in s.tags() and s("read P buf[0]") == "C"


def test_the_leak_is_reported_only_in_5_7():
    for era in ERAS:
        s = Sim(era)
        s("mmap P buf 1", "write P buf[0] BORING", "fork P C", "vmsplice C buf[0] pipe",
          "munmap C buf", "write P buf[0] SECRET")
        data = s("pipe-read pipe")
        assert (data == "SECRET") == (era == "5.7") and ("leak" in s.tags()) == (era == "5.7"), era
