"""The live-kernel lab: replay a scenario with real processes and hold the model against it.

    from cowviz.lab import lab_available, probe_scenario
    ok, why = lab_available()
    report = probe_scenario("scenarios/cow-basics.yaml", timeout=30)
    print(report.table())           # or report.to_json(); report.rows[i].verdict, .agree

See docs/lab.md.  Names are imported lazily, so that the agent processes
(python -m cowviz.lab.agent) start without loading the engine.
"""
from __future__ import annotations

__all__ = ["DEFAULT_TIMEOUT", "LabError", "LabLimitError", "LabReport", "LabRow", "LabTimeout",
           "LabUnavailable", "capabilities", "kernel_era", "lab_available", "probe_commands",
           "probe_scenario", "replayable"]

_WHERE = {"LabError": "machine", "LabTimeout": "machine", "LabReport": "report", "LabRow": "report"}


def __getattr__(name):
    if name not in __all__:
        raise AttributeError(f"module 'cowviz.lab' has no attribute '{name}'")
    import importlib
    module = importlib.import_module(f".{_WHERE.get(name, 'probe')}", __name__)
    return getattr(module, name)
