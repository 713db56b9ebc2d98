"""The visual language: fonts, sizes, shapes, line styles and the colour-blind-safe palette.

Meaning is never carried by colour alone.  PTE state is written (RW/RO/none)
and drawn (solid/dashed/dotted border); FOLL_PIN and FOLL_GET differ in line
style, arrowhead and label; a highlight is a thick border, a tint and a
written badge.  A highlight's colours, badge and priority come from the one
vocabulary of event tags (cowviz/mm/tags.py: Okabe-Ito hues, black text on
pale fills with dark edges, so a washed-out projector still shows them); the
player's stylesheet is generated from the same table (cowviz/web/vocab.py).
Graphviz 2.43 only knows 6-digit hex colours.
"""
from __future__ import annotations

from html import escape

from ..mm import tags

# The text metrics, one table for the layout here and the page's renderer (renderer.js and
# focus.js get it in the boot data, cowviz/web/vocab.py): the font and its sizes (points in the
# export, CSS px in the player), the width a character is given and the height of a label line.
TEXT = {
    "font": "DejaVu Sans Mono",
    "size": 16,             # node labels
    "edge_size": 14,        # edge labels
    "badge_size": 14,       # the badge on a highlighted page or holder
    "caption_size": 20,     # the export's caption
    "char": 9.9,            # the layout's width per character at `size` (dot 2.43 measures 9.8)
    "advance": 9.64,        # the width a browser draws, 0.6025 em: the focus view packs by it
    "line": 20.0,           # per label line (a table row of `size` text with padding 1)
}
FONT = f"{TEXT['font']},monospace"
FONT_SIZE = TEXT["size"]
EDGE_FONT_SIZE = TEXT["edge_size"]
CHAR_W = TEXT["char"]
LINE_H = TEXT["line"]
PAD_X = 10.0
PAD_Y = 6.0
CELL_LINE_H = 16.0      # points per line inside one VMA table cell (lines joined by <BR/>)
CELL_INSET = 7          # cell padding 3 + a border of up to 4
PAD = 18.0              # margin around the drawing, points

# Nodes in one column share a width, so each column reads like a table.
WIDTH_GROUP = {"task": "proc", "mm": "proc", "memcg": "proc", "vma": "table", "pte": "table",
               "holder": "holder", "page": "mem", "anon_vma": "anon_vma"}
MIN_CHARS = {"proc": 12, "table": 22, "holder": 18, "mem": 19, "anon_vma": 15}
BADGE_KINDS = ("page", "holder")

BLACK = "#000000"
GREY = "#555555"
LIGHT = "#f2f2f2"
WHITE = "#ffffff"

# The tags' priority, colours and badges: cowviz/mm/tags.py (the one vocabulary of event tags).
TAG_PRIORITY = tags.PRIORITY
BADGES = {t.name: t.badge for t in tags.TAG_LIST}
COPY_TAGS = tags.COPY_TAGS
COPY_SOURCE = tags.COPY_SOURCE


def _hl_width(tag: str, lesson: str, quiet: str) -> str:
    # Bookkeeping (grey) is marked more quietly than what the lesson is about.
    return quiet if tags.is_quiet(tag) else lesson


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
LEGEND_NOTE = "pins = refcount / 1024: maybe DMA-pinned"   # "maybe": a guess, not a count
BASIC_NOTE = "refcount: references; mapcount: PTEs mapping it"   # before pins are taught


def _entries(hide=frozenset()) -> tuple:
    """LEGEND without the entries of details a walkthrough has not taught (blank, to keep the grid)."""
    if "anon_vma" not in hide:
        return LEGEND
    return tuple(("", None, "") if meaning == "anon_vma_chain link" else (s, b, meaning)
                 for s, b, meaning in LEGEND)


def _note(hide=frozenset()) -> str:
    return BASIC_NOTE if "pins" in hide else LEGEND_NOTE
CAPTION_SIZE = TEXT["caption_size"]
CAPTION_CHARS = 64              # "Linux 5.9-rc — step 16: " and the longest tutorial command
LEGEND_SPACING = 4              # the legend table's CELLSPACING
LEGEND_MIN_WIDTH = round((CAPTION_CHARS + 2) * CHAR_W * CAPTION_SIZE / FONT_SIZE)   # room for the caption


def legend_rows(columns: int, hide=frozenset()) -> list:
    """The legend entries in rows of up to `columns` (3, 5 or 9): three rows as LEGEND reads, or
    fewer, wider ones that keep each pair (RW/RO PTE, RW/RO map, pin/get) in one column."""
    entries = _entries(hide)
    if columns <= 3:
        return [entries[i:i + 3] for i in range(0, len(entries), 3)]
    seq = [entries[i] for i in (0, 3, 1, 4, 2, 5, 6, 7, 8)]
    rows = -(-len(seq) // min(columns, len(seq)))
    return [seq[j::rows] for j in range(rows)]


def _legend_cells(rows: list) -> list:
    """Widths (points) of the sample and meaning cells of each legend column."""
    out = []
    for j in range(len(rows[0])):
        column = [r[j] for r in rows if j < len(r)]
        out.append((round(max(len(e[0]) for e in column) * CHAR_W + 14),
                    round(max(len(e[2]) for e in column) * CHAR_W + 14)))
    return out


def _note_tail(widths: list, note: str = LEGEND_NOTE) -> tuple[int, float]:
    """How many last cells the note spans beside the caption, and their width."""
    note_w = round(len(note) * CHAR_W + 14)
    tail, tail_w = 0, -LEGEND_SPACING
    while tail_w < note_w and tail < len(widths) - 1:
        tail += 1
        tail_w += widths[-tail] + LEGEND_SPACING
    return tail, max(tail_w, note_w)


def legend_fit(drawing_width: float, hide=frozenset()) -> tuple[int, int]:
    """(entries to a row, width in points) of the legend under a drawing that wide.

    A wide drawing gets a wide, low legend: 9, 5 or 3 entries to a row (1, 2 or 3 rows), and the
    note beside the caption rather than on a row of its own when the width allows it.
    """
    room = drawing_width - 2 * PAD
    for columns in (9, 5, 3):
        cells = _legend_cells(legend_rows(columns, hide))
        widths = [w for pair in cells for w in pair]
        width = max(LEGEND_MIN_WIDTH, sum(widths) + (len(widths) - 1) * LEGEND_SPACING)
        if width <= room or columns == 3:
            beside = LEGEND_MIN_WIDTH + LEGEND_SPACING + _note_tail(widths, _note(hide))[1]
            return columns, int(max(width, beside) if beside <= room else width)


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
            a.update(fillcolor="#eeeeee")      # as the player draws the zero page
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
        c = tags.colour_of(hl[0])
        a.update(color=c.stroke, fillcolor=c.fill, penwidth=_hl_width(hl[0], "5", "3"))
        # Dashed only where a dashed border means nothing else (a PTE's dashes say read-only).
        if c.dashed and kind in BADGE_KINDS and "dashed" not in a.get("style", ""):
            a["style"] = f"dashed,{a.get('style', NODE_BASE['style'])}"
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
        a.update(color=tags.colour_of(hl[0]).stroke, penwidth=str(float(a.get("penwidth", "2")) + 2))
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
            c = tags.colour_of(hl[0])
            text = f'<FONT COLOR="{c.badge_text}"><B>▶ {escape(badge)}</B></FONT>'
            rows.append(f'<TR><TD ALIGN="LEFT" BGCOLOR="{c.badge}">{text}</TD></TR>')
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
        c = tags.colour_of(hl[0])
        a.update(BORDER=_hl_width(hl[0], "4", "3"), COLOR=c.stroke, BGCOLOR=c.fill)
    return " ".join(f'{k}="{v}"' for k, v in a.items())


def cell_text(kind: str, lines: tuple) -> str:
    """The text of a VMA table cell: a PTE row is one line, the header has a bold title."""
    if kind == "pte":
        text = escape(lines[0])
        return f'<FONT COLOR="{GREY}">{text}</FONT>' if lines[0].split()[1].startswith("none") else text
    return "<BR/>".join(f"<B>{escape(line)}</B>" if i == 0 else escape(line) for i, line in enumerate(lines))


def legend_html(caption: str | None = None, fit: tuple = (3, 0), hide=frozenset()) -> str:
    """The caption and the legend as one HTML-like table (the graph's label, under the drawing).

    `fit` is legend_fit()'s (entries to a row, width): see legend_rows; each column is as wide as
    its longest entry.  The note goes beside the caption when the caption keeps room for
    CAPTION_CHARS there, else on a row of its own.  Its size never depends on the caption (cut to
    fit), so every frame keeps the same bounding box.
    """
    rows_of = legend_rows(fit[0], hide)
    cells = _legend_cells(rows_of)
    natural = sum(a + b for a, b in cells) + (2 * len(cells) - 1) * LEGEND_SPACING
    width = int(max(fit[1], LEGEND_MIN_WIDTH, natural))
    # A legend stretched to the drawing's width shares the extra out among the meanings.
    extra = (width - natural) // len(cells)
    cells = [(a, b + extra) for a, b in cells]
    widths = [w for pair in cells for w in pair]
    span = len(widths)
    caption_char = CHAR_W * CAPTION_SIZE / FONT_SIZE
    tail, tail_w = _note_tail(widths, _note(hide))
    beside = width - tail_w - LEGEND_SPACING >= LEGEND_MIN_WIDTH
    cap_w = int(width - tail_w - LEGEND_SPACING) if beside else width
    fits = int(cap_w / caption_char) - 2
    text = caption or ""
    if len(text) > fits:
        text = text[:fits - 1] + "…"
    head = (f'<TD COLSPAN="{span - tail if beside else span}" ALIGN="LEFT" WIDTH="{cap_w}" '
            f'HEIGHT="{CAPTION_SIZE + 10}" FIXEDSIZE="TRUE">'
            f'<FONT POINT-SIZE="{CAPTION_SIZE}"><B>{escape(text) or " "}</B></FONT></TD>')
    note = f'<TD COLSPAN="{{}}" ALIGN="{{}}">{escape(_note(hide))}</TD>'
    rows = ["<TR>" + head + (note.format(tail, "RIGHT") if beside else "") + "</TR>"]
    for entries in rows_of:
        out = []
        for (sample, border, meaning), (sample_w, text_w) in zip(entries, cells):
            cell = escape(sample)
            if border == "badge":
                c = tags.colour_of("cow_copy")
                cell = f'<FONT COLOR="{c.badge_text}"><B>{cell}</B></FONT>'
                attrs = f'BORDER="0" BGCOLOR="{c.badge}"'
            elif border:
                attrs = f'BORDER="2" STYLE="{border}"' if border != "solid" else 'BORDER="2"'
            else:
                attrs = 'BORDER="0"'
            out.append(f'<TD ALIGN="LEFT" WIDTH="{sample_w}" {attrs}>{cell}</TD>'
                       f'<TD ALIGN="LEFT" WIDTH="{text_w}">{escape(meaning)}</TD>')
        rows.append("<TR>" + "".join(out) + "</TR>")
    if not beside:
        rows.append(f"<TR>{note.format(span, 'LEFT')}</TR>")
    return (f'<<TABLE BORDER="1" COLOR="{GREY}" CELLBORDER="0" CELLSPACING="{LEGEND_SPACING}" CELLPADDING="3" '
            f'BGCOLOR="{WHITE}">{"".join(rows)}</TABLE>>')


def legend() -> dict:
    """The legend as data, for a player that draws its own: rows of (sample, border, meaning)."""
    return {"entries": [{"sample": s, "border": b, "meaning": m} for s, b, m in LEGEND],
            "note": LEGEND_NOTE}
