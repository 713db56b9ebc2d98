"""A step's `say:`: one Markdown text for every era, or a map from eras to texts.

    say: The parent writes.                      # every era
    say:                                         # per era; a key names one era or several
      5.7,5.8,5.9-rc: The PTE is read-only from the fork, so the write faults.
      5.9,6.x: Fork left the PTE writable: no fault at all.

Checked here, with the position of the offending word: every key is an era id
of the registry (or an alias such as `latest`) that is among the scenario's
eras, no era is named twice, and every era of the scenario gets a text (an
era left without one would show the learner nothing, or the wrong era's words).
"""
from __future__ import annotations

import difflib

import yaml

from ..eras import ALIASES, ERA_IDS, resolve

ALL = "*"          # the same key as cowviz.scenario.loader.ALL: a text for every era


def suggest(word: str) -> str:
    """` (did you mean 5.9?)` for a near miss of a registered era id, else ''."""
    close = difflib.get_close_matches(word, list(ERA_IDS) + list(ALIASES), n=1, cutoff=0.5)
    return f" (did you mean {close[0]}?)" if close else ""


def read_say(reader, node, n: int, eras: tuple) -> dict:
    """The step's narration as {ALL: text} or {era: text for each of `eras`}.  Raises ScenarioError."""
    what = f"step {n} 'say'"
    if not isinstance(node, yaml.MappingNode):
        return {ALL: reader.text(node, what, empty_ok=True)}
    out: dict = {}
    for k, v in node.value:
        key = reader.text(k, f"{what} era")
        text = reader.text(v, f"{what} text", empty_ok=True)
        quote = 1 if k.style in ('"', "'") else 0
        pos = 0
        for part in key.split(","):
            offset = quote + pos + (len(part) - len(part.lstrip()))
            pos += len(part) + 1
            word = part.strip()
            if not word:
                raise reader.error(k, f"{what}: an empty era id in '{key}' (write ids separated by commas, "
                                      f"e.g. 5.7,5.8)", offset)
            era = resolve(word)
            if era is None:
                raise reader.error(k, f"{what}: unknown era '{word}'{suggest(word)} "
                                      f"(eras: {', '.join(ERA_IDS)}, or latest)", offset)
            if era not in eras:
                raise reader.error(k, f"{what}: era {era} is not among this scenario's eras "
                                      f"({', '.join(eras)})", offset)
            if era in out:
                raise reader.error(k, f"{what}: era {era} given twice", offset)
            out[era] = text
    missing = [e for e in eras if e not in out]
    if missing:
        raise reader.error(node, f"{what}: no text for era{'s' if len(missing) > 1 else ''} "
                                 f"{', '.join(missing)} (a 'say:' map needs a text for every era of the "
                                 f"scenario: {', '.join(eras)})")
    return out
