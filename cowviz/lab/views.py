"""What one step looks like from outside, for the model and for the kernel alike, and the comparison.

A View holds what pagemap can tell about every page of every live task:

    result      what the command returned ("ok", a value read, an error), or None when not compared
    tasks       the live tasks
    vmas        "P buf" -> does a VMA cover that range now?
    pages       "P buf[0]" -> PageView(present, frame, exclusive)
    moved       pages that were present before this step and now map another frame
    stayed      pages that were present before this step and still map the same frame

Pages are named by the tasks that share an address space ("P/T buf[0]" when T is
a thread of P), the VMA and the index, in the order the scenario created them.

Frames.  The model numbers its pages (pfn 1, 2, ...; 0 is the zero page); the
kernel shows real PFNs, to root only.  The numbers themselves never match, so
what is compared is the sharing classes they induce: which pages map the same
frame, which map the zero page, and which moved to another frame this step.

    model:  P buf[0] -> page 3, C buf[0] -> page 3, C buf[1] -> page 0 (zero)
    kernel: P buf[0] -> pfn 0x1507e6, C buf[0] -> pfn 0x1507e6, C buf[1] -> pfn 0x3b34 (zero)
    both:   P buf[0]=C buf[0]; zero: C buf[1]

"Exclusive" is pagemap bit 56, which Linux sets when exactly one PTE maps the
page (page_mapcount() == 1).  It is not PG_anon_exclusive: for the model it is
read from the page's mapcount, and the zero page never has it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import linux

ZERO = "zero"


@dataclass(frozen=True)
class PageView:
    present: bool
    frame: str | None = None          # ZERO, "page 7" (model), "pfn 0x1a2b" (kernel); None if unseen
    exclusive: bool | None = None     # None: not known


ABSENT = PageView(False)


@dataclass(frozen=True)
class View:
    result: str | None
    tasks: tuple
    vmas: dict
    pages: dict
    frames_visible: bool = True
    moved: frozenset = frozenset()
    stayed: frozenset = frozenset()

    def present(self) -> list[str]:
        return [k for k, p in self.pages.items() if p.present]

    def frame_of(self, key: str) -> str | None:
        p = self.pages.get(key)
        return p.frame if p is not None and p.present else None

    def classes(self, keys=None) -> list[tuple[str, list[str]]]:
        """The sharing classes: (frame, pages mapping it), in page order; only over `keys` if given."""
        groups: dict[str, list[str]] = {}
        for key, p in self.pages.items():
            if p.present and p.frame is not None and (keys is None or key in keys):
                groups.setdefault(p.frame, []).append(key)
        return list(groups.items())

    def to_json(self) -> dict:
        return {"result": self.result, "tasks": list(self.tasks), "vmas": dict(self.vmas),
                "pages": {k: {"present": p.present, "frame": p.frame, "exclusive": p.exclusive}
                          for k, p in self.pages.items()},
                "frames_visible": self.frames_visible,
                "moved": sorted(self.moved, key=list(self.pages).index),
                "classes": [keys for _frame, keys in self.classes()],
                "zero": next((keys for frame, keys in self.classes() if frame == ZERO), [])}


@dataclass(frozen=True)
class Group:
    """The live tasks that share one address space, and the VMA names it knows (name, pages)."""
    label: str
    task: str
    vmas: tuple = field(default=())


def groups_of(names, live) -> list[Group]:
    """Group the live tasks by address space, using the scenario's own name bookkeeping."""
    by_mm: dict[int, list[str]] = {}
    for task, mm in names.tasks.items():
        if task in live:
            by_mm.setdefault(mm, []).append(task)
    return [Group("/".join(tasks), tasks[0], tuple((n, v.pages) for n, v in names.mms[mm].items()))
            for mm, tasks in by_mm.items()]


def _with_motion(view: View, previous: View | None) -> View:
    if previous is None:
        return view
    moved, stayed = set(), set()
    for key, p in view.pages.items():
        before = previous.pages.get(key)
        if p.present and before is not None and before.present and p.frame and before.frame:
            (stayed if p.frame == before.frame else moved).add(key)
    return View(view.result, view.tasks, view.vmas, view.pages, view.frames_visible,
                frozenset(moved), frozenset(stayed))


def model_view(snapshot, names, result: str | None, previous: View | None = None,
               frames_visible: bool = True) -> View:
    """What the model's snapshot says pagemap should show (to a reader who sees frames, or not)."""
    live = tuple(t.name for t in snapshot.tasks)
    vmas, pages = {}, {}
    for g in groups_of(names, live):
        for name, npages in g.vmas:
            v = snapshot.vma(g.task, name)
            vmas[f"{g.label} {name}"] = v is not None
            for i in range(npages):
                pte = v.ptes[i] if v is not None and i < len(v.ptes) else None
                key = f"{g.label} {name}[{i}]"
                if pte is None:
                    pages[key] = ABSENT
                elif pte.special:
                    pages[key] = PageView(True, ZERO, False)
                else:
                    page = snapshot.page(pte.pfn)
                    pages[key] = PageView(True, f"page {pte.pfn}", page.mapcount == 1)
    return _with_motion(View(result, live, vmas, pages, frames_visible), previous)


def kernel_view(raw: dict, groups: list[Group], live, zero_pfn: int | None, result: str | None,
                previous: View | None = None) -> View:
    """What pagemap showed: `raw` maps (label, vma) to pagemap entries, or None where no VMA is."""
    frames_visible = zero_pfn is not None
    vmas, pages = {}, {}
    for g in groups:
        for name, npages in g.vmas:
            entries = raw.get((g.label, name))
            vmas[f"{g.label} {name}"] = entries is not None
            for i in range(npages):
                key = f"{g.label} {name}[{i}]"
                e = entries[i] if entries is not None else 0
                if not e & linux.PM_PRESENT:
                    pages[key] = ABSENT
                    continue
                pfn = e & linux.PM_PFN_MASK
                frame = None
                if frames_visible:
                    frame = ZERO if pfn == zero_pfn else f"pfn {pfn:#x}"
                pages[key] = PageView(True, frame, bool(e & linux.PM_EXCLUSIVE))
    return _with_motion(View(result, tuple(live), vmas, pages, frames_visible), previous)


def assert_result(cmd, view: View) -> str | None:
    """Evaluate an `assert` on a view: "holds", "fails", or None when pagemap cannot show it."""
    c = cmd.args
    key = f"{_label_of(view, c.task)} {c.vma}[{c.index}]"
    if c.check == "unmapped":
        return "holds" if not view.pages.get(key, ABSENT).present else "fails"
    if c.check in ("same-page", "different-page") and view.frames_visible:
        o = c.other
        a = view.frame_of(key)
        b = view.frame_of(f"{_label_of(view, o.task)} {o.vma}[{o.index}]")
        same = a is not None and a == b
        return "holds" if same == (c.check == "same-page") else "fails"
    return None


def _label_of(view: View, task: str) -> str:
    """The page-name prefix of a task: its own name, or the threads it shares an mm with."""
    for key in view.vmas:
        label = key.split(" ", 1)[0]
        if task in label.split("/"):
            return label
    return task


# -- comparing ------------------------------------------------------------------------

def compare(model: View, kernel: View) -> list[str]:
    """Every way the kernel's view differs from the model's; empty when they agree."""
    diffs = []
    if model.result is not None and kernel.result is not None and model.result != kernel.result:
        diffs.append(f"the command gave {model.result} in the model, {kernel.result} in the kernel")
    if set(model.tasks) != set(kernel.tasks):
        diffs.append(f"live tasks: {', '.join(model.tasks) or 'none'} in the model, "
                     f"{', '.join(kernel.tasks) or 'none'} in the kernel")
    for key in _union(model.vmas, kernel.vmas):
        m, k = model.vmas.get(key, False), kernel.vmas.get(key, False)
        if m != k:
            diffs.append(f"{key} is {'mapped' if m else 'not mapped'} in the model, "
                         f"{'mapped' if k else 'not mapped'} in the kernel")
    both = []
    for key in _union(model.pages, kernel.pages):
        m, k = model.pages.get(key, ABSENT), kernel.pages.get(key, ABSENT)
        if m.present != k.present:
            diffs.append(f"{key} is {'present' if m.present else 'not present'} in the model, "
                         f"{'present' if k.present else 'not present'} in the kernel")
        elif m.present:
            both.append(key)
            if k.exclusive is not None and m.exclusive != k.exclusive:
                diffs.append(f"{key} is {_excl(m.exclusive)} in the model, {_excl(k.exclusive)} "
                             f"in the kernel")
    if kernel.frames_visible and model.frames_visible:
        shown = set(both)
        mc, kc = _partition(model, shown), _partition(kernel, shown)
        if mc != kc:
            diffs.append(f"frames: {describe_frames(model, shown)} in the model, "
                         f"{describe_frames(kernel, shown)} in the kernel")
        comparable = (model.moved | model.stayed) & (kernel.moved | kernel.stayed) & shown
        for key in [k for k in both if k in comparable]:
            if (key in model.moved) != (key in kernel.moved):
                diffs.append(f"{key} {'moved to a new frame' if key in model.moved else 'kept its frame'} "
                             f"in the model, {'moved to a new frame' if key in kernel.moved else 'kept its frame'} "
                             f"in the kernel")
    return diffs


def _excl(flag: bool) -> str:
    return "mapped exclusively" if flag else "not mapped exclusively"


def _union(a: dict, b: dict) -> list[str]:
    return list(a) + [k for k in b if k not in a]


def _partition(view: View, keys) -> set:
    return {(frozenset(members), frame == ZERO) for frame, members in view.classes(keys)}


# -- describing --------------------------------------------------------------------------

def describe_frames(view: View, keys=None) -> str:
    """Sharing classes as text: `P buf[0]=C buf[0], C buf[1] (new), zero: P buf[2]`."""
    if not view.frames_visible:
        parts = [f"{k}{' excl' if view.pages[k].exclusive else ''}"
                 for k in view.present() if keys is None or k in keys]
        return ", ".join(parts) or "nothing present"
    parts, zero = [], None
    for frame, members in view.classes(keys):
        text = "=".join(m + (" (new)" if m in view.moved else "") for m in members)
        if frame == ZERO:
            zero = text
        else:
            parts.append(text)
    if zero:
        parts.append(f"zero: {zero}")
    return ", ".join(parts) or "nothing present"


def describe(view: View) -> str:
    """A table cell: the result, the sharing classes and the VMAs that are missing."""
    parts = []
    if view.result is not None:
        parts.append(view.result)
    parts.append(describe_frames(view))
    missing = [k for k, mapped in view.vmas.items() if not mapped]
    if missing:
        parts.append("no " + ", ".join(missing))
    return "; ".join(parts)
