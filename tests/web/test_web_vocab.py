"""One event vocabulary on every surface: the exported SVG, the player (as Chromium computes its
styles), its key, its event list and its timeline draw each tag in the colours cowviz/mm/tags.py
declares (docs/web.md, "The vocabulary")."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import requests

from cowviz.mm import tags
from cowviz.web.vocab import boot, stylesheet

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

from .test_web_browser import CHROMIUM, FLAGS, browser, watch  # noqa: E402,F401  (one Chromium launcher)

SVG = "{http://www.w3.org/2000/svg}"


def test_the_stylesheet_and_the_boot_data_come_from_the_table(client):
    r = client.get("/vocab.css")
    assert r.status_code == 200 and r.mimetype == "text/css" and r.data.decode() == stylesheet()
    assert client.get("/vocab.css", headers={"If-None-Match": r.headers["ETag"].strip('"')}).status_code == 304
    for t in tags.TAG_LIST:
        c = tags.PALETTE[t.colour]
        assert f".diagram-svg .node.hl.hl-{t.name} rect.shape {{ fill: {c.fill}; stroke: {c.stroke};" in r.data.decode()
    # Most important last, so that the cascade draws an object with several tags as its first.
    css = r.data.decode()
    assert css.index(".hl-flag rect") < css.index(".hl-alloc rect") < css.index(".hl-cow_copy rect") < css.index(".hl-lost_dma rect")
    page = client.get("/play/01-rdma").data.decode()
    assert '<script type="application/json" id="vocab">' in page and "/vocab.css?v=" in page
    assert boot()["text"]["line"] == 20.0 and [t["name"] for t in boot()["tags"]] == list(tags.PRIORITY)


def _hex(css: str) -> str:
    m = re.fullmatch(r"rgb\((\d+), (\d+), (\d+)\)", css.strip())
    return "#%02x%02x%02x" % tuple(int(x) for x in m.groups()) if m else css


def _export(base: str, era: str, step: int) -> dict:
    """id -> colours of each highlighted node and edge in the exported SVG."""
    r = requests.get(f"{base}/export/01-rdma.svg", params={"era": era, "step": step}, timeout=30)
    assert r.status_code == 200
    out = {}
    for g in ET.fromstring(r.content).iter(f"{SVG}g"):
        cls = (g.get("class") or "").split()
        if "hl" not in cls:
            continue
        shapes = [e for e in g if e.tag in (f"{SVG}polygon", f"{SVG}path")]
        entry = {"kind": cls[0], "tag": next(c[3:] for c in cls if c.startswith("hl-"))}
        if cls[0] == "edge":
            entry["stroke"] = shapes[0].get("stroke")
        else:
            # The first shape with a border: a node's own shape, or the border of a table cell (a
            # PTE row, a VMA's header), drawn after the cell's fill.
            i = next(i for i, e in enumerate(shapes) if e.get("stroke") != "transparent")
            fill = shapes[i].get("fill") if shapes[i].get("fill") != "none" else shapes[i - 1].get("fill")
            entry.update(fill=fill, stroke=shapes[i].get("stroke"))
            badge = [e for e in shapes[1:] if e.get("stroke") == "transparent"]
            texts = [e for e in g if e.tag == f"{SVG}text" and e.text and e.text.startswith("▶")]
            if badge and texts:
                entry.update(badge=badge[-1].get("fill"), badge_text=texts[-1].get("fill"))
        out[g.get("id")] = entry
    return out


PLAYER = """() => {
  const css = (el, p) => el ? getComputedStyle(el).getPropertyValue(p) : null;
  const out = {};
  for (const g of document.querySelectorAll('.pane .diagram g.node.hl')) {
    const tag = [...g.classList].find((c) => c.startsWith('hl-')).slice(3);
    const shape = g.querySelector('rect.shape');
    out[g.dataset.id] = { kind: 'node', tag, fill: css(shape, 'fill'), stroke: css(shape, 'stroke'),
                          badge: css(g.querySelector('.badge rect'), 'fill'),
                          badge_text: css(g.querySelector('.badge text'), 'fill') };
  }
  for (const g of document.querySelectorAll('.pane .diagram g.edge.hl')) {
    const tag = [...g.classList].find((c) => c.startsWith('hl-')).slice(3);
    out[g.dataset.edge] = { kind: 'edge', tag, stroke: css(g.querySelector('.line'), 'stroke') };
  }
  const chips = [...document.querySelectorAll('#events .tag')].map((c) =>
    ({ tag: [...c.classList].find((k) => k.startsWith('tag-')).slice(4), fill: css(c, 'background-color') }));
  const key = [...document.querySelectorAll('#key g[data-tag]')].map((g) =>
    ({ tag: g.dataset.tag, fill: css(g.querySelector('rect.shape'), 'fill'), stroke: css(g.querySelector('rect.shape'), 'stroke'),
       badge: css(g.querySelector('.badge rect'), 'fill'), badge_text: css(g.querySelector('.badge text'), 'fill'),
       words: g.querySelector('.badge text').textContent }));
  const marks = [...document.querySelectorAll('.marks .m[class*="tag-"]')].map((m) =>
    ({ tag: [...m.classList].find((k) => k.startsWith('tag-')).slice(4), fill: css(m, 'background-color'), letter: m.textContent }));
  return { objects: out, chips, key, marks };
}"""

# (era, step, the tags the step must show): a pin, an early copy at fork, a COW copy, a lost DMA write.
STEPS = [("5.9", 3, {"pin"}), ("5.9", 4, {"early_copy"}), ("5.9-rc", 5, {"cow_copy"}), ("5.9-rc", 6, {"lost_dma"})]


def test_export_player_key_and_timeline_draw_every_tag_alike(browser, live_server):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1600, "height": 900}, base_url=live_server, reduced_motion="reduce")
    ctx.set_default_timeout(15000)
    pg = ctx.new_page()
    errors, _ = watch(pg)
    try:
        for era, step, want in STEPS:
            pg.goto(f"/play/01-rdma?era={era}&step={step}")
            pg.wait_for_function("n => document.body.dataset.step === String(n)", arg=step)
            if pg.locator("button.skip:visible").count():
                pg.locator("button.skip:visible").first.click()       # reveal: a waiting question hides highlights
            expect(pg.locator(".pane.held")).to_have_count(0)
            expect(pg.locator(".pane .diagram g.node.hl").first).to_be_attached()
            seen = pg.evaluate(PLAYER)
            export = _export(live_server, era, step)
            shown = {o["tag"] for o in seen["objects"].values()}
            assert want <= shown, (era, step, shown)
            compared = 0
            for ident, o in seen["objects"].items():
                colour = tags.colour_of(o["tag"])
                if o["kind"] == "edge":
                    assert _hex(o["stroke"]) == colour.stroke, (ident, o)
                    if ident in export:
                        assert export[ident]["stroke"] == colour.stroke and export[ident]["tag"] == o["tag"], (ident, export[ident])
                        compared += 1
                    continue
                assert (_hex(o["fill"]), _hex(o["stroke"])) == (colour.fill, colour.stroke), (era, step, ident, o)
                if o["badge"] is not None:
                    assert (_hex(o["badge"]), _hex(o["badge_text"])) == (colour.badge, colour.badge_text), (ident, o)
                if ident in export:
                    e = export[ident]
                    assert e["tag"] == o["tag"] and (e["fill"], e["stroke"]) == (colour.fill, colour.stroke), (ident, e)
                    if o["badge"] is not None:
                        assert (e["badge"], e["badge_text"]) == (colour.badge, colour.badge_text), (ident, e)
                    compared += 1
            assert compared >= 2, (era, step, sorted(seen["objects"]), sorted(export))
            for chip in seen["chips"]:
                assert _hex(chip["fill"]) == tags.colour_of(chip["tag"]).fill, chip
            for mark in seen["marks"]:
                assert _hex(mark["fill"]) == tags.colour_of(mark["tag"]).fill, mark
                assert mark["letter"] == tags.BY_NAME[mark["tag"]].letter, mark
        # The key: a row per tag the table gives one, in its colours, with its badge.
        key = {k["tag"]: k for k in seen["key"]}
        assert list(key) == [t.name for t in tags.TAG_LIST if t.key]
        for name, k in key.items():
            colour = tags.colour_of(name)
            assert (_hex(k["fill"]), _hex(k["stroke"]), _hex(k["badge"]), _hex(k["badge_text"])) == \
                (colour.fill, colour.stroke, colour.badge, colour.badge_text), k
            assert k["words"] == tags.BY_NAME[name].badge
    finally:
        ctx.close()
    assert not errors, errors


def test_the_inspector_names_what_the_step_did_in_the_same_colours(browser, live_server):  # noqa: F811
    ctx = browser.new_context(viewport={"width": 1600, "height": 900}, base_url=live_server, reduced_motion="reduce")
    ctx.set_default_timeout(15000)
    pg = ctx.new_page()
    try:
        pg.goto("/play/01-rdma?era=5.9&step=4")
        pg.wait_for_function("() => document.body.dataset.step === '4'")
        pg.locator('.pane .diagram g[data-id="page:1"]').click()     # a question waits: nothing is told yet
        expect(pg.locator("#inspector .inspect-title")).to_be_visible()
        expect(pg.locator("#inspector .inspect-changed")).to_have_count(0)
        pg.locator("button.skip:visible").first.click()
        changed = pg.locator("#inspector .inspect-changed .tag")
        expect(changed.first).to_have_text(tags.BY_NAME["early_copy"].badge)
        fill = pg.evaluate("() => getComputedStyle(document.querySelector('#inspector .inspect-changed .tag')).backgroundColor")
        assert _hex(fill) == tags.colour_of("early_copy").fill
    finally:
        ctx.close()
