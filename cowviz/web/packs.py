"""Packs: every step of a walkthrough under one era, in one cacheable file, named by its content.

    pack_of(library, frames, name, era) -> Pack     made once per walkthrough x era (on its Prepared)
    bp                                           GET /pack/ERA/NAME.json[?v=HASH]

A classroom room's followers draw the presenter's steps from the pack, so a step sent to the room
is one small message (the room's state, docs/web.md "Rooms") however many follow: nothing per
follower is made or sent.  The pack holds, per step, the pane as the player's `step` reply has it
(`shown`), and for a step with a question also the pane that holds the outcome back (`held`):

    {"v": 1, "name", "era", "hash", "scenario": (as in `open`), "timeline": (as in `open`),
     "steps": [{"shown": pane, "held": pane | null}, ... for steps 0..N]}

`hash` is the first 16 hex digits of the SHA-256 of the pack made with "hash": "" (so any change of
the walkthrough, the engine or the layout makes another name).  The room's messages give the URL
with `?v=HASH`: that response may be cached for good (Cache-Control: immutable).  Without `v`, or
with another one (a second server process, a file edited since), the current pack is sent with
`no-cache` (kept, but checked again by its ETag).
Sent gzip-compressed when the browser accepts it (about 6-13 KB for a walkthrough's 80-210 KB).

A pack carries the answers of the walkthrough's questions, as the player's `step` with `reveal`
does for anyone: a question held back is a matter of the page, not a secret (docs/classroom.md).
"""
from __future__ import annotations

import gzip
import hashlib
import json

from flask import Blueprint, current_app, request

from .library import WebError
from .packets import cached_pane
from .wire import pane, scenario_info, timeline

bp = Blueprint("packs", __name__)

VERSION = 1


def walkthrough_pane(prepared, frames, step: int, held: bool):
    """One era's pane of `step`: the Pane every `step` reply and every pack shares (made once)."""
    from .session import scenario_info_intro
    frame_at = frames.walkthrough(prepared)
    return cached_pane(prepared, (step, held), lambda: pane(
        prepared.run, step, frame_at, held, intro=scenario_info_intro(prepared.scenario),
        objects=prepared.objects))


class Pack:
    """A pack's JSON text, its gzip bytes and its hash."""

    __slots__ = ("text", "gz", "hash")

    def __init__(self, text: str, digest: str):
        self.text = text
        self.hash = digest
        self.gz = gzip.compress(text.encode("utf-8"), 6, mtime=0)

    def url(self, name: str, era: str) -> str:
        return f"/pack/{era}/{name}.json?v={self.hash}"


def _j(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


def pack_of(library, frames, name: str, era: str) -> Pack:
    """The pack of walkthrough `name` under `era` (made on first use, then kept with its run).  WebError if none."""
    prepared = library.prepared(name, era)
    have = prepared.panes.get("pack")
    if have is not None:
        return have
    scenario = prepared.scenario
    info = cached_pane(prepared, "info", lambda: scenario_info(name, scenario))
    tl = cached_pane(prepared, "timeline", lambda: timeline(prepared.run))
    asks = [False] + [s.ask is not None for s in scenario.steps]
    steps = ",".join(
        '{"shown":' + walkthrough_pane(prepared, frames, i, False).json_text() + ',"held":'
        + (walkthrough_pane(prepared, frames, i, True).json_text() if asks[i] else "null") + "}"
        for i in range(len(prepared.run.steps) + 1))

    def text(digest):
        return (f'{{"v":{VERSION},"name":{_j(name)},"era":{_j(era)},"hash":{_j(digest)},'
                f'"scenario":{info.json_text()},"timeline":{tl.json_text()},"steps":[{steps}]}}')
    digest = hashlib.sha256(text("").encode("utf-8")).hexdigest()[:16]
    return prepared.panes.setdefault("pack", Pack(text(digest), digest))


def pack_urls(name: str, eras) -> dict:
    """{era: the pack's URL with its hash} for the eras a room shows (made now if need be)."""
    ext = current_app.extensions["cowviz"]
    return {era: pack_of(ext["library"], ext["frames"], name, era).url(name, era) for era in eras}


@bp.route("/pack/<era>/<path:name>.json")
def pack(era, name):
    ext = current_app.extensions["cowviz"]
    try:
        p = pack_of(ext["library"], ext["frames"], name, era)
    except WebError as e:
        return str(e) + "\n", 404, {"Content-Type": "text/plain; charset=utf-8"}
    etag = f'"{p.hash}"'
    fixed = request.args.get("v") == p.hash
    headers = {"Content-Type": "application/json", "ETag": etag, "Vary": "Accept-Encoding",
               "Cache-Control": "public, max-age=31536000, immutable" if fixed else "no-cache"}
    if etag in request.headers.get("If-None-Match", ""):
        return "", 304, headers
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        return p.gz, 200, {**headers, "Content-Encoding": "gzip"}
    return p.text, 200, headers
