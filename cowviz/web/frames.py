"""Diagram frames for the web: the bridge to cowviz.diagram (docs/diagram.md).

A walkthrough's frames come from layout_run(): the union layout of the whole
run, so an object that persists keeps its place and the browser only fades
and flashes.  The sandbox, whose future is unknown, has one HistoryLayouter
per connection (the union of its current history's states).  Frames travel as Frame.to_json().  Without Graphviz (or
without the diagram package) frames are None and the page says why.
"""
from __future__ import annotations

try:
    from ..diagram import GraphvizMissing, layout_run
    from ..diagram.history import HistoryLayouter
except ImportError:                       # the diagram package is not installed in this tree
    layout_run = HistoryLayouter = None

    class GraphvizMissing(Exception):
        pass

from .library import WebError


def wire_frame(frame) -> dict:
    """Frame.to_json() without the nodes' `attrs`: the browser draws from geometry, labels and
    classes, and the inspector has its own entries, so attrs would only weigh (a holder with a
    thousand references lists every one)."""
    out = frame.to_json()
    out["nodes"] = [{k: v for k, v in n.items() if k != "attrs"} for n in out["nodes"]]
    return out


class FrameSource:
    """Makes the diagram frames the panes carry; walkthrough frames are cached on their Prepared."""

    @property
    def available(self) -> bool:
        return layout_run is not None

    def walkthrough(self, prepared):
        """A function step -> frame JSON for a prepared walkthrough (laid out once, then cached)."""
        if prepared.frames is None:
            frames = [None] * (len(prepared.run.steps) + 1)
            if layout_run is not None:
                # One layout per run; a second thread asking for the same run meanwhile waits rather than
                # lays out again.  The lock is the run's own: layouts of different runs go on at once.
                with prepared.lock:
                    if prepared.frames is None:
                        try:
                            # The page draws its own key to the diagram, so the frames leave the legend out.
                            frames = [wire_frame(f) for f in layout_run(prepared.run, legend=False).frames]
                        except GraphvizMissing as e:
                            raise WebError(str(e)) from None
                        prepared.frames = frames
                    frames = prepared.frames
            else:
                prepared.frames = frames
        frames = prepared.frames
        return lambda i: frames[i]

    def frame_object(self, prepared, step: int):
        """The diagram Frame itself (for SVG and PNG export).  Layouts are cached by the diagram package."""
        if layout_run is None:
            raise WebError("diagrams are not available on this server")
        try:
            return layout_run(prepared.run).frames[step]
        except GraphvizMissing as e:
            raise WebError(str(e)) from None

    def sandbox(self, era: str) -> "SandboxFrames":
        """A per-connection layouter for the sandbox."""
        return SandboxFrames(era)


class SandboxFrames:
    """The sandbox's diagram: the union layout of the states of its current history (HistoryLayouter).

    The Sandbox tells it each state it adds (push), takes back (pop) or starts over with (reset),
    so the drawing depends only on the history: typed line by line, restored at once after a
    reload, or reached by an undo, the same history draws the same frame."""

    def __init__(self, era: str):
        self.era = era
        self.layouter = HistoryLayouter(era, legend=False) if HistoryLayouter is not None else None
        self._json = None

    def reset(self, era: str) -> None:
        self.era = era
        self.layouter = HistoryLayouter(era, legend=False) if HistoryLayouter is not None else None
        self._json = None

    def push(self, snapshot, events=(), caption: str = "") -> None:
        if self.layouter is not None:
            self.layouter.push(snapshot, events, caption)
            self._json = None

    def pop(self, last=None, before_last=None) -> None:
        if self.layouter is not None:
            self.layouter.pop(last, before_last)
            self._json = None

    def retell(self, last, before_last=None) -> None:
        """The last two states' events, put in words after they were pushed (HistoryLayouter.retell)."""
        if self.layouter is not None:
            self.layouter.retell(last, before_last)
            self._json = None

    def last_full(self) -> int | None:
        """The state the last one's drawing extends (laid out by Graphviz), None without one."""
        layouter = self.layouter
        return layouter.records[-1].base if layouter is not None and layouter.records else None

    def expect(self, index: int | None, early: int | None = None) -> None:
        """A replay follows: lay out the full states near `index` as soon as they are pushed
        (HistoryLayouter.expect; `early`: how many states before it, its default if None)."""
        if self.layouter is not None:
            self.layouter.expect(index, early)

    def objects(self) -> int | None:
        """How many objects the diagram keeps a place for (None without a diagram)."""
        return self.layouter.objects if self.layouter is not None else None

    def keep(self):
        """What put_back() needs to return to the drawing as it is now (an era switch that fails)."""
        return self.era, self.layouter, self._json

    def put_back(self, kept) -> None:
        self.era, self.layouter, self._json = kept

    def frame_json(self):
        """The frame JSON of the last state (laid out now if the history changed), or None."""
        if self.layouter is None:
            return None
        if self._json is None:
            try:
                frame = self.layouter.frame()
            except GraphvizMissing as e:
                raise WebError(str(e)) from None
            self._json = wire_frame(frame) if frame is not None else None
        return self._json

    def current(self, run):
        """A function step -> frame JSON that draws the run's last state (the only one the sandbox shows)."""
        last = len(run.steps)
        frame = self.frame_json()
        return lambda i: frame if i == last else None
