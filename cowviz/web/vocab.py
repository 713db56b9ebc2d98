"""The event vocabulary for the page: the stylesheet of tag colours and the boot data, both made
from cowviz/mm/tags.py and the text metrics of cowviz/diagram/style.py, so the player, its key, its
timeline and the exported SVG/PNG draw every tag alike (docs/web.md, "The vocabulary").

    GET /vocab.css          the highlight, badge, chip and timeline-marker colours of every tag
    vocab_boot (templates)  {"tags", "palette", "quiet", "copy_tags", "copy_source", "text"}:
                            base.html puts it in <script type="application/json" id="vocab">
"""
from __future__ import annotations

import hashlib
from functools import lru_cache

from flask import Blueprint, Response, request

from ..diagram.style import TEXT
from ..mm import tags

bp = Blueprint("cowviz_vocab", __name__)


def boot() -> dict:
    """The vocabulary and the text metrics as the page's boot data."""
    return {**tags.as_data(), "text": dict(TEXT)}


def _rules(t: tags.Tag) -> list:
    c = tags.PALETTE[t.colour]
    width = "1.5" if c.name == tags.QUIET else "2.5"
    n = t.name
    return [
        # The event list's chip and the timeline's letter.
        f".tag.tag-{n}, .m.tag-{n} {{ background: {c.fill}; border-color: {c.stroke};"
        f"{' border-style: dashed;' if c.dashed else ''} }}",
        # A highlighted object: the border, the fill and the badge, as the export draws them.
        f".diagram-svg .node.hl.hl-{n} rect.shape {{ fill: {c.fill}; stroke: {c.stroke}; "
        f"stroke-width: calc(var(--stroke) * {width}); }}",
        f".diagram-svg .node.hl.hl-{n} .badge rect {{ fill: {c.badge}; }}",
        # Dashes only on a page or holder (a PTE's dashes say read-only), set either way so an
        # object with several tags shows its most important one's.
        f".diagram-svg .node.hl.hl-{n}:is(.page, .holder) rect.shape {{ stroke-dasharray: "
        f"{'8 4' if c.dashed else 'none'}; }}",
        f".diagram-svg .node.hl.hl-{n} .badge text {{ fill: {c.badge_text}; }}",
        f".diagram-svg .edge.hl.hl-{n} .line {{ stroke: {c.stroke}; }}",
        f".diagram-svg .edge.hl.hl-{n} .head {{ fill: {c.stroke}; stroke: {c.stroke}; }}",
    ]


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The CSS of every tag.  Rules go least important first: an object with several tags takes the
    colours of its most important one (the cascade's last word), as the export does."""
    out = ["/* Made by cowviz/web/vocab.py from cowviz/mm/tags.py: edit the table there, not this. */"]
    for t in reversed(tags.TAG_LIST):
        out += _rules(t)
    return "\n".join(out) + "\n"


@lru_cache(maxsize=1)
def _etag() -> str:
    return hashlib.sha256(stylesheet().encode()).hexdigest()[:16]


@bp.route("/vocab.css")
def vocab_css():
    resp = Response(stylesheet(), mimetype="text/css")
    resp.set_etag(_etag())
    resp.headers["Cache-Control"] = "no-cache"      # revalidate: the ETag makes that a 304
    return resp.make_conditional(request)


@bp.app_context_processor
def _inject() -> dict:
    return {"vocab_boot": boot(), "vocab_css_version": _etag()}
