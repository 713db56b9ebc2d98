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
    return md


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
