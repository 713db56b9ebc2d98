"""The words of the events: every event's sentence is made here, from the facts it carries.

The model's kernel functions change state and report what they did as facts:
`kernel.emit(fn, what, tag, objs, decisions, **facts)` names the function, what
it did (a key of WORDS below), the objects it touched, the tests that decided,
and plain values (counters before and after, pfns, names).  When the caller
takes the events (Kernel.take_events), narrate() folds the repeats of an `xN`
command, renames each function as the era's source names it, and writes each
event's sentence from the words registered for its `what`: a template filled in
with the facts, or a function of them.  Nothing else writes event text, so a
wording changes in one place, and every event keeps its facts (`Event.facts`)
for whoever wants them without parsing a sentence.

(The author's own words for a step, `say:`, are cowviz/scenario/narration.py.)
"""
from __future__ import annotations

from functools import partial
from typing import NamedTuple

from .events import Event, index_range


class Raw(NamedTuple):
    """An event as the kernel function emitted it: facts, no words yet."""
    fn: str
    what: str
    tag: str | None
    objs: tuple
    decisions: tuple
    facts: dict
    repeat: int                 # 0, or which repeat of an `xN` command (1 = the second call)


WORDS: dict = {}


def words(fn):
    """Register the words for the events whose `what` is the function's name."""
    WORDS[fn.__name__] = fn
    return fn


def template(what: str, text: str) -> None:
    """Register words that are one sentence with the facts filled in by name (str.format)."""
    WORDS[what] = partial(_fill, text)


def _fill(_text: str, **facts) -> str:
    return _text.format(**facts)


def narrate(raw: list, era) -> list:
    """The events, in words: repeats folded, functions named as in `era`'s kernels."""
    name = era.kernel_name
    flag = era.facts.has_pinned_flag
    out = []
    for r in fold_repeats(raw):
        decisions = tuple(d._replace(fn=name(d.fn)) for d in r.decisions)
        text = WORDS[r.what](name=name, flag=flag, decisions=decisions, **r.facts)
        out.append(Event(name(r.fn), text, r.tag, r.objs, decisions, r.what,
                         tuple(r.facts.items())))
    return out


def fold_repeats(raw: list) -> list:
    """The one place where the repeats of an `xN` command fold.

    The first call is told in full; the calls after it (events with `repeat`
    set, one group per call, each ending in the reference it took) become one
    event that counts them.  A call that failed is told in full, with no count.
    """
    out, i, n = [], 0, len(raw)
    while i < n:
        if not raw[i].repeat:
            out.append(raw[i])
            i += 1
            continue
        calls, last = 1, None
        while i < n and raw[i].repeat:
            j = i
            while j < n and raw[j].repeat == raw[i].repeat:
                j += 1
            group, i = raw[i:j], j
            if group[-1].what == "gup_grab":
                calls, last = calls + 1, group[-1]
            else:
                out.extend(group)
                last = None
        if last is not None:
            out.append(last._replace(what="gup_repeated", decisions=(), facts={**last.facts, "calls": calls}))
    return out


def alike_runs(events, at_least: int):
    """(first, count, last) for each run of `at_least` or more alike events in a row (the same
    function on the same objects, alike tag), and (event, 1, event) for every other event.

    The `xN` repeats are folded already (fold_repeats); this is for a view that shows many
    alike events as one line with a count (the wire's event list)."""
    i, n = 0, len(events)
    while i < n:
        e = events[i]
        j = i + 1
        while j < n and (events[j].fn, events[j].tag, events[j].objs) == (e.fn, e.tag, e.objs):
            j += 1
        if j - i >= at_least:
            yield e, j - i, events[j - 1]
            i = j
        else:
            yield e, 1, e
            i += 1


# -- faults (mm/memory.c) -----------------------------------------------------

template("anon_read_zero",
         "{where} is read before anything was written there: it maps the shared zero page, "
         "read-only.")
template("anon_first_write",
         "{where} is written for the first time: new page {pfn}, filed under anon_vma {anon_vma}, "
         "mapped writable.")
template("fault_oom",
         "No page for {where}: VM_FAULT_OOM.  The kernel would now run the OOM killer; the model "
         "stops the access here and reports ENOMEM.")
template("shmem_new_page",
         "New page {pfn} in the page cache of shmem file {file}, offset {offset}.")
template("shmem_map", "{where} maps shmem page {pfn}.")


@words
def fault_around(mapped, **_):
    return f"Fault-around maps the pages already in the page cache nearby: {', '.join(mapped)}."


def wp_why(pfn: int, where: str, d) -> str:
    """Why do_wp_page() reused or copied page `pfn`: the test `d` that decided and what it saw."""
    seen, reuse = dict(d.seen), d.answer
    if d.line == "shared":
        return f"{where} is a shared mapping: writes go to page {pfn} itself."
    if d.line == "reuse_swap_page":
        m, c = seen["mapcount"], seen["refcount"]
        if reuse:
            unseen = f" (its refcount of {c} is not looked at)" if c > 1 else ""
            return f"page {pfn} has mapcount {m}: no other process maps it, so it is reused{unseen}."
        return f"page {pfn} has mapcount {m}: another process maps it too, so it is copied."
    if d.line == "page_count":
        if reuse:
            return f"page {pfn} has page_count 1: nobody else holds a reference, so it is reused."
        return (f"page {pfn} has page_count {seen['refcount']}, not 1: someone else may hold it "
                f"(a mapping, a GUP reference or a pin), so it is copied.")
    if d.line == "exclusive":
        return (f"page {pfn} is marked exclusive: it is this process's alone, so it is reused "
                f"without looking at any counter.")
    if d.line == "refcount":
        if reuse:
            return (f"page {pfn} is not marked exclusive, but its refcount is 1: nobody else holds it, "
                    f"so it becomes exclusive and is reused.")
        return (f"page {pfn} is not exclusive and its refcount is {seen['refcount']}: someone else may "
                f"hold it, so it is copied.")
    raise ValueError(f"no words for do_wp_page's test {d.line!r}")


@words
def wp_unshare_reuse(where, pfn, decisions, **_):
    return (f"Unshare fault on {where}: {wp_why(pfn, where, decisions[-1])}  Page {pfn} is now "
            f"marked exclusive and stays mapped read-only.")


@words
def wp_decided_copy(where, pfn, unshare, decisions, **_):
    return f"{'Unshare' if unshare else 'Write'} fault on {where}: {wp_why(pfn, where, decisions[-1])}"


@words
def wp_reuse(where, pfn, writable, decisions, **_):
    why = wp_why(pfn, where, decisions[-1]) + "  " if decisions else ""
    now = "now writable" if writable else \
        "dirty but still read-only (maybe_mkwrite(): the VMA has no VM_WRITE)"
    return f"{why}{where} keeps page {pfn}, {now}."


@words
def wp_copy(where, new, old, anon_vma, unshare, freed, **_):
    source = f"a copy of page {old}" if old is not None else "zero-filled (the zero page is never copied)"
    gone = f"  Page {old} had no other user and is freed." if freed else ""
    return (f"{where} gets new page {new}, {source}, filed under anon_vma "
            f"{anon_vma}{', read-only' if unshare else ''}.{gone}")


# -- fork: the page-table copy (mm/memory.c) ------------------------------------

template("copy_skipped",
         "{src} has no anon_vma: no PTEs are copied; {child} will fault its pages in when it "
         "touches them.")


SHARED = {
    "wrprotect": "{src} and {dst}{r} now map the same {pages}, write-protected in both: "
                 "the first write on either side will fault.",
    "readonly": "{dst}{r} maps the same {pages} as {src}, read-only as before.",
    "zero": "{dst}{r} maps the shared zero page, like {src}.",
    "file": "{dst}{r} maps the same shmem {pages} as {src}.",
}


@words
def fork_shared(how, src, dst, first, last, **_):
    r = index_range(first, last)
    return SHARED[how].format(src=src + r, dst=dst, r=r, pages="page" if first == last else "pages")


def fork_copy_why(pfn: int, refcount: int, decider: str, line: str, flag: str | None) -> str:
    """Why fork copies page `pfn` for the child now: the test (`line`) of `decider` that said so."""
    if line == "needs_cow_for_dma":
        return (f"Page {pfn} is exclusive and may be DMA-pinned (refcount {refcount}): "
                f"{decider}() refuses to share it (-EBUSY), so the child must get a copy now.")
    return (f"Page {pfn} may be DMA-pinned ({flag} is set, refcount {refcount}): "
            f"{decider}() must give the child a copy now.")


@words
def early_copy_needs_page(pfn, refcount, decisions, name, flag, **_):
    d = [d for d in decisions if d.line != "prealloc"][-1]       # the era's test that said "copy"
    return (f"{fork_copy_why(pfn, refcount, d.fn, d.line, flag)}  No page was preallocated: "
            f"copy_present_page() returns -EAGAIN, and {name('copy_pte_range')}() drops the "
            f"page-table locks to allocate one.")


@words
def early_copy(old, new, dst, src, anon_vma, writable, **_):
    return (f"Page {old} may be DMA-pinned: copying it for the child now.  {dst} gets page {new} "
            f"(filed under the child's anon_vma {anon_vma}); {src} keeps page {old}"
            f"{', still writable' if writable else ''}.")


template("early_copy_no_page", "No page for the early copy: fork() fails with ENOMEM.")
template("early_copy_no_charge",
         "The parent's memcg cannot take the early copy: fork() fails with ENOMEM.")
template("early_copy_page",
         "Allocated page {pfn} for the early copy, charged to memcg {memcg} (the parent's).")


@words
def zapped(vma, unmapped, freed, kept, **_):
    text = f"{vma}: {unmapped} PTE{'s' if unmapped != 1 else ''} removed."
    if freed:
        shown = ", ".join(map(str, freed[:8])) + (" ..." if len(freed) > 8 else "")
        text += f"  Freed page{'s' if len(freed) > 1 else ''} {shown}."
    for pfn, refcount, holders in kept:
        text += (f"  Page {pfn} is mapped by nobody now but stays: refcount {refcount} "
                 f"(held by {holders}).")
    return text


# -- fork, exit, exec (kernel/fork.c) ------------------------------------------

template("dontfork_skipped",
         "{vma} is MADV_DONTFORK: {child} gets no mapping there at all, and {parent}'s PTEs stay "
         "as they are.")
template("wipeonfork_empty", "{vma} is MADV_WIPEONFORK: {child_vma} starts empty.")
template("forks", "{parent} forks {child}.")
template("fork_failed",
         "Copying the address space failed: the half-built child mm is torn down and fork() "
         "returns -ENOMEM; {child} never runs.")
template("new_thread", "{thread} is a new thread of {task}'s process: it shares mm {mm}.")
template("mm_torn_down", "The last user of mm {mm} is gone: its address space is torn down.")


@words
def exec_new_mm(task, flag, **_):
    return (f"{task} execs: it drops its old mm and gets a new, empty one"
            + (f", whose {flag} flag starts clear." if flag else "."))


template("exits", "{task} exits.")
template("thread_killed", "{task} execs, so its thread {thread} is killed.")


# -- VMAs (mm/mmap.c, mm/mprotect.c, mm/madvise.c) -------------------------------

@words
def mapped(vma, npages, start, end, shared, writable, **_):
    return (f"{vma}: {npages} page{'s' if npages != 1 else ''} at {start:#x}-{end:#x}, "
            f"{'shared' if shared else 'private'}, {'read-write' if writable else 'read-only'}.  "
            f"Nothing is allocated until it is touched.")


@words
def shmem_evicted(file, freed, **_):
    return f"Shmem file {file} is closed: page cache pages {', '.join(map(str, freed))} freed."


template("unmapped", "{vma} is unmapped.")
template("nothing_to_unmap", "Nothing is mapped at {task} {vma}: munmap() has nothing to do.")


@words
def prot_unchanged(vma, writable, **_):
    return f"{vma} is already {'read-write' if writable else 'read-only'}."


@words
def prot_changed(vma, writable, private, changed, **_):
    prot = "read-write" if writable else "read-only"
    if writable and private:
        rest = ("PTEs of pages known to be exclusive are made writable at once: "
                + ", ".join(changed)) if changed else \
            "its present PTEs stay read-only; the next write to each faults and do_wp_page decides"
        return f"{vma} is now {prot}; {rest}."
    n = len(changed)
    return f"{vma} is now {prot}" + (f"; {n} present PTE{'s' if n != 1 else ''} changed." if n else ".")


template("madvise_einval", "{advice} is only for private anonymous memory: EINVAL.")


MADVISED = {
    "dontfork": "fork() will leave it out of the child entirely",
    "dofork": "fork() copies it again",
    "wipeonfork": "the child will get this range empty (zero-filled on touch)",
    "keeponfork": "the child inherits its contents again",
}


@words
def madvised(advice, name_of, vma, **_):
    return f"{name_of} on {vma}: {MADVISED[advice]}."


# -- anon_vmas (mm/rmap.c) -------------------------------------------------------

template("anon_vma_new_root",
         "{vma} gets its first anonymous page, so it gets anon_vma {anon_vma}, a new root.")


@words
def anon_vma_reused(vma, linked, anon_vma, in_use, degree, **_):
    if in_use:
        why = (f"which {in_use} other VMA{' still uses' if in_use == 1 else 's still use'} for "
               f"{'its' if in_use == 1 else 'their'} new pages: its degree ({degree - 1} "
               f"before this link) counts children and VMAs together and cannot tell them apart "
               f"(the double reuse that 2555283eb40d fixed in 6.0)")
    else:
        why = "which no VMA used any more"
    return (f"{vma} is linked into anon_vma {', '.join(map(str, linked))} and reuses anon_vma "
            f"{anon_vma}, {why}, for its new pages.")


@words
def anon_vma_child(vma, linked, anon_vma, parent, **_):
    return (f"{vma} is linked into anon_vma {', '.join(map(str, linked))} (so the rmap walk finds "
            f"it from the pages it shares) and gets anon_vma {anon_vma}, a child of {parent}, for the "
            f"pages it will copy.")


@words
def anon_vmas_freed(vma, freed, **_):
    return f"{vma} was the last VMA in anon_vma {', '.join(map(str, freed))}: freed."


# -- pages and memcgs (mm/page_alloc.c, mm/memcontrol.c) -------------------------

ALLOC_FOR = {"anon": "{}", "shmem": "{} (shmem)", "copy": "the copy for {}",
             "early_copy": "the early copy of {}"}


@words
def alloc_failed(purpose, where, **_):
    return f"The allocation for {ALLOC_FOR[purpose].format(where)} fails (fault injection)."


template("charge_failed",
         "Memcg {memcg} is at its limit of {limit} pages: the charge for page {pfn} fails.")
template("memcg_limit_refused",
         "Memcg {memcg} already uses {usage} pages: a limit of {pages} is refused (EBUSY).")
template("memcg_limited",
         "Memcg {memcg} (of {task}) may hold at most {pages} pages; it holds {usage}.")


@words
def fail_alloc_armed(n, **_):
    return f"The next {n} page allocation{'s' if n != 1 else ''} will fail."


# -- accesses (arch/x86/mm/fault.c) ----------------------------------------------

template("segv_unmapped", "{task} touches {vma}[{i}], where nothing is mapped: SIGSEGV.")
template("segv_read_only", "{task} writes to {where}, which is mapped read-only: SIGSEGV.")


@words
def cpu_access(task, write, value, pfn, where, **_):
    what = "the zero page" if pfn == 0 else f"page {pfn}"
    return (f"{task} {'writes ' + value + ' into' if write else 'reads'} {what} through {where}: "
            f"the PTE is {'writable' if write else 'present'}, so no fault.")


# -- GUP (mm/gup.c) --------------------------------------------------------------

template("has_pinned_set", "First FOLL_PIN in {owner}'s mm: {flag} is set, for good.")
template("cow_break_forced",
         "{where} is a COW mapping and this is {flags}: FOLL_WRITE is forced, so any COW is broken "
         "now, before the reference is taken.")
template("unshare_first",
         "{where} maps a page that may be shared, and this is a read-only pin: unshare it first, "
         "so the pin and the process keep seeing the same page.")


@words
def gup_grab(holder, pin, pfn, where, flags, before, after, **_):
    kind = "pins" if pin else "takes a reference on"
    if pfn == 0:
        counts = "the zero page's counts are not kept"
    elif before is not None:
        counts = f"refcount {before} -> {after}"
    else:
        counts = f"refcount now {after}"
    return f"{holder} {kind} page {pfn} ({where}) with {flags}: {counts}."


template("gup_repeated",
         "... {calls} times in all: {holder} holds {calls} references on page {pfn}, refcount now "
         "{after}.")


# -- devices, DMA and pipes (devices.py) -------------------------------------------

template("holds_nothing", "{holder} holds no pages.")


@words
def let_go(holder, pfns, refs, freed, **_):
    text = f"{holder} lets go of page{'s' if len(pfns) > 1 else ''} {', '.join(map(str, pfns))}"
    text += f" ({refs} reference{'s' if refs > 1 else ''})."
    if freed:
        text += f"  Freed: {', '.join(map(str, freed))}."
    return text


template("iommu_refuses",
         "{holder} took its pages without FOLL_WRITE; the IOMMU refuses the write.")
template("dma_wrote",
         "{holder} writes {value} into page {pfn} by DMA, past every page table; {task} "
         "{vma}[{index}] maps that page, so {task} sees it.")
template("dma_read", "{holder} reads page {pfn} by DMA: {data}.")


def _gone(task, vma, remapped):
    return (f"{task} unmapped the {vma} it pinned"
            + (f" and mapped a new {vma} at another address" if remapped else ""))


@words
def dma_write_unmapped(holder, wrote, pfn, task, vma, remapped, **_):
    return (f"{holder} writes {wrote} into page {pfn}, which it still holds, but "
            f"{_gone(task, vma, remapped)}: no process maps page {pfn}.  Not a lost write of the "
            f"kernel's making: {task} gave the range up while it was pinned.")


@words
def dma_read_unmapped(holder, pfn, task, vma, remapped, **_):
    return (f"{holder} reads page {pfn}, which it still holds, but {_gone(task, vma, remapped)}: "
            f"what {task} writes to its new {vma} does not reach the device.")


def _now_maps(now):
    return f"maps page {now}" if now is not None else "maps nothing"


@words
def dma_write_lost(holder, wrote, pfn, task, vma, index, now, **_):
    return (f"{holder} writes {wrote} into page {pfn}, but {task} {vma}[{index}] now {_now_maps(now)}: "
            f"{task} will never see this write.")


@words
def dma_read_stale(holder, pfn, task, vma, index, now, **_):
    return (f"{holder} reads page {pfn}, but {task} {vma}[{index}] now {_now_maps(now)}: the device "
            f"does not see what {task} wrote since.")


template("pipe_empty", "Pipe {pipe} is empty.")
template("pipe_leak",
         "Pipe {pipe} hands out {data!s}, which {who} wrote into page {pfn} after {task} spliced "
         "it: {task} reads another process's data (the CVE-2020-29374 leak).")
template("pipe_hands_out", "Pipe {pipe} hands out page {pfn}: {data}.")
