"""Hypothesis profiles: `ci` (the default: bounded, so the suite stays within CI's budget) and `long`
(bench/fuzz_long.py: many more examples).  Choose with HYPOTHESIS_PROFILE=long."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=int(os.environ.get("COWVIZ_FUZZ_EXAMPLES", "40")), deadline=None,
                          database=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                                 HealthCheck.data_too_large])
settings.register_profile("long", max_examples=int(os.environ.get("COWVIZ_FUZZ_EXAMPLES", "2000")), deadline=None,
                          database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                                 HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


import pytest  # noqa: E402

WEB_SCENARIOS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "web", "scenarios")


@pytest.fixture
def app():
    from app import create_app
    return create_app({"TESTING": True, "COWVIZ_SCENARIOS": WEB_SCENARIOS})


@pytest.fixture
def client(app):
    return app.test_client()


class _Sock:
    def __init__(self, app):
        self.raw = app.extensions["socketio"].test_client(app, namespace="/cowviz")


@pytest.fixture
def sock(app):
    s = _Sock(app)
    yield s
    s.raw.disconnect(namespace="/cowviz")
