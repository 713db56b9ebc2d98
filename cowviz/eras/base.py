"""What an era is: a small object that answers the kernel's questions at its decision points.

The engine never asks which era it runs; it asks the era object:

    do_wp_page          wp_can_reuse_anon_page()   may the writer keep this anonymous page?
    __get_user_pages    gup_forces_cow_break()     break COW before taking a reference? (5.8)
    follow_page_pte     can_follow_write_pte()     is this PTE good enough for a FOLL_WRITE?
                        gup_must_unshare()         make the page exclusive before a R/O pin? (6.x)
    copy_present_pte    fork_must_copy_page()      copy this page for the child now? (5.9+)
    anon_vma_clone      anon_vma_reusable()        may the child reuse this anon_vma?
    change_protection   can_change_pte_writable()  mprotect(PROT_WRITE) without a later fault? (6.x)

and reads a few facts: whether the mm has a "has pinned" flag (and its name)
and whether pages carry PG_anon_exclusive.

Each era also answers the name a kernel function had in its kernels
(kernel_name(), from the table in names.py at the era's `names_at` version):
the engine emits events under the model's name and the era renames them.
"""
from __future__ import annotations

from typing import NamedTuple

from . import names as _names
from ..mm.events import Decision, Verdict, facts  # noqa: F401 (re-exported for the eras)
from ..mm.types import (FOLL_COW, FOLL_FORCE, Page, Pte, Vma, page_count, page_mapcount)


class WpDecision(NamedTuple):
    """do_wp_page()'s verdict on an anonymous page."""
    reuse: bool
    why: str                       # one sentence, for the narration
    move_anon_rmap: bool = False   # file the page under the writer's own anon_vma
    line: str = ""                 # the test that decided: a line id of do_wp_page's pseudocode
    seen: tuple = ()               # what that test looked at: (name, value) pairs

    def decision(self) -> Decision:
        return Decision("do_wp_page", self.line, self.seen, self.reuse)


class Era:
    """The behaviour every era shares; subclasses change what their kernels changed."""
    id = ""
    title = ""
    kernels = ""
    summary = ""                     # one line, for `cowviz eras`
    commits: tuple = ()              # (commit id, subject) the era is built on
    has_pinned_flag: str | None = None
    tracks_anon_exclusive = False
    fork_copy_decider = "copy_present_page"
    anon_vma_counter = "degree"      # how the era counts an anon_vma's users
    names_at = ""                    # the kernel version whose function names events use
    default_listed = True            # run for a scenario without an `eras:` list

    def kernel_name(self, role: str) -> str:
        """The name this era's kernels gave the function the model calls `role`."""
        cache = self.__dict__.setdefault("_names", {})
        name = cache.get(role)
        if name is None:
            name = cache[role] = (role if role in _names.NOT_KERNEL
                                  else _names.name_at(role, self.names_at))
        return name

    def wp_can_reuse_anon_page(self, page: Page, vma: Vma) -> WpDecision:
        """do_wp_page(): may the faulting mm keep writing to this anonymous page?"""
        raise NotImplementedError

    def gup_forces_cow_break(self, vma: Vma, gup_flags: int) -> bool:
        """__get_user_pages(): must FOLL_WRITE be forced to break COW first?"""
        return False

    def can_follow_write_pte(self, pte: Pte, flags: int) -> bool:
        """follow_page_pte(): may a FOLL_WRITE lookup use this PTE as it is?  Kernel: can_follow_write_pte()."""
        # Dirty COW fix (19be0eaffa3a): only a forced write that already went
        # through a COW cycle may use a read-only PTE.
        return pte.write or bool(flags & FOLL_FORCE and flags & FOLL_COW and pte.dirty)

    def gup_must_unshare(self, vma: Vma, flags: int, page: Page) -> bool:
        """follow_page_pte(): must a possibly shared page be unshared before this reference?"""
        return False

    def fork_must_copy_page(self, src_vma: Vma, page: Page) -> bool:
        """copy_present_pte(): must fork copy this page for the child instead of sharing it?"""
        return False

    def anon_vma_reusable(self, anon_vma, src_vma: Vma) -> bool:
        """anon_vma_clone(): may the child VMA take over this anon_vma?  Kernel: 7a3ef208e662 (3.19)."""
        # Reuse an anon_vma that no VMA uses and that has at most one child
        # (the 'degree' counts both), but never the parent VMA's own.
        return anon_vma is not src_vma.anon_vma and anon_vma.degree < 2

    def can_change_pte_writable(self, vma: Vma, pte: Pte, page: Page | None) -> bool:
        """change_protection(): may mprotect(PROT_WRITE) make this private PTE writable at once?"""
        return False

    # Helpers for the narration of the 5.x rules.
    @staticmethod
    def _mapcount_rule(page: Page, vma: Vma) -> WpDecision:
        """reuse_swap_page(): reuse when no other PTE maps the page (GUP references are not seen)."""
        m, c = page_mapcount(page), page_count(page)
        seen = (("mapcount", m), ("refcount", c))
        if m <= 1:
            unseen = f" (its refcount of {c} is not looked at)" if c > 1 else ""
            return WpDecision(True, f"page {page.pfn} has mapcount {m}: no other process maps it, "
                                    f"so it is reused{unseen}.", move_anon_rmap=True,
                              line="reuse_swap_page", seen=seen)
        return WpDecision(False, f"page {page.pfn} has mapcount {m}: another process maps it too, "
                                 f"so it is copied.", line="reuse_swap_page", seen=seen)

    @staticmethod
    def _refcount_rule(page: Page, vma: Vma) -> WpDecision:
        """09854ba94c6a: reuse only when nobody at all holds another reference."""
        c = page_count(page)
        seen = (("refcount", c), ("mapcount", page_mapcount(page)))
        if c == 1 and page_mapcount(page) == 1:
            return WpDecision(True, f"page {page.pfn} has page_count 1: nobody else holds a "
                                    f"reference, so it is reused.", line="page_count", seen=seen)
        return WpDecision(False, f"page {page.pfn} has page_count {c}, not 1: someone else may hold "
                                 f"it (a mapping, a GUP reference or a pin), so it is copied.",
                          line="page_count", seen=seen)
