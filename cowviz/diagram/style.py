"""The visual language: fonts, sizes, shapes, line styles and the colour-blind-safe palette.

Meaning is never carried by colour alone.  PTE state is written (RW/RO/none)
and drawn (solid/dashed/dotted border); FOLL_PIN and FOLL_GET differ in line
style, arrowhead and label; a highlight is a thick border, a tint and a
written badge.  Colours are the Okabe-Ito set (safe for the common kinds of
colour blindness), darkened for borders and lightened for fills so that a
washed-out projector still shows black text on pale boxes with dark edges.
Graphviz 2.43 only knows 6-digit hex colours.
"""
from __future__ import annotations

from html import escape

FONT = "DejaVu Sans Mono,monospace"
FONT_SIZE = 16
EDGE_FONT_SIZE = 14
CHAR_W = 9.9            # points per character of FONT at FONT_SIZE (measured 9.8 with dot 2.43)
LINE_H = 20.0           # points per label line (a table row of FONT_SIZE text with padding 1)
PAD_X = 10.0
PAD_Y = 6.0
CELL_LINE_H = 16.0      # points per line inside one VMA table cell (lines joined by <BR/>)
CELL_INSET = 7          # cell padding 3 + a border of up to 4
PAD = 18.0              # margin around the drawing, points

# Nodes in one column share a width, so each column reads like a table.
WIDTH_GROUP = {"task": "proc", "mm": "proc", "vma": "table", "pte": "table", "holder": "holder",
               "page": "mem", "anon_vma": "mem", "memcg": "mem"}
MIN_CHARS = {"proc": 12, "table": 22, "holder": 18, "mem": 19}
BADGE_KINDS = ("page", "holder")

BLACK = "#000000"
GREY = "#555555"
LIGHT = "#f2f2f2"
WHITE = "#ffffff"

# Most important first: when a node has several tags, the first is drawn.
TAG_PRIORITY = ("lost_dma", "stale_pin", "leak", "enomem", "signal", "early_copy", "cow_copy",
                "reuse", "unshare", "pin", "unpin", "wrprotect", "share", "zero_page", "alloc",
                "free", "unmap", "anon_vma", "flag")

# tag -> (border, fill): Okabe-Ito vermillion, reddish purple, blue, bluish green, sky blue,
# orange and yellow, each darkened (border; white badge text on it keeps a contrast of about
# 4.5:1) and lightened (fill); grey for bookkeeping.
_RED = ("#c25400", "#fbd9c0")
_GREY = ("#4d4d4d", "#e4e4e4")
TAG_COLOURS = {
    "lost_dma": _RED, "stale_pin": _RED, "leak": _RED, "enomem": _RED, "signal": _RED,
    "early_copy": ("#b4478f", "#f4d8ea"),
    "cow_copy": ("#0072b2", "#cce3f2"),
    "reuse": ("#007f5c", "#c9ede0"),
    "unshare": ("#1f78b4", "#dcf0fb"),
    "pin": ("#9e5f00", "#fce9c2"), "unpin": ("#9e5f00", "#fce9c2"),
    "wrprotect": ("#857600", "#faf4bf"), "share": ("#857600", "#faf4bf"),
    "zero_page": _GREY, "alloc": _GREY, "free": _GREY, "unmap": _GREY, "anon_vma": _GREY,
    "flag": _GREY,
}
BADGES = {
    "lost_dma": "LOST DMA WRITE", "stale_pin": "STALE DMA READ", "leak": "DATA LEAK",
    "enomem": "ENOMEM", "signal": "SIGNAL", "early_copy": "EARLY COPY", "cow_copy": "COW COPY",
    "reuse": "REUSED", "unshare": "UNSHARED", "pin": "REF TAKEN", "unpin": "REF DROPPED",
    "wrprotect": "WRITE-PROTECTED", "share": "SHARED", "zero_page": "ZERO PAGE",
    "alloc": "NEW PAGE", "free": "FREED", "unmap": "UNMAPPED", "anon_vma": "ANON_VMA",
    "flag": "FLAG CHANGED",
}

COPY_TAGS = ("cow_copy", "early_copy")
COPY_SOURCE = "ORIGINAL"

NODE_BASE = {"shape": "box", "style": "filled", "fixedsize": "true", "fontname": FONT,
             "fontsize": str(FONT_SIZE), "penwidth": "1.5", "color": BLACK, "fillcolor": WHITE,
             "margin": "0"}
EDGE_BASE = {"fontname": FONT, "fontsize": str(EDGE_FONT_SIZE), "penwidth": "2", "color": BLACK,
             "arrowsize": "1.1"}

# The legend, three entries to a row: (sample, border of the sample cell or None, meaning).
LEGEND = (
    ("[i] RW pfn", "solid", "PTE writable"),
    ("───▶", None, "maps page (RW)"),
    ("━━━●", None, "FOLL_PIN reference"),
    ("[i] RO pfn", "dashed", "PTE write-protected"),
    ("─ ─▶", None, "maps page (RO)"),
    ("┈┈┈▷", None, "FOLL_GET reference"),
    ("[i] none", "dotted", "PTE not present"),
    ("┈┈┈", None, "anon_vma_chain link"),
    ("▶ BADGE", "badge", "what this step did"),
)
LEGEND_NOTE = "pins = refcount / 1024: the kernel's guess (page_maybe_dma_pinned)"
CAPTION_SIZE = 20
LEGEND_COLUMNS = (11, 20)       # characters: sample, meaning
LEGEND_WIDTH = 3 * (sum(LEGEND_COLUMNS) * CHAR_W + 20)


def node_size(chars: int, lines: int) -> tuple[float, float]:
    """Width and height in points of a box holding `lines` lines of `chars` characters."""
    return round(chars * CHAR_W + 2 * PAD_X), round(lines * LINE_H + 2 * PAD_Y)


def cell_size(chars: int, lines: int) -> tuple[float, float]:
    """Width and height in points of a VMA table cell holding that much text."""
    return round(chars * CHAR_W + 2 * CELL_INSET + 4), round(lines * CELL_LINE_H + 4 + 2 * CELL_INSET)


def node_attrs(kind: str, cls: tuple, hl: tuple) -> dict:
    """DOT attributes of a node in a given state (everything but size and label)."""
    a = {}
    if kind == "task":
        a.update(style="rounded,filled", fillcolor=WHITE)
    elif kind == "mm":
        a.update(fillcolor=LIGHT, penwidth="2")
    elif kind == "vma":
        a.update(fillcolor="#dedede", penwidth="2")
    elif kind == "pte":
        if "none" in cls:
            a.update(style="dotted,filled", fontcolor=GREY, color=GREY)
        elif "ro" in cls:
            a.update(style="dashed,filled", penwidth="2")
        else:
            a.update(penwidth="2")
    elif kind == "page":
        if "zero" in cls:
            a.update(fillcolor="#e6e6e6")
        elif "shmem" in cls:
            a.update(shape="note")
        if "pinned" in cls:
            a.update(penwidth="3.5")
    elif kind == "anon_vma":
        a.update(style="rounded,filled", fillcolor=LIGHT)
    elif kind == "holder":
        a.update(shape="component" if "device" in cls else "cylinder", fillcolor=LIGHT, penwidth="2")
    elif kind == "memcg":
        a.update(shape="folder", fillcolor=LIGHT)
    if hl:
        border, fill = TAG_COLOURS.get(hl[0], _GREY)
        # Bookkeeping (grey) is marked more quietly than what the lesson is about.
        a.update(color=border, fillcolor=fill, penwidth="3" if border == _GREY[0] else "5")
    return a


def edge_attrs(kind: str, cls: tuple, hl: tuple) -> dict:
    """DOT attributes of an edge in a given state."""
    a = {}
    if kind in ("task_mm", "mm_vma"):
        a.update(color=GREY, penwidth="1.5", arrowsize="0.8")
    elif kind == "map":
        a.update(style="dashed" if "ro" in cls else "solid", penwidth="2.5")
    elif kind == "pin":
        a.update(penwidth="4.5", arrowhead="dot", arrowsize="1.0")
    elif kind == "get":
        a.update(style="dotted", penwidth="3", arrowhead="empty")
    elif kind == "avc":
        a.update(color=GREY, penwidth="1.5", arrowsize="0.8",
                 style="solid" if "own" in cls else "dotted")
    elif kind == "parent":
        a.update(color=GREY, penwidth="1.5", arrowsize="0.8")
    elif kind == "root":
        a.update(color=GREY, penwidth="1.5", arrowsize="0.8", style="dashed")
    if hl:
        border, _ = TAG_COLOURS.get(hl[0], _GREY)
        a.update(color=border, penwidth=str(float(a.get("penwidth", "2")) + 2))
    return a


def label_html(kind: str, lines: tuple, width: float, badge: str | None, hl: tuple) -> str:
    """An HTML-like Graphviz label: the title in bold, lines left-aligned, the badge last."""
    w = int(width - 2 * PAD_X)
    rows = []
    for i, line in enumerate(lines):
        text = escape(line) or " "
        text = f"<B>{text}</B>" if i == 0 else text
        rows.append(f'<TR><TD ALIGN="LEFT">{text}</TD></TR>')
    if kind in BADGE_KINDS:
        if badge:
            border, _ = TAG_COLOURS.get(hl[0], _GREY)
            text = f'<FONT COLOR="{WHITE}"><B>▶ {escape(badge)}</B></FONT>'
            rows.append(f'<TR><TD ALIGN="LEFT" BGCOLOR="{border}">{text}</TD></TR>')
        else:
            rows.append('<TR><TD> </TD></TR>')
    return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1" WIDTH="{w}" '
            f'FIXEDSIZE="FALSE">{"".join(rows)}</TABLE>>')


def cell_attrs(kind: str, cls: tuple, hl: tuple) -> str:
    """HTML-table attributes of a cell of a VMA table (the header or one PTE row)."""
    a = {"ALIGN": "LEFT", "BALIGN": "LEFT", "CELLPADDING": "3", "BORDER": "2", "COLOR": BLACK,
         "BGCOLOR": WHITE}
    if kind == "vma":
        a["BGCOLOR"] = "#dedede"
    elif "none" in cls:
        a.update(STYLE="dotted", COLOR=GREY)
    elif "ro" in cls:
        a.update(STYLE="dashed")
    if hl:
        border, fill = TAG_COLOURS.get(hl[0], _GREY)
        a.update(BORDER="3" if border == _GREY[0] else "4", COLOR=border, BGCOLOR=fill)
    return " ".join(f'{k}="{v}"' for k, v in a.items())


def cell_text(kind: str, lines: tuple) -> str:
    """The text of a VMA table cell: a PTE row is one line, the header has a bold title."""
    if kind == "pte":
        text = escape(lines[0])
        return f'<FONT COLOR="{GREY}">{text}</FONT>' if lines[0].split()[1].startswith("none") else text
    return "<BR/>".join(f"<B>{escape(line)}</B>" if i == 0 else escape(line) for i, line in enumerate(lines))


def legend_html(caption: str | None = None) -> str:
    """The caption and the legend as one HTML-like table (the graph's label, under the drawing).

    Its size never depends on the caption (cut to fit), so every frame keeps the same bounding box.
    """
    width = int(LEGEND_WIDTH)
    fits = int(width / (CHAR_W * CAPTION_SIZE / FONT_SIZE)) - 2
    text = caption or ""
    if len(text) > fits:
        text = text[:fits - 1] + "…"
    rows = [f'<TR><TD COLSPAN="6" ALIGN="LEFT" WIDTH="{width}" HEIGHT="{CAPTION_SIZE + 10}" FIXEDSIZE="TRUE">'
            f'<FONT POINT-SIZE="{CAPTION_SIZE}"><B>{escape(text) or " "}</B></FONT></TD></TR>']
    sample_w, text_w = (int(c * CHAR_W + 8) for c in LEGEND_COLUMNS)
    for i in range(0, len(LEGEND), 3):
        cells = []
        for sample, border, meaning in LEGEND[i:i + 3]:
            cell = escape(sample)
            if border == "badge":
                colour = TAG_COLOURS["cow_copy"][0]
                cell = f'<FONT COLOR="{WHITE}"><B>{cell}</B></FONT>'
                attrs = f'BORDER="0" BGCOLOR="{colour}"'
            elif border:
                attrs = f'BORDER="2" STYLE="{border}"' if border != "solid" else 'BORDER="2"'
            else:
                attrs = 'BORDER="0"'
            cells.append(f'<TD ALIGN="LEFT" WIDTH="{sample_w}" {attrs}>{cell}</TD>'
                         f'<TD ALIGN="LEFT" WIDTH="{text_w}">{escape(meaning)}</TD>')
        rows.append("<TR>" + "".join(cells) + "</TR>")
    rows.append(f'<TR><TD COLSPAN="6" ALIGN="LEFT">{escape(LEGEND_NOTE)}</TD></TR>')
    return (f'<<TABLE BORDER="1" COLOR="{GREY}" CELLBORDER="0" CELLSPACING="4" CELLPADDING="3" '
            f'BGCOLOR="{WHITE}">{"".join(rows)}</TABLE>>')


def legend() -> dict:
    """The legend as data, for a player that draws its own: rows of (sample, border, meaning)."""
    return {"entries": [{"sample": s, "border": b, "meaning": m} for s, b, m in LEGEND],
            "note": LEGEND_NOTE}
