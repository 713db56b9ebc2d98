"""Era 5.8: Linux 5.8: get_user_pages() breaks COW up front."""
from __future__ import annotations

from ..mm.types import FOLL_COW, FOLL_GET, FOLL_PIN, Pte, Vma, is_cow_mapping
from ..mm.events import Decision, Verdict
from .v5_7 import Era57


class Era58(Era57):
    """Linux 5.8: get_user_pages() breaks COW up front.

    17839856fd58 "gup: document and work around 'COW can break either way'
    issue": a FOLL_GET or FOLL_PIN lookup in a COW mapping is turned into a
    write lookup (FOLL_WRITE), so the caller's process gets its own copy now
    and the reference is on that copy.  This closes the vmsplice leak (the
    child's vmsplice copies the page into the child).  It costs a COW even for
    read-only users, broke userfaultfd write-protect users and strace on DAX,
    and was reverted in 5.9 by a308c71bf1e6.  can_follow_write_pte() lets a
    forced write use a dirty read-only PTE after its COW cycle.
    """
    id = "5.8"
    title = "5.8: GUP breaks COW"
    kernels = "Linux 5.8"
    names_at = "5.8"
    summary = "GUP on a COW mapping forces FOLL_WRITE: the COW is broken before the reference is taken"
    commits = (("17839856fd58", "gup: document and work around \"COW can break either way\" issue"),)

    # do_wp_page() is 5.7's: 17839856fd58 changed GUP, not the write fault.
    wp_can_reuse_anon_page = Era57.wp_can_reuse_anon_page

    def gup_forces_cow_break(self, vma: Vma, gup_flags: int) -> bool:
        return is_cow_mapping(vma.vm_flags) and bool(gup_flags & (FOLL_GET | FOLL_PIN))

    def can_follow_write_pte(self, pte: Pte, flags: int) -> Verdict:
        # 17839856fd58 dropped the FOLL_FORCE test (v5.8.1 mm/gup.c).
        cow = bool(flags & FOLL_COW)
        answer = pte.write or (cow and pte.dirty)
        return Verdict(answer, Decision("can_follow_write_pte", "follow_write",
                                        (("write", pte.write), ("cow", cow), ("dirty", pte.dirty)), answer))
