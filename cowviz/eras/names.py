"""Which name each kernel function had in which kernel version: the data behind the event names.

The engine emits an event under the model's own name for a kernel function
(its "role", which is the name the function had in 5.9).  Each era answers
the name its kernels used (Era.kernel_name()): the entry of the role's
lineage that was current at the era's `names_at` version.

Every row was checked against kernel trees of v5.7.14, v5.8.1, v5.9.1, v5.19,
v6.0-rc1, v6.8.1, v6.9 and v6.18.2 (a definition of the name present or
absent); `seen` says where.  Where a name appeared or disappeared between two
of those trees and the commit could not be confirmed, `commit_*` is None and
the interval is what the trees prove.  Versions compare as kernel versions:
"5.9-rc7" < "5.9" < "5.19" < "6.0".
"""
from __future__ import annotations

import functools
import re
from typing import NamedTuple

# The kernel trees every row was checked against, oldest first.
TREES = ("5.7", "5.8", "5.9", "5.19", "6.0-rc1", "6.8", "6.9", "6.18")


class Name(NamedTuple):
    name: str                       # the kernel function (or macro) name
    since: str | None               # first version that has it; None: older than every era (<= 5.7)
    until: str | None               # first version without it; None: still in v6.18
    commit_in: str | None = None    # the commit that introduced (or renamed to) it
    commit_out: str | None = None   # the commit that removed (or renamed) it
    note: str = ""


@functools.lru_cache(maxsize=256)     # asked for every name on every reply; the versions are few
def parse_version(v: str) -> tuple:
    """'5.9-rc7' -> (5, 9, 7); '5.9' -> (5, 9, 99): an -rc sorts before its release."""
    m = re.fullmatch(r"(\d+)\.(\d+)(?:-rc(\d+))?", v)
    if not m:
        raise ValueError(f"not a kernel version: {v!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else 99


def holds_at(entry: Name, version: str) -> bool:
    """Did the kernel at `version` have this name?"""
    v = parse_version(version)
    if entry.since is not None and v < parse_version(entry.since):
        return False
    return entry.until is None or v < parse_version(entry.until)


# Names whose history inside the eras' span is one unbroken entry.
_STABLE = (
    # mm/memory.c
    "do_anonymous_page", "handle_mm_fault", "finish_fault", "do_fault_around", "do_wp_page",
    "wp_page_reuse", "wp_page_copy", "copy_page_range", "zap_pte_range",
    # mm/shmem.c
    "shmem_fault", "shmem_evict_inode",
    # mm/rmap.c
    "anon_vma_prepare", "anon_vma_fork", "unlink_anon_vmas",
    # mm/gup.c
    "__get_user_pages_locked", "__get_user_pages", "get_user_pages", "pin_user_pages",
    "unpin_user_page",
    # mm/mmap.c, mm/mprotect.c
    "do_mmap", "do_munmap", "mprotect_fixup", "change_protection",
    # kernel/fork.c, kernel/exit.c, fs/exec.c
    "copy_process", "copy_mm", "dup_mm", "dup_mmap", "mmput", "do_exit", "de_thread", "exec_mmap",
    # the page allocator and memcg
    "alloc_pages", "put_page", "should_fail_alloc_page", "mem_cgroup_resize_max",
    # arch/x86/mm/fault.c
    "do_user_addr_fault",
)

TABLE: tuple[Name, ...] = tuple(Name(n, None, None, note="in every tree") for n in _STABLE) + (
    # fork: the per-PTE copy.
    Name("copy_one_pte", None, "5.9-rc7", None, "79a1971c5f14 df3a57d1f607",
         "Linus's split of copy_one_pte() (2020-09, 5.9-rc7); in the 5.8 tree, not in 5.9"),
    Name("copy_present_pte", "5.9-rc7", "6.9", "79a1971c5f14 df3a57d1f607", "f8d937761d65",
         "in the 5.9 - 6.8 trees; batched into copy_present_ptes() for PTE-mapped large folios"),
    Name("copy_present_ptes", "6.9", None, "f8d937761d65", None, "in the 6.9 and 6.18 trees"),
    Name("copy_present_page", "5.9", None, "70e806e4e645", None,
         "the early copy of a maybe-pinned page; in the 5.9 - 6.18 trees"),
    Name("page_copy_prealloc", "5.9", "6.8", "70e806e4e645", None,
         "in the 5.9 - 6.0-rc1 trees, not in 6.8 (renamed in the folio conversion; commit not confirmed)"),
    Name("folio_prealloc", "6.8", None, None, None,
         "in the 6.8 - 6.18 trees, not in 6.0-rc1; since 6.8 at the latest"),
    Name("page_try_dup_anon_rmap", "5.19", "6.8", "fb3d824d1a46", None,
         "answers -EBUSY for an exclusive maybe-pinned page; in the 5.19 and 6.0-rc1 trees, not in 6.8"),
    Name("folio_try_dup_anon_rmap_pte", "6.8", None, None, None,
         "the folio rmap interface of 6.8 (the issue and kernel-history.md date it 6.8; in the 6.8 tree)"),
    # memcg charging.
    Name("mem_cgroup_try_charge_delay", None, "5.8", None, "3fea5a499d57",
         "the try/commit charge API; in the 5.7 tree only"),
    Name("mem_cgroup_charge", "5.8", None, "3fea5a499d57", None,
         "\"mm: memcontrol: convert page cache to a new mem_cgroup_charge() API\"; in the 5.8 - 6.18 trees"),
    # madvise.
    Name("madvise_behavior", None, "5.17", None, "ac1e9acc5acf",
         "in the 5.7 - 5.9 trees, not in 5.19"),
    Name("madvise_vma_behavior", "5.17", None, "ac1e9acc5acf", None,
         "\"mm: rearrange madvise code to allow for reuse\"; in the 5.19 - 6.18 trees"),
    # GUP.
    Name("gup_must_unshare", "5.19", None, "a7f226604170", None,
         "the R/O-pin unshare rule; in the 5.19 - 6.18 trees"),
    # The maybe-pinned test (include/linux/mm.h): not an event, but the inspector names it.
    Name("page_maybe_dma_pinned", None, "6.18", None, None,
         "in the 5.7 - 6.9 trees, not in 6.18 (the page wrapper went in the folio conversion; commit not confirmed)"),
    Name("folio_maybe_dma_pinned", "5.19", None, None, None,
         "in the 5.19 - 6.18 trees, not in 5.9; since 5.19 at the latest"),
    # pipes.
    Name("pipe_read", None, "6.18", None, None,
         "in the 5.7 - 6.9 trees, not in 6.18 (which has anon_pipe_read; commit not confirmed)"),
    Name("anon_pipe_read", "6.18", None, None, None,
         "the read_iter of an anonymous pipe in the 6.18 tree; absent in 6.9; since 6.18 at the latest"),
)

BY_NAME: dict[str, Name] = {e.name: e for e in TABLE}

# One role, the names it had over time (oldest first).  A role not listed
# here kept its name in every era.
LINEAGE: dict[str, tuple[str, ...]] = {
    "copy_present_pte": ("copy_one_pte", "copy_present_pte", "copy_present_ptes"),
    "page_copy_prealloc": ("page_copy_prealloc", "folio_prealloc"),
    "page_try_dup_anon_rmap": ("page_try_dup_anon_rmap", "folio_try_dup_anon_rmap_pte"),
    "mem_cgroup_charge": ("mem_cgroup_try_charge_delay", "mem_cgroup_charge"),
    "madvise_behavior": ("madvise_behavior", "madvise_vma_behavior"),
    "pipe_read": ("pipe_read", "anon_pipe_read"),
}

# Who acted when no kernel function did: not looked up in the table.
NOT_KERNEL = ("device DMA", "cpu")


def maybe_pinned_test(version: str) -> str:
    """How the kernel at `version` spells the maybe-DMA-pinned test: page_ while it exists, else folio_."""
    if holds_at(BY_NAME["page_maybe_dma_pinned"], version):
        return "page_maybe_dma_pinned"
    return "folio_maybe_dma_pinned"


def name_at(role: str, version: str) -> str:
    """The name the kernel at `version` had for the model's function `role`."""
    for name in LINEAGE.get(role, (role,)):
        entry = BY_NAME.get(name)
        if entry is not None and holds_at(entry, version):
            return name
    return role
