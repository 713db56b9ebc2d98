"""Reverse mapping: anon_vma trees and the page -> PTE walk.  Kernel: mm/rmap.c.

After fork a child VMA is linked (by an anon_vma_chain) into every anon_vma
its parent VMA is linked into, and gets an anon_vma of its own for the pages
it will create.  A shared page keeps pointing at the anon_vma it was born
under; the rmap walk from there still finds the child, through the chain.

    anon_vma 1 (root) ── avc ── P buf
         │  └──────────── avc ── C buf      (C was linked into P's tree)
         └─ anon_vma 2 (parent 1) ── avc ── C buf   (where C's new pages go)
"""
from __future__ import annotations

from .events import anon_vma_id, facts, vma_id
from .types import AnonVma, AnonVmaChain, Page, PageAnon, Vma, linear_page_index, vma_address


def anon_vma_alloc(k) -> AnonVma:
    """A new anon_vma that is its own root and parent.  Kernel: anon_vma_alloc()."""
    av = AnonVma(k, k.next_anon_vma_id)
    k.next_anon_vma_id += 1
    k.anon_vmas[av.id] = av
    return av


def anon_vma_chain_link(vma: Vma, avc: AnonVmaChain, anon_vma: AnonVma) -> None:
    """Put the chain link on the VMA's list (newest first) and in the anon_vma's tree.  Kernel: anon_vma_chain_link()."""
    vma.anon_vma_chain.insert(0, avc)
    anon_vma.rb_root.append(avc)


def anon_vma_prepare(vma: Vma) -> int:
    """Make sure the VMA has an anon_vma before its first anonymous page.  Kernel: anon_vma_prepare()."""
    if vma.anon_vma is not None:
        return 0
    return __anon_vma_prepare(vma)


def __anon_vma_prepare(vma: Vma) -> int:
    """Give the VMA a new root anon_vma.  Kernel: __anon_vma_prepare()."""
    k = vma.vm_mm.kernel
    # MODEL: find_mergeable_anon_vma() would reuse an adjacent VMA's anon_vma,
    # but the model never places two VMAs next to each other, so there is none.
    av = anon_vma_alloc(k)
    av.num_children += 1          # the root's link to itself as its own parent
    vma.anon_vma = av
    anon_vma_chain_link(vma, AnonVmaChain(vma, av), av)
    av.num_active_vmas += 1
    k.emit("anon_vma_prepare", "anon_vma_new_root", "anon_vma", (anon_vma_id(av), vma_id(vma)),
           vma=vma.label(), anon_vma=av.id)
    return 0


def anon_vma_clone(dst: Vma, src: Vma, decided: list | None = None) -> int:
    """Link dst into every anon_vma src is linked into; maybe reuse an orphaned one.  Kernel: anon_vma_clone().

    The reuse test that decided (the one that reused, else the last one made) is added to `decided`."""
    era = dst.vm_mm.kernel.era
    tested = ()
    for pavc in reversed(src.anon_vma_chain):          # oldest (the root) first
        av = pavc.anon_vma
        anon_vma_chain_link(dst, AnonVmaChain(dst, av), av)
        # An anon_vma that no VMA uses any more and that has at most one
        # child can take the child's place, so that a process that forks
        # again and again does not grow an endless chain of anon_vmas.
        if dst.anon_vma is None:
            verdict = era.anon_vma_reusable(av, src)
            tested = facts(verdict)
            if verdict:
                dst.anon_vma = av
    if decided is not None:
        decided.extend(tested)
    if dst.anon_vma is not None:
        dst.anon_vma.num_active_vmas += 1
    return 0


def anon_vma_fork(vma: Vma, pvma: Vma) -> int:
    """Set up the child VMA's anon_vmas at fork.  Kernel: anon_vma_fork()."""
    k = vma.vm_mm.kernel
    if pvma.anon_vma is None:
        return 0
    # The child starts without an anon_vma of its own: it will reuse an old
    # one or get a new one below.
    vma.anon_vma = None
    # First link the child into all of the parent's anon_vmas, so the rmap
    # walk of a page that is still shared finds the child's mapping too.
    decided: list = []
    anon_vma_clone(vma, pvma, decided)
    linked = tuple(avc.anon_vma.id for avc in reversed(vma.anon_vma_chain))
    if vma.anon_vma is not None:
        # Other VMAs still using it: none, unless the era's rule cannot tell.
        k.emit("anon_vma_fork", "anon_vma_reused", "anon_vma", (vma_id(vma), anon_vma_id(vma.anon_vma)), tuple(decided),
               vma=vma.label(), linked=linked, anon_vma=vma.anon_vma.id,
               in_use=vma.anon_vma.num_active_vmas - 1, degree=vma.anon_vma.degree)
        return 0
    av = anon_vma_alloc(k)
    av.num_active_vmas += 1
    av.root = pvma.anon_vma.root
    av.parent = pvma.anon_vma
    # The lock of the whole tree lives in the root, so a child anon_vma
    # keeps the root alive for as long as it exists.
    av.root.refcount += 1                      # get_anon_vma(anon_vma->root)
    vma.anon_vma = av
    anon_vma_chain_link(vma, AnonVmaChain(vma, av), av)
    av.parent.num_children += 1
    k.emit("anon_vma_fork", "anon_vma_child", "anon_vma",
           (vma_id(vma), anon_vma_id(av), anon_vma_id(av.parent)), tuple(decided),
           vma=vma.label(), linked=linked, anon_vma=av.id, parent=av.parent.id)
    return 0


def unlink_anon_vmas(vma: Vma) -> None:
    """Take the VMA out of every anon_vma tree and free anon_vmas left empty.  Kernel: unlink_anon_vmas()."""
    k = vma.vm_mm.kernel
    # The chain is newest first, so the root is dealt with last.
    for avc in list(vma.anon_vma_chain):
        av = avc.anon_vma
        av.rb_root.remove(avc)
        if not av.rb_root:
            # Empty now: keep it on the list and free it below.
            av.parent.num_children -= 1
            continue
        vma.anon_vma_chain.remove(avc)
    if vma.anon_vma is not None:
        vma.anon_vma.num_active_vmas -= 1
    freed = []
    for avc in list(vma.anon_vma_chain):
        freed += put_anon_vma(avc.anon_vma)
        vma.anon_vma_chain.remove(avc)
    vma.anon_vma = None
    if freed:
        k.emit("unlink_anon_vmas", "anon_vmas_freed", "anon_vma", tuple(anon_vma_id(a) for a in freed),
               vma=vma.label(), freed=tuple(a.id for a in freed))


def put_anon_vma(av: AnonVma) -> list[AnonVma]:
    """Drop a reference; returns the anon_vmas this freed.  Kernel: put_anon_vma()."""
    av.refcount -= 1
    if av.refcount:
        return []
    return __put_anon_vma(av)


def __put_anon_vma(av: AnonVma) -> list[AnonVma]:
    """Free the anon_vma, and its root when this was the root's last child.  Kernel: __put_anon_vma()."""
    live = av.kernel.anon_vmas
    root = av.root
    live.pop(av.id, None)
    freed = [av]
    if root is not av:
        root.refcount -= 1
        if root.refcount == 0:
            live.pop(root.id, None)
            freed.append(root)
    return freed


# -- pages ---------------------------------------------------------------------

def __page_set_anon_rmap(page: Page, vma: Vma, i: int, exclusive: bool) -> None:
    """Point page->mapping at the VMA's anon_vma.  Kernel: __page_set_anon_rmap()."""
    if PageAnon(page):
        return
    av = vma.anon_vma
    # A page that may already be shared must be filed under the oldest
    # anon_vma, so every process that can map it is found from there.
    if not exclusive:
        av = av.root
    page.mapping = av
    page.index = linear_page_index(vma, i)


def page_add_new_anon_rmap(page: Page, vma: Vma, i: int) -> None:
    """Map a brand-new anonymous page for the first time.  Kernel: page_add_new_anon_rmap()."""
    page.kind = "anon"
    page._mapcount = 0
    __page_set_anon_rmap(page, vma, i, exclusive=True)
    # 5.19+: a new anonymous page belongs to one mm only, and says so.
    if vma.vm_mm.kernel.era.new_anon_page_exclusive():
        page.anon_exclusive = True            # SetPageAnonExclusive()


def page_dup_rmap(page: Page) -> None:
    """One more PTE maps the page (fork).  Kernel: page_dup_rmap()."""
    page._mapcount += 1


def page_add_file_rmap(page: Page) -> None:
    """A PTE now maps this page-cache page.  Kernel: page_add_file_rmap()."""
    page._mapcount += 1


def page_remove_rmap(page: Page) -> None:
    """One PTE less maps the page.  Kernel: page_remove_rmap()."""
    page._mapcount -= 1


def page_move_anon_rmap(page: Page, vma: Vma) -> None:
    """File an exclusively owned page under this VMA's own anon_vma.  Kernel: page_move_anon_rmap()."""
    page.mapping = vma.anon_vma


def rmap_walk(k, page: Page) -> list[tuple[Vma, int]]:
    """Every (VMA, page index) whose PTE maps the page.  Kernel: rmap_walk()."""
    if PageAnon(page):
        return rmap_walk_anon(page)
    return rmap_walk_file(k, page)


def rmap_walk_anon(page: Page) -> list[tuple[Vma, int]]:
    """Walk the page's anon_vma tree for PTEs that map it.  Kernel: rmap_walk_anon()."""
    found = []
    for avc in page.mapping.rb_root:
        vma = avc.vma
        i = vma_address(page, vma)
        if i is None:
            continue
        pte = vma.ptes[i]
        # page_vma_mapped_walk(): is it really this page that is mapped there?
        if pte is not None and not pte.special and pte.pfn == page.pfn:
            found.append((vma, i))
    return found


def rmap_walk_file(k, page: Page) -> list[tuple[Vma, int]]:
    """Walk the VMAs that map the page's file for PTEs that map it.  Kernel: rmap_walk_file()."""
    found = []
    if page.mapping is None:
        return found
    for task_mm in k.live_mms():
        for vma in task_mm.mmap.values():
            if vma.vm_file is page.mapping:
                i = page.index - vma.vm_pgoff
                if 0 <= i < vma.npages:
                    pte = vma.ptes[i]
                    if pte is not None and pte.pfn == page.pfn:
                        found.append((vma, i))
    return found
