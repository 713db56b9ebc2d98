"""What the inspector shows for each object of a snapshot, ready to display.

The browser holds no kernel logic, so everything the inspector needs is
worked out here from the snapshot: the fields of each object in kernel
terms, links to related objects, and for a page the rmap walk.

The rmap walk, as rmap_walk_anon() does it: start at the page's anon_vma
and visit every VMA linked into it (its anon_vma_chain entries); a mapping
of the page by a PTE of a VMA that is *not* linked there is one the kernel
cannot find (it cannot unmap it, migrate it or age it).  We list both sides:
every PTE in the snapshot that holds the page's pfn, each marked with whether
the walk reaches it, and every VMA the walk visits.

    {"id": "page:2", "kind": "page", "title": "page 2 (anonymous)",
     "fields": [[label, value, note-or-null], ...],
     "links": [[label, id], ...],
     "rmap": {"anon_vma": "anon_vma:1" | null,
              "mappings": [{"pte", "vma", "task", "index", "address", "write", "found"}],
              "visited": [{"vma", "maps": bool}],
              "note": str}}                      # only for pages
"""
from __future__ import annotations

from .. import ids
from ..eras import get_era
from ..eras.names import maybe_pinned_test
from ..mm.snapshot import Snapshot
from ..mm.types import GUP_PIN_COUNTING_BIAS, PAGE_SIZE


def _yn(b) -> str:
    return "yes" if b else "no"


def _grouped(items, key=lambda item: item) -> list:
    """Equal items counted, in first-seen order: a holder with 1023 equal references is one line.

    Items are compared by `key`, which must be small (ids and flags): keying by a snapshot tuple
    that holds every reference would make each lookup as long as the state, and the whole O(n^2)."""
    counts: dict = {}
    first: dict = {}
    for item in items:
        k = key(item)
        if k not in counts:
            counts[k] = 0
            first[k] = item
        counts[k] += 1
    return [(first[k], n) for k, n in counts.items()]


class Inspector:
    """Builds inspector entries for one snapshot (indexes it once)."""

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self.vmas = {v.id: v for mm in snap.mms for v in mm.vmas}
        self.mms = {m.id: m for m in snap.mms}
        self.pages = {p.id: p for p in snap.pages}
        self.anon_vmas = {a.id: a for a in snap.anon_vmas}
        self.holders = {h.id: h for h in snap.holders}
        self.memcgs = {m.id: m for m in snap.memcgs}
        self.tasks = {ids.task(t.name): t for t in snap.tasks}
        # Who maps each pfn, in address order: the raw material of the rmap answer.
        self.mapped_by: dict[int, list] = {}
        for v in self.vmas.values():
            for i, pte in enumerate(v.ptes):
                if pte is not None:
                    self.mapped_by.setdefault(pte.pfn, []).append((v, i, pte))
        self.holders_of: dict[str, list] = {}
        self.filed: dict[str, list] = {}          # anon_vma id -> ids of the pages filed there
        for p in snap.pages:
            if p.anon_vma:
                self.filed.setdefault(p.anon_vma, []).append(p.id)
        for h in snap.holders:
            for r in h.refs:
                self.holders_of.setdefault(r.page, []).append((h, r))

    # -- everything ----------------------------------------------------------------------

    def all(self) -> dict:
        """An entry for every object, and for every present PTE."""
        out = {}
        for ident in [*self.tasks, *self.mms, *self.vmas, *self.pages, *self.anon_vmas,
                      *self.holders, *self.memcgs]:
            out[ident] = self.describe(ident)
        for v in self.vmas.values():
            for i, pte in enumerate(v.ptes):
                if pte is not None:
                    ident = ids.pte_in(v.id, i)
                    out[ident] = self.describe(ident)
        return out

    def describe(self, ident: str) -> dict | None:
        """The entry for one id (a PTE run `pte:P:buf:0-7` included), or None if it is not in the snapshot."""
        kind = ids.kind(ident)
        fn = getattr(self, f"_{kind}", None)
        return fn(ident) if fn is not None else None

    # -- one kind each ---------------------------------------------------------------------

    def _task(self, ident):
        t = self.tasks.get(ident)
        if t is None:
            return None
        mm = self.mms.get(t.mm)
        fields = [["name", t.name, None], ["mm", t.mm, "threads share one mm" if mm and len(mm.users) > 1 else None]]
        links = [["mm_struct", t.mm]]
        if mm is not None:
            fields.append(["memcg", mm.memcg, None])
            links.append(["memcg", mm.memcg])
        return {"id": ident, "kind": "task", "title": f"task {t.name}", "fields": fields, "links": links}

    def _mm(self, ident):
        m = self.mms.get(ident)
        if m is None:
            return None
        if m.has_pinned_name is None:
            pinned = ["pinned flag", "none in this era", "this kernel keeps no per-mm record of pins"]
        else:
            pinned = [m.has_pinned_name, _yn(m.has_pinned),
                      "set once a page of this mm was pinned; fork only checks pages for pins when it is set"]
        fields = [["owner", m.owner, None],
                  ["users", ", ".join(map(ids.name, m.users)) or "none", None],
                  pinned,
                  ["map_count", m.map_count, "number of VMAs"],
                  ["memcg", m.memcg, None]]
        links = [[f"VMA {v.name}", v.id] for v in m.vmas] + [[f"task {ids.name(u)}", u] for u in m.users]
        return {"id": ident, "kind": "mm", "title": f"mm_struct of {m.owner}", "fields": fields, "links": links}

    def _vma(self, ident):
        v = self.vmas.get(ident)
        if v is None:
            return None
        present = sum(p is not None for p in v.ptes)
        fields = [["range", f"{v.vm_start:#x}-{v.vm_end:#x}", f"{len(v.ptes)} pages"],
                  ["prot", v.prot, None],
                  ["mapping", "shared" if v.shared else "private", None],
                  ["vm_flags", " ".join(v.flags) or "none", None],
                  ["PTEs present", f"{present} of {len(v.ptes)}", None],
                  ["anon_vma", v.anon_vma or "none yet", "where this VMA files the anonymous pages it allocates"],
                  ["anon_vma_chain", ", ".join(v.anon_vma_chain) or "empty",
                   "every anon_vma this VMA is linked into, newest first"]]
        links = [["mm_struct", v.mm]] + [[a, a] for a in v.anon_vma_chain]
        return {"id": ident, "kind": "vma", "title": f"VMA {v.name} of {ids.name(v.mm)}",
                "fields": fields, "links": links}

    def _pte(self, ident):
        r = ids.parse(ident)
        if r is None:
            return None
        vma = self.vmas.get(ids.vma(r.owner, r.name))
        if vma is None:
            return None
        lo, hi = r.first, r.last
        if not 0 <= lo <= hi < len(vma.ptes):
            return None
        rows = [self._pte_fields(vma, i) for i in range(lo, hi + 1)]
        title = f"PTE {vma.name}[{lo}]" if lo == hi else f"PTEs {vma.name}[{lo}-{hi}]"
        links = [["VMA", vma.id]]
        for i in range(lo, hi + 1):
            p = vma.ptes[i]
            if p is not None and [f"page {p.pfn}", ids.page(p.pfn)] not in links:
                links.append([f"page {p.pfn}" if p.pfn else "zero page", ids.page(p.pfn)])
        entry = {"id": ident, "kind": "pte", "title": f"{title} of {ids.name(vma.mm)}",
                 "fields": rows[0] if lo == hi else [], "links": links}
        if lo != hi:
            entry["rows"] = [{"index": i, "fields": f} for i, f in zip(range(lo, hi + 1), rows)]
        return entry

    def _pte_fields(self, vma, i):
        p = vma.ptes[i]
        addr = f"{vma.vm_start + i * PAGE_SIZE:#x}"
        if p is None:
            return [["address", addr, None], ["present", "no", "the first touch will fault"]]
        return [["address", addr, None],
                ["present", "yes", None],
                ["pfn", "0 (the zero page)" if p.special else p.pfn, None],
                ["write", "writable" if p.write else "write-protected",
                 None if p.write else "a write faults into do_wp_page()"],
                ["dirty", _yn(p.dirty), None],
                ["special", _yn(p.special), "vm_normal_page() returns NULL: no refcount, no rmap" if p.special else None]]

    def _page(self, ident):
        p = self.pages.get(ident)
        if p is None:
            return self._page_run(ident)
        if p.kind == "zero":
            fields = [["pfn", 0, None], ["kind", "the shared zero page", "read faults map it read-only; it is never counted"]]
            return {"id": ident, "kind": "page", "title": "the zero page", "fields": fields,
                    "links": self._mapping_links(p.pfn), "rmap": self.rmap(p)}
        fields = [["pfn", p.pfn, None],
                  ["kind", {"anon": "anonymous", "shmem": "shared memory (shmem)"}.get(p.kind, p.kind), None],
                  ["data", p.data, None],
                  ["page_count()", p.refcount, "_refcount: mappings + GUP references + pins × 1024"],
                  ["page_mapcount()", p.mapcount, "how many PTEs map it"],
                  ["pins (refcount / 1024)", p.pins, f"a pin adds {GUP_PIN_COUNTING_BIAS}: this is a guess"],
                  [f"{maybe_pinned_test(get_era(self.snap.era).names_at)}()", _yn(p.maybe_pinned),
                   "refcount >= 1024; over 1024 plain references look like a pin too"],
                  ["PG_anon_exclusive", "not tracked in this era" if p.exclusive is None else _yn(p.exclusive), None],
                  ["anon_vma", p.anon_vma or "none", "page->mapping: where the rmap walk starts"],
                  ["index", p.index, "page->index"],
                  ["memcg", p.memcg or "none", "charged to"]]
        links = []
        if p.anon_vma:
            links.append(["anon_vma", p.anon_vma])
        links += self._mapping_links(p.pfn)
        for (h, r), n in _grouped(self.holders_of.get(ident, []), key=lambda hr: (hr[0].id, hr[1])):
            how = ("FOLL_PIN pin" if r.pin else "FOLL_GET reference (not a pin)") + (f" × {n}" if n > 1 else "")
            fields.append([f"held by {h.name}", how + (", write" if r.write else "") + (", longterm" if r.longterm else ""),
                           f"taken through {r.task} {r.vma}[{r.index}]"])
            if [f"{h.kind} {h.name}", h.id] not in links:
                links.append([f"{h.kind} {h.name}", h.id])
        return {"id": ident, "kind": "page", "title": f"page {p.pfn} ({fields[1][1]})", "fields": fields,
                "links": links, "rmap": self.rmap(p)}

    def _page_run(self, ident):
        """A collapsed run of pages (`page:8-15`, as the diagram draws alike pages): one row per page."""
        r = ids.parse(ident)
        if r is None or r.first == r.last:
            return None
        first, last = r.first, r.last
        pages = [self._page(ids.page(pfn)) for pfn in range(first, last + 1)]
        pages = [e for e in pages if e is not None]
        if not pages:
            return None
        return {"id": ident, "kind": "page", "title": f"pages {first}-{last} ({len(pages)} alike pages)",
                "fields": [], "rows": [{"index": e["fields"][0][1], "fields": e["fields"]} for e in pages],
                "links": [[f"page {e['fields'][0][1]}", e["id"]] for e in pages]}

    def _mapping_links(self, pfn):
        return [[f"PTE {ids.name(v.mm)} {v.name}[{i}]", ids.pte_in(v.id, i)]
                for v, i, _ in self.mapped_by.get(pfn, [])]

    def _anon_vma(self, ident):
        a = self.anon_vmas.get(ident)
        if a is None:
            return None
        pages = self.filed.get(ident, [])
        fields = [["root", a.root, "the oldest ancestor; its lock guards the whole tree"],
                  ["parent", a.parent, None],
                  ["refcount", a.refcount, None],
                  ["num_children", a.num_children, None],
                  ["num_active_vmas", a.num_active_vmas, None],
                  ["degree", a.degree, None],
                  ["VMAs linked (AVCs)", ", ".join(f"{ids.owner(v)}:{ids.name(v)}" for v in a.vmas) or "none",
                   "the rmap walk of a page filed here visits exactly these VMAs"],
                  ["pages filed here", ", ".join(map(ids.name, pages)) or "none", None]]
        links = [["root", a.root], ["parent", a.parent]] + [[v, v] for v in a.vmas] + [[p, p] for p in pages]
        return {"id": ident, "kind": "anon_vma", "title": f"anon_vma {ids.name(ident)}",
                "fields": fields, "links": links}

    def _holder(self, ident):
        h = self.holders.get(ident)
        if h is None:
            return None
        fields = [["kind", "pipe (vmsplice: FOLL_GET references)" if h.kind == "pipe" else "device", None]]
        links = []
        for r, n in _grouped(h.refs):
            how = ("FOLL_PIN" if r.pin else "FOLL_GET") + ("|FOLL_WRITE" if r.write else "") + \
                  ("|FOLL_LONGTERM" if r.longterm else "") + (f" × {n}" if n > 1 else "")
            page = f"page {ids.name(r.page)}"
            fields.append([page, how, f"taken through {r.task} {r.vma}[{r.index}]"])
            if [page, r.page] not in links:
                links.append([page, r.page])
        return {"id": ident, "kind": "holder", "title": f"{h.kind} {h.name}", "fields": fields, "links": links}

    def _memcg(self, ident):
        m = self.memcgs.get(ident)
        if m is None:
            return None
        fields = [["usage", f"{m.usage} pages", None], ["limit", "none" if m.limit is None else f"{m.limit} pages", None],
                  ["tasks", ", ".join(map(ids.name, m.tasks)) or "none", None]]
        return {"id": ident, "kind": "memcg", "title": f"memcg {m.name}", "fields": fields,
                "links": [[t, t] for t in m.tasks]}

    # -- the rmap walk -----------------------------------------------------------------------

    def rmap(self, p) -> dict:
        """Every PTE that maps the page, and whether rmap_walk_anon() would find each one."""
        av = self.anon_vmas.get(p.anon_vma) if p.anon_vma else None
        tree = set(av.vmas) if av is not None else set()
        mappings = []
        for v, i, pte in self.mapped_by.get(p.pfn, []):
            mappings.append({"pte": ids.pte_in(v.id, i), "vma": v.id, "task": ids.name(v.mm),
                             "index": i, "address": f"{v.vm_start + i * PAGE_SIZE:#x}", "write": pte.write,
                             "found": (v.id in tree) if p.kind == "anon" else None})
        visited = []
        if av is not None:
            mapping = {v.id for v, _, _ in self.mapped_by.get(p.pfn, [])}
            for vid in av.vmas:
                visited.append({"vma": vid, "maps": vid in mapping})
        if p.kind == "zero":
            note = "The zero page is special: the rmap never tracks it, so nothing is found by a walk."
        elif p.kind != "anon":
            note = "A shmem page is found through its file's mapping tree, which is not drawn here."
        elif av is None:
            note = "The page has no anon_vma: no walk is possible."
        else:
            lost = [m for m in mappings if not m["found"]]
            note = (f"The walk starts at {p.anon_vma} and visits {len(visited)} VMA"
                    f"{'' if len(visited) == 1 else 's'}; it finds {len(mappings) - len(lost)} of the "
                    f"{len(mappings)} PTE{'' if len(mappings) == 1 else 's'} that map the page.")
            if lost:
                note += " The others are invisible to rmap: the page cannot be unmapped or migrated there."
        return {"anon_vma": p.anon_vma, "mappings": mappings, "visited": visited, "note": note}
