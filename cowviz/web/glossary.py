"""The glossary: the terms a learner meets, defined once, and linked from the narration.

GLOSSARY is the one place the definitions live: /glossary shows them, and
`render_narration()` turns the first mention of each term in a narration text
into a same-origin link to its entry (`/glossary#pte`).  Terms inside code
spans or links are left alone, and so is every later mention of a term in the
same text, so a paragraph does not turn blue.
"""
from __future__ import annotations

import re
from functools import lru_cache

from markdown_it.token import Token

from .markdown import _new_parser

# id -> (term, pattern of its mentions, Markdown definition); commit ids as in docs/eras.md.
GLOSSARY = {
    "pte": ("PTE", r"\bPTEs?\b|\bpage table entr(?:y|ies)\b",
            "Page table entry: one entry of a process's page tables, mapping one virtual page of a "
            "VMA to a physical page (its pfn), with permission bits. A read-only (write-protected) PTE "
            "makes the next write fault, which is how copy-on-write gets control back."),
    "refcount": ("refcount", r"\brefcounts?\b|\bpage_count\b",
                 "`page_count()`, the page's `_refcount`: how many references hold the page. One per PTE "
                 "that maps it, one per FOLL_GET reference, 1024 per FOLL_PIN pin of a small page "
                 "(GUP_PIN_COUNTING_BIAS), and short-lived kernel references. From 5.9-rc "
                 "(09854ba94c6a) a write fault reuses a shared-looking page only when it is 1."),
    "mapcount": ("mapcount", r"\bmapcounts?\b",
                 "`page_mapcount()`: how many PTEs map the page. Up to 5.8 a write fault reused a page "
                 "whose mapcount was 1, blind to references that are not mappings (a pipe's, a "
                 "device's): the vmsplice leak, CVE-2020-29374."),
    "anon_vma": ("anon_vma", r"\banon_vmas?\b",
                 "The object a private VMA's anonymous pages are filed under (`page->mapping` points "
                 "at it). fork gives the child's VMA an anon_vma of its own, a child of the parent's, "
                 "and links the child's VMA into each ancestor's (the anon_vma chain), so a page the "
                 "two share can be found from either."),
    "rmap": ("rmap", r"\brmap\b|\breverse map(?:ping)?\b",
             "Reverse mapping: from a physical page back to every PTE that maps it, by walking the "
             "VMAs linked to the page's anon_vma (`rmap_walk()`). Reclaim, migration and KSM use it."),
    "cow": ("COW (copy-on-write)", r"\bCOW\b|\bcopy-on-write\b",
            "fork shares private pages between parent and child, write-protected in both. The first "
            "write faults and `do_wp_page()` either reuses the page, when the writer is its only user, "
            "or gives the writer a copy (`wp_page_copy()`). How the kernel decides who the only user "
            "is changed from era to era: mapcount (5.7, 5.8), page_count (5.9-rc to 5.18), the "
            "exclusive bit (5.19 on)."),
    "foll_get": ("FOLL_GET", r"\bFOLL_GET\b",
                 "The `get_user_pages()` flag for an ordinary reference: refcount + 1 per page, for a "
                 "short use such as a pipe buffer after `vmsplice()`. Dropped with `put_page()`."),
    "foll_pin": ("FOLL_PIN", r"\bFOLL_PIN\b",
                 "The flag of `pin_user_pages()`: a pin, taken to access the page's data by DMA or "
                 "otherwise. A pin of a small page adds 1024 to the refcount, so that "
                 "`page_maybe_dma_pinned()` can guess the page is pinned (a guess: 1024 ordinary "
                 "references look the same). FOLL_LONGTERM marks pins held indefinitely (RDMA, vfio). "
                 "Dropped with `unpin_user_page()`."),
    "pinned-flag": ("pinned flag", r"\bpinned flag\b|\bhas_pinned\b|\bMMF_HAS_PINNED\b",
                    "A per-mm flag set by the mm's first FOLL_PIN and never cleared: `mm->has_pinned` "
                    "from 5.9 (008cfe4418b3), the MMF_HAS_PINNED bit of `mm->flags` from 5.14 "
                    "(a458b76a4171). fork looks for pinned pages only in an mm that has it, so a "
                    "process that never pinned pays nothing. A new mm (fork's child, exec) starts "
                    "with it clear."),
    "exclusive": ("exclusive page", r"\bexclusive (?:pages?|bit)\b|\bPG_anon_exclusive\b|\bexclusive\b",
                  "PG_anon_exclusive (5.19 on, 6c287605fd56): a bit on an anonymous page saying it is "
                  "known to be mapped by one process only. A write fault reuses an exclusive page "
                  "without looking at counters; fork clears the bit when it shares a page, and gives "
                  "the child a copy instead when the exclusive page may be pinned. GUP pins only "
                  "exclusive anonymous pages, unsharing first where needed."),
    "memcg": ("memcg", r"\bmemcgs?\b|\bmemory cgroups?\b",
              "Memory cgroup: a group of tasks whose memory is charged against a limit "
              "(`mem_cgroup_charge()`). A page fork copies early is charged to the parent's memcg; "
              "when that is at its limit, fork fails with ENOMEM."),
}

_PATTERNS = [(gid, re.compile(pattern)) for gid, (_, pattern, _) in GLOSSARY.items()]


def entries() -> list:
    """The glossary for its page: [{id, term, html}] in GLOSSARY's order."""
    from .markdown import render_markdown
    return [{"id": gid, "term": term, "html": render_markdown(text)} for gid, (term, _, text) in GLOSSARY.items()]


def _link_terms(state) -> None:
    """A markdown-it core rule: the first mention of each term becomes a link to its entry."""
    seen = set()
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        out, depth = [], 0
        for tok in block.children:
            if tok.type == "link_open":
                depth += 1
            elif tok.type == "link_close":
                depth -= 1
            if tok.type != "text" or depth:
                out.append(tok)
                continue
            out.extend(_split(tok, seen))
        block.children = out


def _split(tok, seen: set) -> list:
    text, out, pos = tok.content, [], 0
    while True:
        best = None
        for gid, rx in _PATTERNS:
            if gid in seen:
                continue
            m = rx.search(text, pos)
            if m and (best is None or m.start() < best[1].start()):
                best = (gid, m)
        if best is None:
            break
        gid, m = best
        seen.add(gid)
        if m.start() > pos:
            out.append(_text(text[pos:m.start()]))
        link = Token("link_open", "a", 1)
        link.attrs = {"href": f"/glossary#{gid}", "class": "gloss", "title": GLOSSARY[gid][0]}
        out += [link, _text(m.group(0)), Token("link_close", "a", -1)]
        pos = m.end()
    if pos < len(text):
        out.append(_text(text[pos:]))
    return out


def _text(content: str) -> Token:
    t = Token("text", "", 0)
    t.content = content
    return t


def _parser():
    md = _new_parser()
    md.core.ruler.push("glossary_links", _link_terms)
    return md


_MD = _parser()


@lru_cache(maxsize=4096)
def render_narration(text: str | None) -> str:
    """Narration Markdown as safe HTML (markdown.py's rules), its terms linked to the glossary."""
    if not text:
        return ""
    return _MD.render(text)
