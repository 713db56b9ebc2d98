"""Narration Markdown to HTML, made safe: raw HTML is escaped, never passed through.

Scenario files are written by people we trust only so far (a scenario author,
a student sharing a file), so narration must not be able to run script in the
page.  markdown-it-py with `html` off escapes every tag; its link validator
already refuses javascript:, vbscript:, file: and data: URLs.  Links open in
a new tab, so following a reference never loses the learner's place.
"""
from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml


def _new_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.enable("strikethrough")
    def link_open(renderer, tokens, idx, options, env):
        # A new tab, and no window.opener handle for the page we link to.
        tokens[idx].attrSet("target", "_blank")
        tokens[idx].attrSet("rel", "noopener noreferrer")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)

    def image(renderer, tokens, idx, options, env):
        # Narration never makes the browser fetch from another host: an image from anywhere but
        # this server is shown as its alt text (the page's Content-Security-Policy refuses it too).
        src = tokens[idx].attrGet("src") or ""
        if _foreign(src):
            alt = renderer.renderInlineAsText(tokens[idx].children or [], options, env)
            return f'<span class="image-dropped">{escapeHtml(alt)}</span>'
        return renderer.image(tokens, idx, options, env)

    md.add_render_rule("image", image)

    def cell_open(renderer, tokens, idx, options, env):
        # Table alignment as a class, not a style attribute (the CSP allows no inline style).
        style = tokens[idx].attrGet("style") or ""
        if style.startswith("text-align:"):
            tokens[idx].attrs.pop("style", None)
            tokens[idx].attrSet("class", "align-" + style.split(":", 1)[1].strip())
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("th_open", cell_open)
    md.add_render_rule("td_open", cell_open)
    return md


def _foreign(src: str) -> bool:
    """Does this URL name another host (or any scheme), rather than a path on this server?"""
    s = src.strip().replace("\\", "/")
    return s.startswith("//") or ":" in s.split("/", 1)[0] or not s


_MD = _new_parser()


@lru_cache(maxsize=4096)
def render_markdown(text: str | None) -> str:
    """Block Markdown (paragraphs, lists, code) as safe HTML; '' for None."""
    if not text:
        return ""
    return _MD.render(text)


@lru_cache(maxsize=4096)
def render_inline(text: str | None) -> str:
    """One line of Markdown (emphasis, code, links) as safe HTML, without a paragraph around it."""
    if not text:
        return ""
    return _MD.renderInline(text)
