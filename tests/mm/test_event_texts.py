"""Event texts that used to say something false (issue 10, item 4)."""
from tests.sim import Sim


def texts(s):
    return {e.fn: e.text for e in s.events}


def test_reuse_in_a_vma_without_vm_write_stays_read_only():
    # A forced GUP write (FOLL_FORCE is not in the language), so drive wp_page_reuse directly.
    from cowviz.mm.memory import Vmf, wp_page_reuse
    s = Sim("5.7")
    s("mmap P buf 1", "write P buf[0] A", "mprotect P buf ro")
    v = s.vma("P", "buf")
    wp_page_reuse(Vmf(v, 0, 0), s.page("P", "buf"))
    text = s.k.take_events()[-1].text
    assert "still read-only" in text and "maybe_mkwrite" in text and "now writable" not in text
    s2 = Sim("5.7")
    s2("mmap P buf 1", "write P buf[0] A", "fork P C", "exit C", "write P buf[0] B")
    assert "now writable" in texts(s2)["wp_page_reuse"]


def test_the_double_reuse_says_the_anon_vma_is_still_in_use():
    lines = ("mmap P buf 1", "write P buf[0] A", "fork P C1", "fork C1 C2", "exit C1", "fork C2 C3",
             "fork C3 C4")
    s = Sim("5.19")
    s(*lines)
    t = texts(s)["anon_vma_fork"]
    assert "reuses anon_vma 3" in t and "still uses" in t and "2555283eb40d" in t
    assert "no VMA used any more" not in t
    s = Sim("6.x")
    s(*lines)
    assert "reuses" not in texts(s)["anon_vma_fork"]


def test_vmsplice_under_5_8_counts_the_fresh_copy():
    s = Sim("5.8")
    s("mmap P buf 1", "write P buf[0] A", "fork P C", "vmsplice C buf[0] pipe")
    t = texts(s)["get_user_pages"]
    assert "refcount now 2" in t and "2 -> 2" not in t
    assert [e.tag for e in s.events if e.fn == "get_user_pages"] == ["get"]


def test_a_pin_on_a_range_the_process_unmapped_is_not_called_a_lost_kernel_write():
    s = Sim("6.x")
    s("mmap P buf 1", "write P buf[0] A", "pin P buf[0] as nic write longterm", "munmap P buf",
      "mmap P buf 1", "write P buf[0] B", "dma-write nic C")
    t = [e.text for e in s.events if e.tag == "lost_dma"][0]
    assert "unmapped the buf it pinned" in t and "never see" not in t


def test_exec_names_the_pinned_flag_only_where_there_is_one():
    for era, flag in (("5.8", None), ("5.9", "has_pinned"), ("6.x", "MMF_HAS_PINNED")):
        s = Sim(era)
        s("mmap P buf 1", "exec P")
        t = texts(s)["exec_mmap"]
        assert (flag is None and "pinned" not in t) or (flag and f"{flag} flag starts clear" in t), (era, t)
