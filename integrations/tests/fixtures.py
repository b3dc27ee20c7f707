"""Fixtures of every test that reaches the Roblox clients: Roblox is never called for real, nobody really sleeps.

Used by integrations/tests (through its conftest.py) and by the games sync tests (imported there).
"""

from __future__ import annotations

import pytest
import responses

from integrations.roblox import http


@pytest.fixture(autouse=True)
def rsps():
    """Every test runs with ``responses`` active: a call to an unregistered URL fails, none reaches the network."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture(autouse=True)
def sleeps(monkeypatch):
    """The seconds the integration asked to sleep, in order (nothing is slept)."""
    asked: list[float] = []
    monkeypatch.setattr(http, "sleep", asked.append)
    return asked


@pytest.fixture(autouse=True)
def _roblox_settings(settings):
    # Jitter at its upper bound makes backoff delays exact; a generous rate limit keeps it out of the
    # way of tests about something else (the rate-limit tests set their own).
    settings.ROBLOX_RATE_LIMIT_PER_MINUTE = 60_000
    settings.ROBLOX_RATE_LIMIT_BURST = 1_000
    settings.ROBLOX_CACHE_TTLS = dict(settings.ROBLOX_CACHE_TTLS)


class _UpperBound:
    @staticmethod
    def uniform(low: float, high: float) -> float:
        return high


@pytest.fixture(autouse=True)
def _jitter_at_upper_bound(monkeypatch):
    # tenacity's random waits draw from tenacity.wait's ``random``; only that module sees the pinned one.
    import tenacity.wait

    monkeypatch.setattr(tenacity.wait, "random", _UpperBound())


@pytest.fixture(autouse=True)
def _tasks_run_inline():
    """A data API request's refresh runs in the request, as a worker would run it (the real worker is tested
    in test_readthrough.py)."""
    from celery import current_app

    before = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = before
