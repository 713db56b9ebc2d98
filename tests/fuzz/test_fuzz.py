"""Fuzzing with Hypothesis: the command language, scenario files, Socket.IO events and HTTP query
strings.  Random and mutated input gives a clear error or a valid run, never a traceback, and the
engine's invariants hold after every step (the runner checks them; a broken one would surface as
InvariantError or the sandbox's "broke an invariant" message, and fail here).

The `ci` profile (tests/fuzz/conftest.py) keeps this within the suite's budget; bench/fuzz_long.py
runs the same tests with many more examples.  An input that ever fails goes into corpus/ (test_corpus.py).
"""
from __future__ import annotations

import glob
import os

from hypothesis import given, strategies as st

from cowviz.eras import ERA_IDS
from cowviz.mm import InvariantError
from cowviz.scenario import ScenarioError, parse_command, run_commands, run_scenario
from cowviz.scenario.loader import parse_scenario
from cowviz.web.library import WebError
from cowviz.web.sandbox import Sandbox

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = sorted(glob.glob(os.path.join(ROOT, "scenarios", "*.yaml")))
WEB_SCENARIOS = os.path.join(ROOT, "tests", "web", "scenarios")

# -- the command language -------------------------------------------------------------------------

OPS = ["mmap", "munmap", "mprotect", "madvise", "read", "write", "fork", "thread", "exit", "exec", "gup", "pin",
       "unpin", "dma-write", "dma-read", "vmsplice", "pipe-read", "memcg-limit", "fail-alloc", "assert"]
WORDS = ["P", "C", "D", "T", "buf", "sh", "nic", "pipe", "as", "write", "longterm", "shared", "private", "rw", "ro",
         "dontfork", "dofork", "wipeonfork", "keeponfork", "same-page", "different-page", "writable", "readonly",
         "unmapped", "pinned", "x2", "x1025", "x2048", "A", "B", "0", "1", "4", "16", "#"]
ODD = ["\u00b3", "\u0663", "\uff13", "9" * 30, "-1", "\0", "\ud800", "é", "[", "]", "buf[", "x", "  ", "\t"]


def page_ref():
    return st.builds(lambda v, i: f"{v}[{i}]", st.sampled_from(["buf", "sh", "b"]),
                     st.one_of(st.integers(-2, 20).map(str), st.sampled_from(ODD)))


word = st.one_of(st.sampled_from(WORDS), page_ref(), st.sampled_from(ODD), st.text(max_size=6))
line = st.one_of(
    st.builds(lambda op, ws: " ".join([op] + ws), st.sampled_from(OPS), st.lists(word, max_size=6)),
    st.text(max_size=40))

# Lines that set up something to work on, so random lines often hit real objects.
SETUP = ["mmap P buf 4", "write P buf[0] A", "fork P C", "mmap P sh 2 shared"]


@given(era=st.sampled_from(ERA_IDS + ("latest",)), lines=st.lists(line, max_size=25),
       prefix=st.integers(0, len(SETUP)))
def test_console_lines_give_an_error_or_a_valid_run(era, lines, prefix):
    box = Sandbox(era)
    for text in SETUP[:prefix] + lines:
        try:
            box.apply(text)
        except WebError as e:
            msg = str(e)
            assert msg and "invariant" not in msg and len(msg) < 2000, msg
    # The live kernel agrees with a replay of the same list from the start (undo, era switch, reload).
    again = run_commands(list(box.commands), box.era)
    assert [s.result for s in again.steps] == [s.result for s in box.run.steps]
    if box.commands:
        box.undo()
        assert len(box.run.steps) == len(box.commands)


# Lines that make new objects, so that random sessions reach the diagram's `objects` limit.
GROW = ["write P buf[1] X", "write C buf[2] Y", "fork P D", "gup P buf[3] as dev x4", "vmsplice C buf[0] pipe",
        "pin P buf[2] as nic write longterm", "exit D", "mmap C more 8", "write C more[5] Z"]
sandbox_op = st.one_of(line, st.sampled_from(GROW), st.just("<undo>"),
                       st.sampled_from(ERA_IDS).map(lambda e: f"<era {e}>"))


@given(era=st.sampled_from(ERA_IDS), ops=st.lists(sandbox_op, max_size=16), prefix=st.integers(0, len(SETUP)))
def test_a_sandbox_with_its_diagram_draws_what_a_restore_of_its_history_draws(era, ops, prefix):
    """Typed lines, undos, era switches and lines taken back at the diagram's limit: the session
    always ends drawn, and run, exactly as a restore of its history under its era."""
    from cowviz.web.frames import SandboxFrames
    limits = {"objects": 24}             # small, so that random sessions reach it
    box = Sandbox(era, limits, view=SandboxFrames(era))
    for op in SETUP[:prefix] + ops:
        try:
            if op == "<undo>":
                box.undo()
            elif op.startswith("<era "):
                box.set_era(op[5:-1])
            else:
                box.apply(op)
        except WebError as e:
            assert "invariant" not in str(e), str(e)
        box.view.frame_json()                 # drawn after each, as the server replies
        assert box.view.objects() <= limits["objects"]
    again = Sandbox(box.era, limits, view=SandboxFrames(box.era))
    assert again.restore(list(box.history)) == []
    assert [s.result for s in again.run.steps] == [s.result for s in box.run.steps]
    assert again.view.frame_json() == box.view.frame_json()


@given(text=st.text(max_size=80))
def test_any_text_parses_or_is_a_command_error(text):
    from cowviz.scenario.command import CommandError
    try:
        parse_command(text)
    except CommandError as e:
        assert e.message and len(e.message) < 1000


# -- scenario files --------------------------------------------------------------------------------

YAML_BITS = ["\n", ": ", "- ", "  ", "[", "]", "{", "}", "&a ", "*a", "!!int ", "'", '"', "#", "|", ">", "\t",
             "9" * 50, "\u00b3", "\0", "do: ", "expect: ", "ask: ", "say: ", "steps:", "eras: [5.9]", "- do: fork P C\n"]


@st.composite
def mutated_scenario(draw):
    text = open(draw(st.sampled_from(SHIPPED)), encoding="utf-8").read()
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["delete", "insert", "duplicate", "swap"]))
        n = len(text)
        a = draw(st.integers(0, max(0, n - 1)))
        if kind == "delete":
            text = text[:a] + text[a + draw(st.integers(1, 80)):]
        elif kind == "insert":
            text = text[:a] + draw(st.one_of(st.sampled_from(YAML_BITS), st.text(max_size=8))) + text[a:]
        elif kind == "duplicate":
            b = min(n, a + draw(st.integers(1, 200)))
            text = text[:b] + text[a:b] + text[b:]
        else:
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


@given(text=mutated_scenario())
def test_mutated_scenario_files_give_an_error_or_a_valid_run(text):
    try:
        scenario = parse_scenario(text, "fuzz.yaml")
    except ScenarioError as e:
        assert str(e).startswith("fuzz.yaml:") and e.line >= 1 and e.col >= 1
        return
    for era in (scenario.kernel,):
        try:
            run = run_scenario(scenario, era)
        except ScenarioError as e:       # past the run limit
            assert "too big" in str(e)
            continue
        except InvariantError as e:      # pragma: no cover - a model bug: fail with the input
            raise AssertionError(f"invariant broken: {e}\n{text}")
        assert len(run.steps) == len(scenario.steps)


# -- Socket.IO events --------------------------------------------------------------------------------

EVENTS = ["open", "step", "era", "answer", "sandbox", "command", "undo", "reset", "complete", "export", "lab"]
json_value = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10 ** 30, 10 ** 30), st.floats(allow_nan=False),
                                    st.text(max_size=12), st.sampled_from(["01-rdma", "02-zero-page", "5.9", "6.x", "latest",
                                                                           "mmap P buf 4", "write P buf[0] A", "fork P C",
                                                                           "skip", "page:1", "\u00b3", "9" * 5000])),
                          lambda children: st.one_of(st.lists(children, max_size=4),
                                                     st.dictionaries(st.sampled_from(["name", "eras", "step", "reveal", "era",
                                                                                      "choice", "text", "commands", "rev",
                                                                                      "x"]), children, max_size=4)),
                          max_leaves=10)

_APP = {}


def sock():
    if "app" not in _APP:
        from app import create_app
        _APP["app"] = create_app({"TESTING": True, "COWVIZ_SCENARIOS": WEB_SCENARIOS})
    app = _APP["app"]
    return app.extensions["socketio"].test_client(app, namespace="/cowviz")


@given(calls=st.lists(st.tuples(st.sampled_from(EVENTS + ["nope"]), st.lists(json_value, max_size=2)), max_size=8))
def test_random_events_get_an_answer_never_a_failure(calls):
    client = sock()
    try:
        for event, args in [("sandbox", [{"era": "5.9", "commands": ["mmap P buf 4"]}])] + calls:
            reply = client.emit(event, *args, namespace="/cowviz", callback=True)
            assert isinstance(reply, dict) and isinstance(reply.get("ok"), bool), (event, args, reply)
            if not reply["ok"]:
                assert isinstance(reply["error"], str) and reply["error"]
                assert "the server failed" not in reply["error"], (event, args, reply)
    finally:
        client.disconnect(namespace="/cowviz")


# -- HTTP query strings ------------------------------------------------------------------------------

query_value = st.one_of(st.text(max_size=10), st.sampled_from(["0", "1", "4", "5.9", "6.x", "\u00b3", "\u0663", "9" * 5000,
                                                               "-1", "%00", "latest", ""]))


@given(path=st.sampled_from(["/export/01-rdma.svg", "/export/02-zero-page.svg", "/play/01-rdma", "/sandbox", "/",
                             "/tutorial", "/export/nope.svg", "/play/reference/nope"]),
       args=st.dictionaries(st.sampled_from(["step", "era", "compare", "x"]), query_value, max_size=3))
def test_query_strings_never_give_a_500(path, args):
    sock()                                   # makes the app
    client = _APP["app"].test_client()
    r = client.get(path, query_string=args)
    assert r.status_code in (200, 400, 404), (path, args, r.status_code)
    if r.status_code != 200:
        assert r.get_data(as_text=True).strip()
