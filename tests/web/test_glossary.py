"""The glossary: one page, one table of definitions, linked from the narration (same origin only)."""
import re

from cowviz.web.glossary import GLOSSARY, render_narration

import os

from cowviz.scenario import load_scenario, run_scenario
from cowviz.web.wire import pane

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TERMS = {"PTE", "refcount", "mapcount", "anon_vma", "rmap", "COW", "FOLL_GET", "FOLL_PIN",
         "pinned flag", "exclusive page", "memcg"}


def test_the_glossary_defines_every_term_the_issue_names():
    terms = {t.split(" (")[0] for t, _, _ in GLOSSARY.values()}
    assert TERMS <= terms


def test_the_page_lists_every_entry_with_an_anchor(client):
    r = client.get("/glossary")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for gid in GLOSSARY:
        assert f'id="{gid}"' in html
    assert "GUP_PIN_COUNTING_BIAS" in html and "<script>" not in html


def test_the_first_mention_of_a_term_links_to_its_entry_and_code_is_left_alone():
    html = render_narration("A PTE and a PTE; `anon_vma_fork()` files it under anon_vma 2. See [COW](https://lwn.net/).")
    assert html.count('href="/glossary#pte"') == 1
    assert html.count('href="/glossary#anon_vma"') == 1 and "<code>anon_vma_fork()</code>" in html
    assert 'href="/glossary#cow"' not in html                # inside a link: left alone
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert all(h.startswith("/glossary#") or h == "https://lwn.net/" for h in hrefs)


def test_the_players_narration_and_the_tutorial_link_the_glossary(client):
    run = run_scenario(load_scenario(os.path.join(ROOT, "scenarios", "05-vmsplice-leak.yaml")), "5.7")
    p = pane(run, 4, lambda i: None, held=False)                 # "... a read-only FOLL_GET reference ..."
    assert 'href="/glossary#foll_get"' in p["narration"]
    assert all(h.startswith("/glossary#") for h in re.findall(r'href="([^"]+)"', p["narration"]))
    page = client.get("/tutorial").get_data(as_text=True)
    assert 'href="/glossary"' in page
