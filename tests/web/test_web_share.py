"""Sharing by link: a scenario or a sandbox session compressed into the URL fragment (no server write)."""
import json
import zlib

import pytest

from cowviz.scenario import parse_scenario
from cowviz.web import share

SCENARIO = """\
title: Shared — with a non-ASCII title ✓
steps:
  - do: mmap P buf 1
  - do: write P buf[0] A
  - do: fork P C
  - do: read C buf[0]
    expect: A
"""


def test_round_trip_gives_the_same_text():
    code = share.encode(SCENARIO)
    assert share.decode(code) == SCENARIO
    assert parse_scenario(share.decode(code)).title.startswith("Shared")
    assert set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    long = SCENARIO + "".join(f"  - do: read P buf[0]\n    say: step {i} reads the page again\n" for i in range(200))
    assert len(share.encode(long)) < len(long) / 4          # compressed


def test_links_for_the_editor_the_player_and_the_sandbox():
    assert share.scenario_link("http://h:5000/", SCENARIO).startswith("http://h:5000/edit#s=")
    assert share.scenario_link("http://h:5000", SCENARIO, view=True).startswith("http://h:5000/view#s=")
    link = share.sandbox_link("http://h", "5.9", ["mmap P buf 1", "fork P C"])
    assert json.loads(share.decode(link.split("#c=")[1])) == {"era": "5.9", "commands": ["mmap P buf 1", "fork P C"]}


def test_a_scenario_too_big_for_a_link_is_refused_with_a_reason():
    import random
    rng = random.Random(1)
    big = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(40000))
    with pytest.raises(share.ShareError, match="too long for a link"):
        share.encode(big)


@pytest.mark.parametrize("code, message", [
    ("not base64!", "broken"),
    (share.encode(SCENARIO)[:-12], "broken"),                     # cut short
    ("A" * (share.MAX_FRAGMENT + 1), "too long"),
    ("", "broken"),
])
def test_a_broken_or_oversized_link_gets_a_clear_message(code, message):
    with pytest.raises(share.ShareError, match=message):
        share.decode(code)


def test_a_link_that_inflates_past_the_limit_is_refused():
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = c.compress(b"a" * (share.MAX_TEXT + 10)) + c.flush()
    import base64
    code = base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    assert len(code) < share.MAX_FRAGMENT
    with pytest.raises(share.ShareError, match="more than"):
        share.decode(code)


def test_a_link_that_is_not_utf8_is_refused():
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    import base64
    code = base64.urlsafe_b64encode(c.compress(b"\xff\xfe") + c.flush()).decode().rstrip("=")
    with pytest.raises(share.ShareError, match="UTF-8"):
        share.decode(code)
