"""The event vocabulary: every event tag, declared once.

Each tag says what kind of change an event made.  The engine only needs the names and their
meanings (an Event's `tag` is one of TAGS); the other columns are how every layer shows the tag,
and every layer reads them from here rather than keeping a copy:

    word      the tag in the player's event list and the timeline's tooltips ("COW copy")
    badge     the written highlight on a page or holder, in the export and the player ("COW COPY")
    letter    the timeline marker of a step with this tag (None: no marker)
    colour    a key of PALETTE: the highlight's border, fill and badge colours
    key       whether the key (the player's, the export's legend) gives the tag a row of its own

The order of TAG_LIST is the priority, most important first: when an object has several tags,
the first one is drawn and badged, and a step's timeline marker is its first tag with a letter.

This module is data only (no drawing code): cowviz/diagram/style.py turns it into Graphviz
attributes, cowviz/web/vocab.py into the page's stylesheet and boot data.
"""
from __future__ import annotations

from typing import NamedTuple


class Colour(NamedTuple):
    """A highlight's colours, as 6-digit hex (Graphviz 2.43 knows no other form).

    `stroke` draws the border and the edges, `fill` the box under black text, `badge` the badge's
    background under `badge_text`.  A dark stroke carries white badge text; a light badge (sky,
    orange, yellow) carries black text and keeps a darker stroke so the border still shows.
    `dashed` draws the highlighted border dashed (a FOLL_GET reference is not a pin: it differs
    from a pin's orange in line style too, never by colour alone).
    """
    name: str
    stroke: str
    fill: str
    badge: str
    badge_text: str
    dashed: bool = False


# The Okabe-Ito colour-blind-safe hues.  Five are dark (white badge text, 5.7:1 or more), three are
# light badges with black text (9:1 or more); dark and light differ in lightness, so the pairs a
# protanope or deuteranope confuses by hue (vermillion/orange, green/grey) still differ.  Every
# fill keeps black text at 15:1 or more.  tests/mm/test_tags.py checks these contrasts and that
# the badges stay apart under simulated colour blindness.
PALETTE = {c.name: c for c in (
    Colour("harm", "#b3261e", "#fdd4cb", "#b3261e", "#ffffff"),          # vermillion
    Colour("early", "#a3407f", "#f5d6ea", "#a3407f", "#ffffff"),         # reddish purple
    Colour("copy", "#0068a8", "#cfe4f5", "#0068a8", "#ffffff"),          # blue
    Colour("reuse", "#00755a", "#c6ecdc", "#00755a", "#ffffff"),         # bluish green
    Colour("unshare", "#2f8fc8", "#dcf0fc", "#56b4e9", "#000000"),       # sky blue
    Colour("pin", "#b07400", "#fde5b6", "#e69f00", "#000000"),           # orange
    Colour("get", "#6b5a45", "#e9e1d5", "#6b5a45", "#ffffff", True),     # grey-brown, dashed
    Colour("protect", "#6b6200", "#fbf7c8", "#f0e442", "#000000"),       # yellow
    Colour("book", "#595959", "#e6e6e6", "#595959", "#ffffff"),          # grey: bookkeeping
)}
QUIET = "book"          # bookkeeping is marked more quietly (a thinner border) than the lesson


class Tag(NamedTuple):
    name: str
    meaning: str
    word: str
    badge: str
    letter: str | None
    colour: str
    key: bool = True


TAG_LIST = (
    Tag("lost_dma", "a device wrote into a page its task no longer maps", "lost DMA write", "LOST DMA WRITE", "!", "harm"),
    Tag("stale_pin", "a device reads a page its task no longer maps", "stale pin", "STALE DMA READ", "!", "harm"),
    Tag("leak", "a pipe handed out data another process wrote after fork", "leak", "DATA LEAK", "!", "harm"),
    Tag("enomem", "an allocation or a memcg charge failed", "ENOMEM", "ENOMEM", "!", "harm"),
    Tag("signal", "the access raised a signal", "signal", "SIGNAL", None, "harm"),
    Tag("early_copy", "fork copied a maybe-pinned page for the child", "early copy", "EARLY COPY", "E", "early"),
    Tag("cow_copy", "a write fault copied the page", "COW copy", "COW COPY", "C", "copy"),
    Tag("reuse", "a write fault reused the page", "reuse", "REUSED", "R", "reuse"),
    Tag("unshare", "GUP made the page exclusive before pinning it", "unshare", "UNSHARED", "U", "unshare"),
    Tag("pin", "a FOLL_PIN pin was taken", "pin (FOLL_PIN)", "PIN TAKEN", "P", "pin"),
    Tag("unpin", "a pin was dropped", "unpin", "PIN DROPPED", "p", "pin"),
    Tag("get", "a FOLL_GET reference was taken (not a pin)", "GUP reference (FOLL_GET)", "GUP REF TAKEN", "G", "get"),
    Tag("put", "FOLL_GET references were dropped", "GUP reference dropped", "GUP REF DROPPED", "g", "get"),
    Tag("wrprotect", "PTEs were write-protected", "write-protect", "WRITE-PROTECTED", "W", "protect"),
    Tag("share", "a page was shared with the child", "shared", "SHARED", None, "protect"),
    Tag("zero_page", "the shared zero page was mapped", "zero page", "ZERO PAGE", "0", "book"),
    Tag("alloc", "a new page was allocated", "new page", "NEW PAGE", "+", "book"),
    Tag("free", "pages were freed", "freed", "FREED", "−", "book"),
    Tag("unmap", "PTEs were removed", "unmap", "UNMAPPED", None, "book", False),
    Tag("anon_vma", "anon_vma structure changed", "anon_vma", "ANON_VMA", None, "book", False),
    Tag("flag", "a flag changed", "flag", "FLAG CHANGED", None, "book", False),
)
BY_NAME = {t.name: t for t in TAG_LIST}
PRIORITY = tuple(t.name for t in TAG_LIST)
TAGS = {t.name: t.meaning for t in TAG_LIST}

# The tags whose story is a page's exclusive bit (5.19 on): the focus view keeps that line in view.
EXCLUSIVE_TAGS = ("reuse", "unshare", "pin")

# A copy event names both pages; the one that did not appear is the source, badged so.
COPY_TAGS = ("cow_copy", "early_copy")
COPY_SOURCE = "ORIGINAL"


def colour_of(tag: str | None) -> Colour:
    """The colours a highlight by this tag is drawn in (bookkeeping grey for an unknown tag)."""
    t = BY_NAME.get(tag)
    return PALETTE[t.colour if t else QUIET]


def is_quiet(tag: str | None) -> bool:
    """True for the bookkeeping tags, marked with a thinner border than the lesson's."""
    return colour_of(tag).name == QUIET


def as_data() -> dict:
    """The vocabulary as JSON-ready data, for the page (cowviz/web/vocab.py, docs/web.md)."""
    return {"tags": [t._asdict() for t in TAG_LIST],
            "palette": {k: c._asdict() for k, c in PALETTE.items()},
            "quiet": QUIET, "copy_tags": list(COPY_TAGS), "copy_source": COPY_SOURCE,
            "exclusive_tags": list(EXCLUSIVE_TAGS)}
