"""How much of the kernel's state a walkthrough's diagram shows: the `shows:` key.

A beginner should not meet a field before the lesson that explains it.  A walkthrough lists
the details it has taught so far; the diagram (web frames and exported SVG/PNG alike) draws
the basics (tasks, mm, VMAs, PTEs, pages with their data, refcount and mapcount) plus only
those.  A scenario without `shows:` shows everything, as reference cases and the sandbox do.

    shows: []                                   # walkthrough 01: the basics only
    shows: [anon_vma, pins]                     # after walkthrough 04
    shows: all                                  # everything (the default)
"""
from __future__ import annotations

import difflib

import yaml

# name -> what it adds to the diagram (docs/scenarios.md repeats this table).
DETAILS = {
    "anon_vma": "anon_vma objects, the VMA's anon_vma chain, and which anon_vma a page is filed under",
    "pins": "the pin count on each page (refcount / 1024)",
    "pinned-flag": "the mm's pinned flag (has_pinned in 5.9, MMF_HAS_PINNED later)",
    "memcg": "memory cgroups with their usage and limit",
    "exclusive": "a page's PG_anon_exclusive bit (eras that have it)",
}
ALL_DETAILS = frozenset(DETAILS)


def hidden_details(scenario) -> frozenset:
    """The details the scenario's diagrams leave out (none for a scenario without `shows:`)."""
    shows = getattr(scenario, "shows", None)
    return frozenset() if shows is None else ALL_DETAILS - frozenset(shows)


def read_shows(reader, node) -> tuple:
    """`shows: all`, `shows: []` or a list of detail names.  Raises ScenarioError."""
    if isinstance(node, yaml.ScalarNode) and node.value.strip() == "all":
        return tuple(DETAILS)
    if isinstance(node, yaml.ScalarNode) and node.value.strip() in ("", "none"):
        return ()
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    out = []
    for item in items:
        name = reader.text(item, "shows item").strip()
        if name not in DETAILS:
            close = difflib.get_close_matches(name, list(DETAILS), n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise reader.error(item, f"shows: unknown detail '{name}'{hint} (details: "
                                     f"{', '.join(DETAILS)}; or all)")
        if name in out:
            raise reader.error(item, f"shows: '{name}' is listed twice")
        out.append(name)
    return tuple(out)
