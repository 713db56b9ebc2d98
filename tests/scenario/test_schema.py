"""`cowviz schema`: a JSON Schema (Draft 2020-12) made from the command grammar and the era registry."""
import glob
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

jsonschema = pytest.importorskip("jsonschema")

from cowviz.eras import ERA_IDS
from cowviz.scenario.command import GRAMMAR, USAGE, parse_command
from cowviz.scenario.schema import command_pattern, scenario_schema, undescribed_keys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = sorted(glob.glob(os.path.join(ROOT, "scenarios", "**", "*.yaml"), recursive=True)
                 + glob.glob(os.path.join(ROOT, "tests", "**", "scenarios", "*.yaml"), recursive=True))
VALIDATOR = jsonschema.Draft202012Validator(scenario_schema())


def errors_of(doc):
    return sorted(e.message for e in VALIDATOR.iter_errors(doc))


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(scenario_schema())
    assert scenario_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_cli_prints_it():
    out = subprocess.run([sys.executable, "-m", "cowviz", "schema"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and json.loads(out.stdout) == scenario_schema()


@pytest.mark.parametrize("path", SHIPPED, ids=[os.path.relpath(p, ROOT) for p in SHIPPED])
def test_every_shipped_scenario_validates(path):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)                # as a YAML editor reads it: 5.9 is a number there
    assert errors_of(doc) == []


def test_era_ids_come_from_the_registry():
    enum = scenario_schema()["$defs"]["era"]["enum"]
    assert [e for e in enum if isinstance(e, str)] == [*ERA_IDS, "latest"]
    assert 5.9 in enum and 5.7 in enum              # `eras: [5.7, 5.9]` unquoted in YAML


def test_every_key_the_loader_accepts_is_described():
    assert undescribed_keys() == []


def test_each_command_is_a_pattern_with_its_usage():
    do = scenario_schema()["$defs"]["step"]["properties"]["do"]["anyOf"]
    assert {c["title"] for c in do} == set(GRAMMAR)
    assert next(c for c in do if c["title"] == "fork")["description"] == USAGE["fork"]


# Lines the parser accepts match their pattern; lines it rejects for their shape do not.
GOOD = ["mmap P buf 4", "mmap P buf 4 shared ro", "munmap P buf", "mprotect P buf ro", "madvise P buf dontfork",
        "read P buf[3]", "write C buf[0] SECRET  # comment", "fork P C", "thread P T", "exit C", "exec P",
        "gup P buf[0] as dio write x1024", "pin P buf[0] as nic write longterm", "unpin nic", "dma-write nic C",
        "dma-read nic", "vmsplice C buf[0] pipe", "pipe-read pipe", "memcg-limit P 3", "fail-alloc",
        "fail-alloc 2", "assert same-page P buf[0] C buf[1]", "assert pinned P buf[0]"]
BAD = ["mmpa P buf 4", "mmap P buf four", "mmap P buf 4 huge", "read P buf", "fork P", "gup P buf[0] nic",
       "pin P buf[0] as nic x2", "madvise P buf forget", "assert pinned P buf[0] C buf[0]", "write P buf[0]"]


def _matches(line):
    return [op for op, forms in GRAMMAR.items() for form in forms if re.match(command_pattern(op, form), line)]


@pytest.mark.parametrize("line", GOOD)
def test_a_good_command_matches_its_pattern(line):
    assert _matches(line) == [parse_command(line).op]


@pytest.mark.parametrize("line", BAD)
def test_a_malformed_command_matches_no_pattern(line):
    assert _matches(line) == []


def test_typical_mistakes_are_schema_errors():
    base = {"title": "t", "steps": [{"do": "mmap P buf 1"}]}
    assert errors_of(base) == []
    assert errors_of({**base, "sumary": "x"})                      # a misspelt key
    assert errors_of({**base, "eras": ["5.9", "6.y"]})              # an unknown era
    assert errors_of({**base, "steps": [{"do": "mmpa P buf 1"}]})   # an unknown command
    assert errors_of({**base, "steps": [{"do": "mmap P buf 1", "ask": {"question": "q", "pick": "page"}}]})
    assert errors_of({"steps": base["steps"]})                      # no title
    assert errors_of({**base, "steps": [{"do": "read P buf[0]", "expect": {5.9: 1, "6.x": "ok"}}]}) == []
    assert errors_of({**base, "steps": [{"do": "read P buf[0]", "expect": {"5.10": 1}}]})
