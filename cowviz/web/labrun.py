"""The "run on this machine" button: the live-kernel lab (cowviz.lab, docs/lab.md) for the web.

Only built when the server is started with --lab (or COWVIZ_LAB=1): a probe
runs real processes as the server's user.  One probe runs at a time on the
whole server; a second request meanwhile is told to try again rather than
queued, so a classroom cannot pile probes up.
"""
from __future__ import annotations

import threading

from .library import WebError

TIMEOUT_S = 30.0


class LabRunner:
    """Runs lab probes for sessions, one at a time."""

    def __init__(self):
        self._busy = threading.Lock()

    def probe(self, scenario=None, commands=None) -> dict:
        """Probe a Scenario, or the sandbox's parsed commands.  Returns the report's JSON without the views."""
        from .. import lab
        ok, why = lab.lab_available()
        if not ok:
            raise WebError(f"this machine cannot run the lab: {why}")
        if not self._busy.acquire(blocking=False):
            raise WebError("another probe is running on this server; try again in a moment")
        try:
            if scenario is not None:
                report = lab.probe_scenario(scenario, timeout=TIMEOUT_S)
            else:
                report = lab.probe_commands(commands, timeout=TIMEOUT_S, title="sandbox session")
        except (lab.LabError, ValueError) as e:
            raise WebError(f"the lab cannot run this: {e}") from None
        finally:
            self._busy.release()
        out = report.to_json()
        # The per-row views are for the lab's own tests; the page shows the cells and differences.
        for row in out["rows"]:
            row.pop("model_view", None)
            row.pop("kernel_view", None)
        out["scenario"] = None          # a server path: not the page's business
        return out
