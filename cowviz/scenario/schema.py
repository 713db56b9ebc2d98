"""A JSON Schema (Draft 2020-12) of the scenario format, made from the command grammar and the era registry.

`python -m cowviz schema` prints it (docs/authoring.md says how to attach it
to a YAML editor).  Each command is a pattern with its usage line as the
description; the era ids come from cowviz.eras, so a new era is in the schema
as soon as it is registered.  The schema is what a YAML editor can check as
you type; the loader (loader.py) stays the judge: it also knows names, page
ranges and era-specific answers, which a schema cannot.

A YAML editor reads `5.9` as a number and `0` as an integer, so era ids and
scalars are accepted in both spellings.
"""
from __future__ import annotations

import re

from ..eras import ALIASES, ERA_IDS
from .command import GRAMMAR, USAGE
from .detail import DETAILS
from .loader import ASK_KEYS, STEP_KEYS, TOP_KEYS

SCHEMA_ID = "https://cowviz.invalid/scenario.schema.json"
_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
_WORD = {
    "task": _NAME, "task-or-new": _NAME, "new-task": _NAME, "vma": _NAME, "new-vma": _NAME,
    "device": _NAME, "pipe": _NAME, "page": _NAME + r"\[[0-9]+\]", "number": r"[0-9]+", "value": r"[^\s#]+",
}


def _arg_pattern(arg) -> str:
    if arg.kind == "word":
        return "(?:" + "|".join(re.escape(w) for w in arg.words) + ")"
    if arg.kind == "flags":
        words = [r"x[0-9]+" if w == "xN" else re.escape(w) for w in arg.words]
        return r"(?:\s+(?:" + "|".join(words) + "))*"
    return _WORD[arg.kind]


def command_pattern(op: str, form: tuple) -> str:
    """A regular expression for one form of a command line (trailing `# comment` allowed)."""
    out = r"^\s*" + re.escape(op)
    for arg in form:
        if arg.kind == "flags":
            out += _arg_pattern(arg)
        elif arg.optional:
            out += r"(?:\s+" + _arg_pattern(arg) + ")?"
        else:
            out += r"\s+" + _arg_pattern(arg)
    return out + r"\s*(?:#.*)?$"


def _era_values() -> list:
    """Era ids and aliases, and the numbers a YAML editor makes of the ones that look like numbers."""
    out: list = list(ERA_IDS) + list(ALIASES)
    for e in ERA_IDS:
        try:
            out.append(float(e))
        except ValueError:
            pass
    return out


def _era_group_pattern() -> str:
    """A map key naming one era or several (`5.7, 5.8`)."""
    one = "(?:" + "|".join(re.escape(e) for e in list(ERA_IDS) + list(ALIASES)) + ")"
    return rf"^\s*{one}(?:\s*,\s*{one})*\s*$"


def _per_era(what: str, value: dict, groups: bool = False) -> dict:
    key = "#/$defs/era-group" if groups else "#/$defs/era"
    return {"description": f"{what}: one value for every era, or a map from era id to the value under that era",
            "anyOf": [value, {"type": "object", "minProperties": 1, "propertyNames": {"$ref": key},
                              "additionalProperties": value}]}


def scenario_schema() -> dict:
    """The schema as a JSON-ready dict."""
    scalar = {"type": ["string", "number", "integer", "boolean"]}
    text = {"type": "string"}
    commands = [{"title": op, "description": f"{USAGE[op]}" if len(forms) == 1 else " ".join(
                 [op, *(a.name for a in form)]), "pattern": command_pattern(op, form)}
                for op, forms in GRAMMAR.items() for form in forms]
    top = {
        "title": {"type": "string", "minLength": 1, "description": "the walkthrough's title"},
        "summary": {"type": "string", "description": "Markdown shown at the start (step 0) and in the library"},
        "eras": {"description": "the eras this scenario is written for (default: all)",
                 "anyOf": [{"$ref": "#/$defs/era"},
                           {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"$ref": "#/$defs/era"}}]},
        "kernel": {"$ref": "#/$defs/era", "description": "the era it opens in (default: the newest of its eras)"},
        "compare": {"type": "array", "minItems": 2, "maxItems": 2, "uniqueItems": True,
                    "items": {"$ref": "#/$defs/era"}, "description": "open side by side in these two eras"},
        "level": {"type": "string", "minLength": 1, "description": "e.g. beginner, intermediate, advanced"},
        "tags": {"anyOf": [text, {"type": "array", "items": scalar}], "description": "words to group and find it by"},
        "series": {"type": "string", "minLength": 1,
                   "description": "the series (a section of the library) this walkthrough belongs to"},
        "order": {"type": ["integer", "string"], "description": "its place in the series (a whole number)"},
        "shows": {"description": "the diagram details taught so far (docs/scenarios.md); default: all",
                  "anyOf": [{"enum": ["all", "none"]},
                            {"type": "array", "uniqueItems": True, "items": {"enum": list(DETAILS)}}]},
        "references": {"type": "array", "description": "commits, mails, articles",
                       "items": {"anyOf": [text, {"type": "object", "required": ["title"],
                                                  "additionalProperties": False,
                                                  "properties": {"title": text, "url": text}}]}},
        "steps": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}},
    }
    step = {
        "do": {"type": "string", "description": "one command (docs/commands.md)", "anyOf": commands},
        "say": _per_era("Markdown narration of the step", text, groups=True),
        "expect": _per_era("the step's result: a value read, ok, or an error such as SIGSEGV", scalar, groups=True),
        "ask": {"$ref": "#/$defs/ask"},
        "notes": {"type": "string", "description": "notes for the presenter, not shown to students"},
    }
    ask_props = {
        "question": {"type": "string", "minLength": 1},
        "choices": {"type": "array", "minItems": 2, "uniqueItems": True, "items": scalar},
        "answer": _per_era("the right choice", scalar, groups=True),
        "explain": _per_era("Markdown shown once the answer is revealed", text, groups=True),
        "pick": {"const": "page", "description": "the learner clicks the page that TASK VMA[I] maps after the step"},
        "of": {"type": "string", "pattern": rf"^\s*{_NAME}\s+{_NAME}\[[0-9]+\]\s*$",
               "description": "TASK VMA[I]: whose page is the answer"},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "cowviz scenario",
        "description": "A cowviz scenario file (docs/scenarios.md, docs/authoring.md).",
        "type": "object",
        "required": ["title", "steps"],
        "additionalProperties": False,
        "properties": _only(top, TOP_KEYS),
        "$defs": {
            "era": {"description": "a kernel era: " + ", ".join(ERA_IDS) + " (latest = " + ALIASES["latest"] + ")",
                    "enum": _era_values()},
            "era-group": {"anyOf": [{"enum": _era_values()},
                                  {"type": "string", "pattern": _era_group_pattern()}]},
            "step": {"type": "object", "required": ["do"], "additionalProperties": False,
                     "properties": _only(step, STEP_KEYS)},
            "ask": {"type": "object", "required": ["question"], "additionalProperties": False,
                    "properties": _only(ask_props, ASK_KEYS),
                    "oneOf": [{"required": ["choices", "answer"], "not": {"required": ["pick"]}},
                              {"required": ["pick", "of"],
                               "not": {"anyOf": [{"required": ["choices"]}, {"required": ["answer"]}]}}]},
        },
    }


def _only(described: dict, keys: tuple) -> dict:
    """The properties the loader accepts, in its order.  A key it accepts that is not described here
    still validates (anything goes) so the schema never rejects a file the loader takes; a test
    (tests/scenario/test_schema.py) fails until it is described."""
    return {k: described.get(k, {"description": f"'{k}' (see docs/scenarios.md)"}) for k in keys}


def undescribed_keys() -> list[str]:
    schema = scenario_schema()
    out = []
    for props in (schema["properties"], schema["$defs"]["step"]["properties"], schema["$defs"]["ask"]["properties"]):
        out += [k for k, v in props.items() if list(v) == ["description"] and v["description"].startswith(f"'{k}'")]
    return out
