"""A step's text alternative: what changed in the diagram, in words, for screen readers.

    fork P C: C's PTE for buf[0] maps page 1 read-only; page 1 mapcount 1 -> 2

Built from two diagram frames (the step before and the step), reading the labels the diagram
draws, so the words say what the picture shows.  Object ids become names ("C's PTE for buf[0]",
not "pte:C:buf:0").
"""
from __future__ import annotations

import re

from .. import ids


def id_words(ident: str) -> str:
    p = ids.parse(str(ident))
    if p is None:
        return str(ident)
    if p.kind == "task":
        return f"task {p.name}"
    if p.kind == "mm":
        return f"{p.owner}'s mm"
    if p.kind == "vma":
        return f"{p.owner}'s VMA {p.name}"
    if p.kind == "pte":
        return f"{p.owner}'s PTE{'s' if p.first != p.last else ''} for {p.name}[{p.span}]"
    if p.kind == "page":
        if p.first == p.last == 0:
            return "the zero page"
        return f"pages {p.span}" if p.first != p.last else f"page {p.span}"
    if p.kind == "anon_vma":
        return f"anon_vma {p.name}"
    if p.kind == "holder":
        return p.name
    return f"memcg {p.name}"


_PTE = re.compile(r"^\[[^\]]+\]\s+(RW|RO|none)\s*(.*)$")


def pte_state(line: str) -> str:
    """A PTE row's label in words: 'maps page 1 read-only', 'is not present'."""
    m = _PTE.match(line)
    if not m:
        return f"reads {line}"
    if m.group(1) == "none":
        return "is not present"
    how = "writable" if m.group(1) == "RW" else "read-only"
    rest = re.sub(r"\s*×\d+$", "", m.group(2))
    if "zero page" in rest:
        return f"maps the zero page {how}"
    pfn = re.search(r"pfn (\S+)", rest)
    if pfn:
        return f"maps {'pages' if '-' in pfn.group(1) else 'page'} {pfn.group(1)} {how}"
    return f"is {how}"


def line_change(old: str, now: str) -> str | None:
    """'refcount 1 pins 0' -> 'refcount 2 pins 0' gives 'refcount 1 -> 2'."""
    if old == now:
        return None
    a, b = old.split(), now.split()
    if len(a) != len(b):
        return f"{old.strip()} -> {now.strip()}"
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x == y:
            continue
        key = a[i - 1] if i > 0 and not a[i - 1][:1].isdigit() else ""
        if key == "=":
            key = "data"
        out.append(f"{key + ' ' if key else ''}{x} -> {y}")
    return ", ".join(out)


def _new(n: dict) -> str:
    kind, label = n["kind"], n["label"]
    if kind == "pte":
        return f"{id_words(n['id'])} {pte_state(label[0])}"
    if kind == "page":
        return "the zero page is used" if n["id"] == ids.page(0) else f"new {label[0]}"
    if kind == "task" and len(label) > 1:
        return f"new task {ids.name(n['id'])} ({label[1]})"
    if kind == "holder":
        return " ".join(" ".join(label).split())
    return f"new {id_words(n['id'])}"


def _changed(old: dict, n: dict) -> str | None:
    if n["kind"] == "pte":
        return None if old["label"][0] == n["label"][0] else f"{id_words(n['id'])} now {pte_state(n['label'][0])}"
    parts = []
    for i, line in enumerate(n["label"]):
        c = line if i >= len(old["label"]) else line_change(old["label"][i], line)
        if c:
            parts.append(c)
    return f"{id_words(n['id'])} {', '.join(parts)}" if parts else None


def start_words(frame: dict | None) -> str:
    """The starting state in a phrase: 'task P, 1 VMA, 2 pages'."""
    nodes = [n for n in (frame or {}).get("nodes", ()) if n.get("kind") != "legend"]
    if not nodes:
        return "no process and no memory yet; the first command creates them"
    tasks = [ids.name(n["id"]) for n in nodes if n["kind"] == "task"]
    bits = []
    if tasks:
        bits.append(("task " if len(tasks) == 1 else "tasks ") + ", ".join(tasks))
    vmas = sum(n["kind"] == "vma" for n in nodes)
    bits.append(f"{vmas} VMA{'s' if vmas > 1 else ''}" if vmas else "no memory mapped yet")
    pages = sum(n["kind"] == "page" for n in nodes)
    if pages:
        bits.append(f"{pages} page{'s' if pages > 1 else ''}")
    return ", ".join(bits)


def step_words(before: dict | None, frame: dict | None, command: str | None) -> str:
    """What the step changed in the diagram, in words, after the command."""
    head = f"{command}: " if command else ""
    if frame is None:
        return head.rstrip(": ")
    if before is None:
        return f"{head}the start: {start_words(frame)}"
    old = {n["id"]: n for n in before.get("nodes", ())}
    now = {n["id"] for n in frame.get("nodes", ())}
    parts = []
    for n in frame.get("nodes", ()):
        if n.get("kind") == "legend":
            continue
        o = old.get(n["id"])
        said = _changed(o, n) if o is not None else _new(n)
        if said:
            parts.append(said)
    for n in before.get("nodes", ()):
        if n["id"] not in now and n.get("kind") != "legend":
            parts.append(f"{id_words(n['id'])} is gone")
    if not parts:
        return f"{head}nothing in the diagram changed"
    return head + "; ".join(parts)
