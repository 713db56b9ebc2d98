"""The event vocabulary (cowviz/mm/tags.py): complete, readable, colour-blind-safe, and the only copy.

The colours are checked by the numbers a projector and a colour-blind learner need: WCAG contrast
ratios for the text on them, and distance in CIELAB between the badges as a protanope, deuteranope
or tritanope sees them (Machado, Oliveira and Fernandes 2009, severity 1).
"""
from __future__ import annotations

import glob
import itertools
import math
import os
import re

import pytest

from cowviz.mm import tags
from cowviz.mm.events import TAGS
from cowviz.scenario import load_scenario, run_scenario

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def _linear(c: int) -> float:
    c /= 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _rgb(h: str) -> list:
    return [_linear(int(h[i:i + 2], 16)) for i in (1, 3, 5)]


def luminance(h: str) -> float:
    r, g, b = _rgb(h)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


CVD = {
    "normal": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "protan": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deutan": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritan": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}


def lab(h: str, vision: str) -> tuple:
    v = _rgb(h)
    r, g, b = (min(1, max(0, sum(m * x for m, x in zip(row, v)))) for row in CVD[vision])
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.9505
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.089
    f = lambda t: t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116   # noqa: E731
    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def test_every_tag_has_one_entry_with_all_its_columns():
    names = [t.name for t in tags.TAG_LIST]
    assert len(names) == len(set(names)) and set(TAGS) == set(names)
    assert tags.PRIORITY == tuple(names)
    for t in tags.TAG_LIST:
        assert t.meaning and t.word and t.badge and t.colour in tags.PALETTE, t
        assert t.letter is None or len(t.letter) == 1, t
    # FOLL_GET's tags (a reference, not a pin) are in it, and look unlike a pin's.
    assert {"get", "put"} <= set(names)
    assert tags.colour_of("get") != tags.colour_of("pin") and tags.colour_of("get").dashed


def test_the_engine_emits_only_declared_tags_and_uses_every_lesson_tag():
    seen = set()
    for path in sorted(glob.glob(os.path.join(ROOT, "scenarios", "[0-9][0-9]-*.yaml"))):
        s = load_scenario(path)
        for era in s.eras:
            for step in run_scenario(s, era).steps:
                seen.update(e.tag for e in step.events if e.tag)
    assert seen <= set(TAGS), seen - set(TAGS)
    assert {"cow_copy", "early_copy", "reuse", "unshare", "pin", "get", "lost_dma", "wrprotect"} <= seen


@pytest.mark.parametrize("colour", tags.PALETTE.values(), ids=list(tags.PALETTE))
def test_each_colour_is_readable_on_a_projector(colour):
    assert contrast(colour.badge, colour.badge_text) >= 4.5          # the badge's words (WCAG AA)
    assert contrast(colour.fill, "#000000") >= 7                      # black label text on the fill (AAA)
    assert contrast(colour.stroke, "#ffffff") >= 3                   # the border on the page (non-text)
    assert contrast(colour.stroke, colour.fill) >= 3                  # and against its own fill


def test_the_lesson_colours_stay_apart_in_every_kind_of_colour_vision():
    """Badges are the largest coloured shapes: every two stay 5 CIELAB units apart or more (about
    twice a just-noticeable difference) in normal vision and each simulated dichromacy."""
    for vision in CVD:
        for a, b in itertools.combinations(tags.PALETTE.values(), 2):
            d = math.dist(lab(a.badge, vision), lab(b.badge, vision))
            assert d >= 5, (vision, a.name, b.name, round(d, 1))


def test_a_tag_with_several_meanings_is_drawn_as_its_most_important():
    from cowviz.diagram import style
    assert style.TAG_PRIORITY == tags.PRIORITY
    attrs = style.node_attrs("page", ("anon",), ("cow_copy", "alloc"))
    assert (attrs["color"], attrs["fillcolor"]) == (tags.PALETTE["copy"].stroke, tags.PALETTE["copy"].fill)


# -- no second copy ------------------------------------------------------------------------------

def _sources(*patterns):
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern), recursive=True)):
            yield os.path.relpath(path, ROOT), open(path, encoding="utf-8").read()


def test_no_colour_of_the_palette_is_written_anywhere_else():
    hexes = {h for c in tags.PALETTE.values() for h in (c.stroke, c.fill, c.badge) if h not in ("#ffffff", "#000000")}
    found = []
    for path, text in _sources("cowviz/**/*.py", "static/**/*.js", "static/**/*.css", "templates/*.html", "app.py"):
        if path == os.path.join("cowviz", "mm", "tags.py"):
            continue
        found += [(path, h) for h in hexes if h in text.lower()]
    assert not found, found


# Names no other vocabulary uses (pin, get, share, free, flag ... are also kinds of edges or words).
ONLY_TAGS = ("lost_dma", "stale_pin", "early_copy", "cow_copy", "wrprotect", "zero_page", "unshare", "unpin")


def test_the_page_keeps_no_copy_of_a_tag():
    """No script, stylesheet or template names a tag: the words, letters and priority come in the
    boot data (vocab.js), the colours in /vocab.css, both made from cowviz/mm/tags.py."""
    found = []
    for path, text in _sources("static/**/*.js", "static/**/*.css", "templates/*.html"):
        found += [(path, t) for t in ONLY_TAGS if re.search(rf"\b{t}\b", text)]
    assert not found, found


def test_one_text_metrics_table():
    """The renderer and the focus view take the line height and the character width from the
    layout's table (style.TEXT, in the boot data), never from a number of their own."""
    from cowviz.diagram import style
    assert (style.CHAR_W, style.LINE_H, style.FONT_SIZE) == (style.TEXT["char"], style.TEXT["line"], style.TEXT["size"])
    for name in ("renderer.js", "focus.js"):
        text = open(os.path.join(ROOT, "static", "js", name), encoding="utf-8").read()
        assert re.search(r"const LINE = TEXT\.line\b", text), name
        for old in ("9.6", "9.64", "9.9", "= 19", "= 20;"):
            assert old not in text, (name, old)
