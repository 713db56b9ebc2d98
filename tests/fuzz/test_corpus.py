"""The corpus: every input that once failed (issue 14's findings included), run as regression tests.

    corpus/*.yaml      scenario files: each must be refused with file:line:col: message (or run, bounded)
    corpus/console.json  console lines (after `setup`): each refused with console:1:COL or run
    corpus/events.json   Socket.IO events [event, *args]: each answered, never with a server failure
    corpus/urls.txt      HTTP requests: never a 500

Add a file or a line here for every input that ever breaks something.
"""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import pytest

from cowviz.scenario import ScenarioError, load_scenario, run_scenario
from cowviz.web.library import WebError
from cowviz.web.sandbox import Sandbox

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
ROOT = os.path.dirname(os.path.dirname(HERE))
FILES = sorted(glob.glob(os.path.join(CORPUS, "*.yaml")))


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_a_corpus_file_is_a_clear_error(path):
    try:
        scenario = load_scenario(path)
    except ScenarioError as e:
        assert str(e).startswith(path + ":") and len(str(e).splitlines()[0]) < 600
        return
    with pytest.raises(ScenarioError, match="too big"):
        run_scenario(scenario, scenario.kernel)


def test_the_cli_exits_2_on_every_corpus_file():
    done = subprocess.run([sys.executable, "-m", "cowviz", "check", *FILES], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_corpus_console_lines():
    data = json.load(open(os.path.join(CORPUS, "console.json")))
    for text in data["lines"] + ["write P buf[0] " + "V" * 900 * 1024]:
        box = Sandbox("5.9")
        for s in data["setup"]:
            box.apply(s)
        before = box.history
        try:
            box.apply(text)
        except WebError as e:
            assert str(e).startswith("console:1:") and box.history == before, text[:80]


def test_corpus_events(sock):
    for event, *args in json.load(open(os.path.join(CORPUS, "events.json"))):
        reply = sock.raw.emit(event, *args, namespace="/cowviz", callback=True)
        assert isinstance(reply, dict) and isinstance(reply["ok"], bool), (event, args)
        assert "the server failed" not in reply.get("error", ""), (event, args, reply)


def test_corpus_urls(client):
    for url in open(os.path.join(CORPUS, "urls.txt")).read().split():
        r = client.get(url)
        assert r.status_code in (200, 400, 404), (url, r.status_code)
