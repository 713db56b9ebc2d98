"""The engine: a model of Linux address spaces, fork, faults and GUP pins.

No I/O, no printing, no web or drawing imports, and deterministic: the same
calls on the same era give the same events and snapshots.  The era (a policy
object from cowviz.eras) is handed in; this package never imports it.
"""
from .events import Event
from .invariants import InvariantError, check_invariants
from .kernel import Kernel, Outcome
from .snapshot import Snapshot, take_snapshot
from .types import (GUP_PIN_COUNTING_BIAS, PageAnon, PageAnonExclusive, is_cow_mapping,
                    page_count, page_mapcount, page_maybe_dma_pinned, pte_write)

__all__ = ["Event", "GUP_PIN_COUNTING_BIAS", "InvariantError", "Kernel", "Outcome", "PageAnon",
           "PageAnonExclusive", "Snapshot", "check_invariants", "is_cow_mapping", "page_count",
           "page_mapcount", "page_maybe_dma_pinned", "pte_write", "take_snapshot"]
