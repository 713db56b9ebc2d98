"""What an era is: a small object that answers the kernel's questions at its decision points.

The engine never asks which era it runs, nor reads an era's flags; it asks the era object:

    do_wp_page              wp_can_reuse_anon_page()   may the writer keep this anonymous page?
    page_add_new_anon_rmap  new_anon_page_exclusive()  is a new anonymous page exclusive? (5.19+)
    __get_user_pages_locked pin_sets_mm_flag()         does a FOLL_PIN mark the mm? (5.9+)
    __get_user_pages        gup_forces_cow_break()     break COW before taking a reference? (5.8)
    follow_page_pte         can_follow_write_pte()     is this PTE good enough for a FOLL_WRITE?
                            gup_must_unshare()         make the page exclusive before a R/O pin? (5.19+)
    copy_present_pte        fork_must_copy_page()      copy this page for the child now? (5.9+)
    anon_vma_clone          anon_vma_reusable()        may the child reuse this anon_vma?
    change_protection       can_change_pte_writable()  mprotect(PROT_WRITE) without a later fault? (6.x)

Each era module states its own do_wp_page() rule, even where it is its
predecessor's.  What an era *is* (its pinned flag's name, whether pages carry
PG_anon_exclusive, which anon_vma counters it keeps) is declared as data and
travels to the drawing on every snapshot as `EraFacts` (`era.facts`), so the
diagram never imports the eras.

Each era also answers the name a kernel function had in its kernels
(kernel_name(), from the table in names.py at the era's `names_at` version):
the engine emits events under the model's name and the era renames them.
"""
from __future__ import annotations

from typing import NamedTuple

from . import names as _names
from ..mm.events import Decision, Verdict, facts  # noqa: F401 (re-exported for the eras)
from ..mm.snapshot import EraFacts
from ..mm.types import FOLL_COW, FOLL_FORCE, Page, Pte, Vma


class WpDecision(NamedTuple):
    """do_wp_page()'s verdict on an anonymous page, as facts (cowviz/mm/narration.py words it)."""
    reuse: bool
    line: str                      # the test that decided: a line id of do_wp_page's pseudocode
    seen: tuple = ()               # what that test looked at: (name, value) pairs
    move_anon_rmap: bool = False   # file the page under the writer's own anon_vma
    exclusive: bool = False        # the reused page is marked exclusive (SetPageAnonExclusive, 5.19+)

    def decision(self) -> Decision:
        return Decision("do_wp_page", self.line, self.seen, self.reuse)


class Era:
    """The behaviour every era shares; subclasses change what their kernels changed."""
    id = ""
    title = ""
    kernels = ""
    summary = ""                     # one line, for `cowviz eras`
    commits: tuple = ()              # (commit id, subject) the era is built on
    # Facts about the era's kernels, for the drawing and the asserts (EraFacts);
    # the engine asks the questions below instead of reading these.
    has_pinned_flag: str | None = None     # the mm's "has pinned" flag, by its kernel name
    tracks_anon_exclusive = False          # pages carry PG_anon_exclusive
    anon_vma_counter = "degree"            # how the era counts an anon_vma's users
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

    @property
    def facts(self) -> EraFacts:
        """What the era is, as data that travels on every snapshot."""
        return EraFacts(self.id, self.has_pinned_flag, self.tracks_anon_exclusive, self.anon_vma_counter)

    def wp_can_reuse_anon_page(self, page: Page, vma: Vma) -> WpDecision:
        """do_wp_page(): may the faulting mm keep writing to this anonymous page?  Each era module says."""
        raise NotImplementedError

    def new_anon_page_exclusive(self) -> bool:
        """page_add_new_anon_rmap(): is a brand-new anonymous page marked exclusive?  (5.19+: yes)"""
        return False

    def pin_sets_mm_flag(self) -> bool:
        """__get_user_pages_locked(): does a FOLL_PIN mark the mm as having pinned?  (5.9+: yes)"""
        return False

    def gup_forces_cow_break(self, vma: Vma, gup_flags: int) -> bool:
        """__get_user_pages(): must FOLL_WRITE be forced to break COW first?"""
        return False

    def can_follow_write_pte(self, pte: Pte, flags: int) -> Verdict:
        """follow_page_pte(): may a FOLL_WRITE lookup use this PTE as it is?  Kernel: can_follow_write_pte()."""
        # Dirty COW fix (19be0eaffa3a): only a forced write that already went
        # through a COW cycle may use a read-only PTE (v5.9.1, v5.19 mm/gup.c;
        # v5.7 had it too: the 5.7.14 tree carries the stable backport of 17839856fd58).
        force, cow = bool(flags & FOLL_FORCE), bool(flags & FOLL_COW)
        answer = pte.write or (force and cow and pte.dirty)
        return Verdict(answer, Decision("can_follow_write_pte", "follow_write",
                                        (("write", pte.write), ("force", force), ("cow", cow),
                                         ("dirty", pte.dirty)), answer))

    def gup_must_unshare(self, vma: Vma, flags: int, page: Page) -> bool:
        """follow_page_pte(): must a possibly shared page be unshared before this reference?"""
        return False

    def fork_must_copy_page(self, src_vma: Vma, page: Page) -> bool:
        """copy_present_pte(): must fork copy this page for the child instead of sharing it?"""
        return False

    def anon_vma_reusable(self, anon_vma, src_vma: Vma) -> Verdict:
        """anon_vma_clone(): may the child VMA take over this anon_vma?  Kernel: 7a3ef208e662 (3.19)."""
        # Reuse an anon_vma that no VMA uses and that has at most one child
        # (the 'degree' counts both), but never the parent VMA's own.
        own = anon_vma is src_vma.anon_vma
        answer = not own and anon_vma.degree < 2
        return Verdict(answer, Decision("anon_vma_clone", "reuse_anon_vma",
                                        (("anon_vma", anon_vma.id), ("own", own),
                                         ("degree", anon_vma.degree)), answer))

    def can_change_pte_writable(self, vma: Vma, pte: Pte, page: Page | None) -> Verdict:
        """change_protection(): may mprotect(PROT_WRITE) make this private PTE writable at once?"""
        # Before 64fe24a3e05e (v6.0-rc1) nothing asks: the PTE takes the VMA's
        # new vm_page_prot, which a private (COW) mapping keeps read-only.
        return Verdict(False, Decision("change_protection", "private", (("cow", True),), False))
