"""The result of a probe: one row per step, model beside kernel, and its JSON form.

Wire format (LabReport.to_json()):

    {"scenario": path | null, "title": str | null, "era": "6.x", "kernel": "6.18.4-...",
     "frames_visible": bool | null, "io_uring": str, "ok": bool, "error": str | null,
     "cannot_observe": [str], "counts": {"agree": n, "differ": n, "skipped": n, "unchecked": n, "error": n},
     "rows": [{"index": 1, "line": int | null, "command": "fork P C",
               "verdict": "agree" | "differ" | "skipped" | "unchecked" | "error",
               "agree": true | false | null, "model": str, "kernel": str,
               "differences": [str], "note": str | null,
               "model_view": View | null, "kernel_view": View | null}]}

    View: {"result": str | null, "tasks": [..], "vmas": {"P buf": bool},
           "pages": {"P buf[0]": {"present": bool, "frame": str | null, "exclusive": bool | null}},
           "frames_visible": bool, "moved": [page names], "classes": [[page names]], "zero": [page names]}

Verdicts: agree (everything pagemap shows matches the model), differ, skipped
(the command was not carried out for real), unchecked (carried out, but an
earlier skipped step left the machine in a state the model does not
describe), error (the probe stopped here).  The kernel's frames appear as
"frame 1", "frame 2", ... (numbered per report) unless to_json(pfns=True):
physical addresses are nobody's business but root's.
"""
from __future__ import annotations

import re
import shutil
import textwrap
from dataclasses import dataclass, field

from .views import View

AGREE, DIFFER, SKIPPED, UNCHECKED, ERROR = "agree", "differ", "skipped", "unchecked", "error"
VERDICTS = (AGREE, DIFFER, SKIPPED, UNCHECKED, ERROR)


@dataclass(frozen=True)
class LabRow:
    index: int
    command: str
    verdict: str
    model: str
    kernel: str
    differences: tuple = ()
    note: str | None = None
    model_view: View | None = None
    kernel_view: View | None = None
    line: int | None = None

    @property
    def agree(self) -> bool | None:
        """True or False where the step was compared, None where it was not."""
        return {AGREE: True, DIFFER: False}.get(self.verdict)


@dataclass
class LabReport:
    era: str
    kernel: str
    title: str | None = None
    path: str | None = None
    frames_visible: bool | None = None     # None until the probe has started
    io_uring: str = ""
    rows: list = field(default_factory=list)
    error: str | None = None
    cannot_observe: tuple = ()
    process_group: int | None = None      # the keeper's process group (all gone when the probe returns)

    @property
    def ok(self) -> bool:
        """Did the run finish with no step where the kernel differs from the model?"""
        return self.error is None and not any(r.verdict == DIFFER for r in self.rows)

    def counts(self) -> dict:
        return {v: sum(1 for r in self.rows if r.verdict == v) for v in VERDICTS}

    def summary(self) -> str:
        c = self.counts()
        text = (f"{c[AGREE]} agree, {c[DIFFER]} differ, {c[SKIPPED]} skipped"
                + (f", {c[UNCHECKED]} unchecked" if c[UNCHECKED] else ""))
        if self.error:
            text += f"; stopped: {self.error}"
        return text

    def table(self, width: int | None = None) -> str:
        """The agreement table, as text."""
        width = width or max(100, min(160, shutil.get_terminal_size((120, 24)).columns))
        head = f"{self.title or self.path or 'probe'}: model {self.era} vs Linux {self.kernel}"
        frames = {True: "compared (PFNs visible)", None: "not known (the probe did not start)",
                  False: "NOT visible (no CAP_SYS_ADMIN): presence and exclusive bit only"}
        lines = [head, "frames: " + frames[self.frames_visible]]
        cmd_w = min(30, max([len(r.command) for r in self.rows] + [7]))
        cell_w = max(20, (width - 4 - cmd_w - 10 - 8) // 2)
        lines.append(f"{'step':>4}  {'command':<{cmd_w}}  {'model':<{cell_w}}  {'kernel':<{cell_w}}  verdict")
        for r in self.rows:
            cmd = textwrap.wrap(r.command, cmd_w) or [""]
            model = wrap_cell(r.model, cell_w)
            kernel = wrap_cell(r.kernel, cell_w)
            for n in range(max(len(cmd), len(model), len(kernel))):
                lines.append(f"{str(r.index) if n == 0 else '':>4}  "
                             f"{_at(cmd, n):<{cmd_w}}  {_at(model, n):<{cell_w}}  "
                             f"{_at(kernel, n):<{cell_w}}  {r.verdict if n == 0 else ''}".rstrip())
            indent = " " * (6 + cmd_w + 2)
            for d in r.differences:
                lines.extend(textwrap.wrap(d, width - len(indent) - 2, initial_indent=indent + "! ",
                                           subsequent_indent=indent + "  "))
            if r.note:
                lines.extend(textwrap.wrap(r.note, width - len(indent) - 2, initial_indent=indent + "- ",
                                           subsequent_indent=indent + "  "))
        lines.append(self.summary())
        return "\n".join(lines)

    def to_json(self, pfns: bool = False) -> dict:
        """The report as JSON-ready data (see the module docstring)."""
        names: dict[str, str] = {}

        def frame(f):
            if pfns or f is None or not f.startswith("pfn "):
                return f
            return names.setdefault(f, f"frame {len(names) + 1}")

        def view(v: View | None, kernel: bool):
            if v is None:
                return None
            data = v.to_json()
            if kernel:
                for p in data["pages"].values():
                    p["frame"] = frame(p["frame"])
            return data

        return {
            "scenario": self.path, "title": self.title, "era": self.era, "kernel": self.kernel,
            "frames_visible": self.frames_visible, "io_uring": self.io_uring, "ok": self.ok,
            "error": self.error, "cannot_observe": list(self.cannot_observe), "counts": self.counts(),
            "rows": [{"index": r.index, "line": r.line, "command": r.command, "verdict": r.verdict,
                      "agree": r.agree, "model": r.model, "kernel": r.kernel,
                      "differences": list(r.differences), "note": r.note,
                      "model_view": view(r.model_view, False), "kernel_view": view(r.kernel_view, True)}
                     for r in self.rows],
        }


def wrap_cell(text: str, width: int) -> list[str]:
    """Wrap a cell after its separators (", ", "; ", "="), so a page name is never cut in two."""
    tokens = [t for t in re.findall(r".*?(?:[,;] |=|$)", text) if t]
    lines, cur = [], ""
    for token in tokens:
        if cur and len((cur + token).rstrip()) > width:
            lines.append(cur.rstrip())
            cur = ""
        cur += token
        while len(cur.rstrip()) > width:
            lines.append(cur[:width])
            cur = cur[width:]
    return lines + [cur.rstrip()] if cur.strip() or not lines else lines


def _at(lines: list, n: int) -> str:
    return lines[n] if n < len(lines) else ""
