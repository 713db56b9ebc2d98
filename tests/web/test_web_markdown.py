"""Narration Markdown is rendered, and made safe."""
from __future__ import annotations

from cowviz.web.markdown import render_inline, render_markdown


def test_markdown_renders_emphasis_code_and_lists():
    html = render_markdown("The **parent** writes `buf[0]`:\n\n- one\n- two")
    assert "<strong>parent</strong>" in html and "<code>buf[0]</code>" in html and "<li>one</li>" in html


def test_raw_html_is_escaped_not_passed_through():
    html = render_markdown('<script>alert(1)</script> <img src=x onerror="alert(2)">')
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_script_urls_are_not_links():
    for url in ("javascript:alert(1)", "vbscript:x", "data:text/html;base64,PHNjcmlwdD4="):
        assert "href" not in render_markdown(f"[click]({url})")


def test_web_links_open_in_a_new_tab_without_opener():
    html = render_markdown("[LWN](https://lwn.net/Articles/849638/)")
    assert 'href="https://lwn.net/Articles/849638/"' in html
    assert 'target="_blank"' in html and 'rel="noopener noreferrer"' in html


def test_inline_has_no_paragraph_and_empty_is_empty():
    assert render_inline("Does *fork* copy?") == "Does <em>fork</em> copy?"
    assert render_markdown(None) == "" and render_inline("") == ""
