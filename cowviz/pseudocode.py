"""The code panel's data: per-era pseudocode of the kernel functions, in our own words.

Each file in cowviz/eras/code/ is one function in one era form, named
`<function>.<form>.txt`:

    # do_wp_page, Linux <= 5.8: reuse decided by the mapcount     (a title line)
    eras: 5.7 5.8                                                  (the eras this form is for)
    file: mm/memory.c                                              (where the function lives)
    caller: handle_mm_fault                                        (for the breadcrumb; optional)
    checked: 5.7 v5.7.14 mm/memory.c:do_wp_page mm/swapfile.c:reuse_swap_page
    checked: 5.8 v5.8.1 mm/memory.c:do_wp_page  (a note, optional)
    ---

`checked:` records, once for every era of the form, the kernel tree its lines were read
against (the tag of that tree) and the file:function definitions read there, with an
optional note in parentheses (a tree that is not the era's release, say, and what stood in).
    if page is anonymous:
        if reuse_swap_page(page):  @reuse_swap_page  page_mapcount(page) == {mapcount}

A line that is one of the kernel's decision points ends with `@id` (two
spaces before it) and, optionally, two spaces and a template of the values
the test saw, written with the names of the engine's Decision.seen, and
`  => if true | if false`: what follows from the Decision's answer.  The
engine reports (function, line id, values, answer); the words live here.
Kernel code is GPL: every line is a paraphrase, never a copy.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

CODE_DIR = os.path.join(os.path.dirname(__file__), "eras", "code")

# The public source browser the panel links to (a link only; the page loads nothing from it).
SOURCE_BROWSER = "https://elixir.bootlin.com/linux/{tag}/C/ident/{fn}"

_MARK = re.compile(r"^(?P<code>.*?\S)\s{2,}@(?P<id>[a-z_0-9]+)(?:\s{2,}(?P<seen>[^=\s].*?))?"
                   r"(?:\s{2,}=>\s*(?P<yes>[^|]*?)\s*\|\s*(?P<no>.*?))?\s*$")


@dataclass(frozen=True)
class Line:
    text: str
    indent: int
    id: str | None = None
    seen: str | None = None         # the template of the values this test saw
    outcome: tuple | None = None    # what follows from the answer: (if true, if false)


_CHECK = re.compile(r"^(?P<era>\S+)\s+(?P<tag>v\d+\.\d+(?:\.\d+)?(?:-rc\d+)?)"
                    r"(?P<refs>(?:\s+[\w./-]+\.[ch]:[A-Za-z_]\w*)+)\s*(?:\((?P<note>.+)\))?$")


_REF = re.compile(r"([\w./-]+\.[ch]):([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Check:
    """What one era's form was read against: a tree's tag and (file, function) pairs."""
    era: str
    tag: str
    refs: tuple            # ((file, function), ...)
    note: str = ""


@dataclass(frozen=True)
class Form:
    fn: str
    form: str
    title: str
    eras: tuple
    file: str
    caller: str | None
    lines: tuple = field(default=())
    checked: tuple = field(default=())     # Check, one per era

    def line(self, line_id: str) -> Line | None:
        return next((ln for ln in self.lines if ln.id == line_id), None)


class PseudocodeError(ValueError):
    pass


def parse(text: str, name: str) -> Form:
    """One pseudocode file; `name` is its file name (`fn.form.txt`)."""
    fn, form = name[:-len(".txt")].split(".", 1)
    head, sep, body = text.partition("\n---\n")
    if not sep:
        raise PseudocodeError(f"{name}: no '---' line between the header and the code")
    title, meta, checked = "", {}, []
    for raw in head.splitlines():
        if raw.startswith("#"):
            title = raw.lstrip("# ").strip()
        elif raw.strip():
            key, colon, value = raw.partition(":")
            if not colon:
                raise PseudocodeError(f"{name}: header line {raw!r} is not 'key: value'")
            if key.strip() == "checked":
                m = _CHECK.match(value.strip())
                if not m:
                    raise PseudocodeError(f"{name}: 'checked: {value.strip()}' is not "
                                          f"'<era> v<tag> <file>:<function>... (note)'")
                refs = tuple(_REF.findall(m["refs"]))
                checked.append(Check(m["era"], m["tag"], refs, m["note"] or ""))
                continue
            meta[key.strip()] = value.strip()
    for key in ("eras", "file"):
        if key not in meta:
            raise PseudocodeError(f"{name}: the header has no {key}:")
    lines = []
    for raw in body.rstrip("\n").splitlines():
        if not raw.strip():
            continue
        stripped = raw.lstrip(" ")
        indent = (len(raw) - len(stripped)) // 4
        m = _MARK.match(stripped)
        if m:
            outcome = (m["yes"], m["no"]) if m["yes"] is not None else None
            lines.append(Line(m["code"], indent, m["id"], m["seen"], outcome))
        else:
            lines.append(Line(stripped.rstrip(), indent))
    ids = [ln.id for ln in lines if ln.id]
    if len(ids) != len(set(ids)):
        raise PseudocodeError(f"{name}: a line id is used twice")
    return Form(fn, form, title, tuple(meta["eras"].split()), meta["file"], meta.get("caller"), tuple(lines),
                tuple(checked))


def load_all(directory: str = CODE_DIR) -> dict[tuple[str, str], Form]:
    """Every form, by (function, era).  Two forms of one function for one era are an error."""
    out: dict[tuple[str, str], Form] = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".txt"):
            continue
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            form = parse(f.read(), name)
        for era in form.eras:
            if (form.fn, era) in out:
                raise PseudocodeError(f"{name}: {form.fn} already has a form for era {era} "
                                      f"({out[form.fn, era].form})")
            out[form.fn, era] = form
    return out


_FORMS: dict | None = None


def forms() -> dict[tuple[str, str], Form]:
    global _FORMS
    if _FORMS is None:
        _FORMS = load_all()
    return _FORMS


def form_for(fn: str, era: str) -> Form | None:
    return forms().get((fn, era))


class _Shown:
    """A value as the panel writes it: booleans as true/false, or 1/0 with the `d` format."""
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def __format__(self, spec):
        if self.v is None:
            return "not asked"
        if isinstance(self.v, bool):
            return format(int(self.v), spec) if spec == "d" else ("true" if self.v else "false")
        return format(self.v, spec)


def render_seen(line: Line, seen: tuple) -> str | None:
    """The values a decision saw, in the words of its line's template."""
    if line.seen is None:
        return None
    return line.seen.format(**{k: _Shown(v) for k, v in seen})


def source_url(fn: str, era_obj) -> str:
    """A link to the function at the tagged release whose names the era uses."""
    return SOURCE_BROWSER.format(tag="v" + era_obj.names_at, fn=fn)


def call_path(fn: str, era: str) -> list[str]:
    """The breadcrumb: the callers of `fn` in this era's forms, outermost first, then fn."""
    path = [fn]
    form = form_for(fn, era)
    while form is not None and form.caller and form.caller not in path and len(path) < 12:
        path.insert(0, form.caller)
        form = form_for(form.caller, era)
    return path


# Tests made for every PTE, every copy, every lookup or every fork: the breadcrumb follows another
# decision when there is one.  Line id -> the answers that are routine.
ROUTINE = {"wrprotect": (True, False), "prealloc": (True, False), "follow_write": (True, False),
           "reuse_anon_vma": (False,)}


def is_routine(d) -> bool:
    return d.answer in ROUTINE.get(d.line, ())


def step_code(events, era_obj) -> dict:
    """The code panel for one step under one era: the functions it passed through, in order, each
    in its era form, with the lines that decided lit and their values; the breadcrumb of the last
    decision (or the last event)."""
    era = era_obj.id
    order: list[str] = []
    lit: dict[str, dict[str, dict]] = {}
    last = routine = None
    for e in events:
        for d in getattr(e, "decisions", ()):
            if d.fn not in order:
                order.append(d.fn)
            # A test made many times in one step (a fork of many pages): its first time is shown.
            lit.setdefault(d.fn, {}).setdefault(d.line, {"seen": d.seen, "answer": d.answer})
            if is_routine(d):
                routine = d.fn
            else:
                last = d.fn
        if e.fn not in order:
            order.append(e.fn)
    fns = []
    for fn in order:
        form = form_for(fn, era)
        if form is None:
            continue
        lines = []
        for ln in form.lines:
            hit = lit.get(fn, {}).get(ln.id) if ln.id else None
            lines.append({"text": ln.text, "indent": ln.indent, "id": ln.id,
                          "lit": hit is not None,
                          "seen": render_seen(ln, hit["seen"]) if hit else None,
                          "answer": hit["answer"] if hit else None,
                          "outcome": (ln.outcome[0] if hit["answer"] else ln.outcome[1])
                          if hit and ln.outcome and hit["answer"] is not None else None})
        fns.append({"fn": fn, "form": form.form, "title": form.title, "file": form.file,
                    "href": source_url(fn, era_obj), "decided": fn in lit, "lines": lines})
    last = last or routine
    anchor = last or next((f["fn"] for f in reversed(fns)), None)
    return {"path": call_path(anchor, era) if anchor else [], "decided": last, "fns": fns,
            "tag": "v" + era_obj.names_at}
