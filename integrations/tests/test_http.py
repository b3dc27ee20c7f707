"""The shared HTTP path: timeouts, retries and what Roblox asks us to wait, errors, the circuit breaker."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from prometheus_client import REGISTRY

from integrations import backoff
from integrations.roblox import games, http, opencloud, thumbnails, universes
from integrations.roblox.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from integrations.roblox.errors import (
    RobloxBadRequest,
    RobloxBadResponse,
    RobloxCircuitOpen,
    RobloxForbidden,
    RobloxNotFound,
    RobloxRateLimited,
    RobloxUnavailable,
)
from integrations.tests import roblox_bodies as rb

GAMES_HOST = "games.roblox.com"


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --------------------------------------------------------------------------- the session


def test_one_session_is_shared_by_every_client():
    assert http.get_session() is http.get_session()


def test_calls_carry_explicit_connect_and_read_timeouts(rsps, settings):
    settings.ROBLOX_CONNECT_TIMEOUT = 2
    settings.ROBLOX_READ_TIMEOUT = 7
    rsps.get(rb.place_universe_url(1818), json={"universeId": 13058})

    universes.place_universe(1818)

    assert rsps.calls[0].request.req_kwargs["timeout"] == (2.0, 7.0)


def test_base_url_comes_from_settings(rsps, settings):
    settings.ROBLOX_BASE_URLS = {**settings.ROBLOX_BASE_URLS, "games": "https://roblox-proxy.example.com/games/"}
    rsps.get("https://roblox-proxy.example.com/games/v1/games", json={"data": [rb.game(1818)]})

    assert games.games_details([1818])[1818].name == "Classic: Crossroads"


# --------------------------------------------------------------------------- retries


def test_429_then_200_waits_what_retry_after_asks(rsps, sleeps):
    rsps.get(rb.GAMES_URL, status=429, headers={"Retry-After": "7"}, json=rb.legacy_error(0, "Too many requests"))
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(1818)]})

    result = games.games_details([1818])

    assert sleeps == [7.0]
    assert 1818 in result


def test_retry_after_as_an_http_date_is_understood(rsps, sleeps):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    rsps.get(rb.GAMES_URL, status=429, headers={"Retry-After": when})
    rsps.get(rb.GAMES_URL, json={"data": []})

    games.games_details([1818])

    assert len(sleeps) == 1 and 17 <= sleeps[0] <= 20


def test_429_without_retry_after_waits_for_x_ratelimit_reset(rsps, sleeps):
    headers = {"x-ratelimit-limit": "100, 100;w=60", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "12"}
    rsps.get(rb.cloud_universe_url(1818), status=429, headers=headers, json={"code": "RESOURCE_EXHAUSTED"})
    rsps.get(rb.cloud_universe_url(1818), json=rb.cloud_universe(1818))

    universe = opencloud.universe(1818, api_key="oc-key-123456789")

    assert sleeps == [12.0]
    assert universe.id == 1818


def test_429_asking_for_longer_than_we_retry_fails_at_once_as_rate_limited(rsps, sleeps, settings):
    settings.ROBLOX_RETRY_AFTER_MAX = 30
    rsps.get(rb.GAMES_URL, status=429, headers={"Retry-After": "120"})

    with pytest.raises(RobloxRateLimited) as caught:
        games.games_details([1818])

    assert caught.value.retry_after == 120
    assert sleeps == [] and len(rsps.calls) == 1


def test_429_on_every_attempt_ends_rate_limited(rsps, sleeps, settings):
    settings.ROBLOX_MAX_RETRIES = 2
    rsps.get(rb.GAMES_URL, status=429, headers={"Retry-After": "1"})

    with pytest.raises(RobloxRateLimited):
        games.games_details([1818])

    assert len(rsps.calls) == 3 and sleeps == [1.0, 1.0]


def test_5xx_is_retried_with_capped_exponential_backoff(rsps, sleeps, settings):
    settings.ROBLOX_BACKOFF_BASE_MS = 500
    settings.ROBLOX_BACKOFF_MAX_MS = 1500
    settings.ROBLOX_MAX_RETRIES = 4
    rsps.get(rb.GAMES_URL, status=503, json=rb.legacy_error(0, "Service unavailable"))

    with pytest.raises(RobloxUnavailable) as caught:
        games.games_details([1818])

    # Jitter is pinned at its upper bound by the test fixtures: 0.5, 1, 2 -> capped at 1.5.
    assert sleeps == [0.5, 1.0, 1.5, 1.5]
    assert caught.value.status == 503 and len(rsps.calls) == 5


def test_backoff_jitter_stays_between_half_and_all_of_the_capped_delay(monkeypatch):
    import random

    import tenacity.wait

    monkeypatch.setattr(tenacity.wait, "random", random)
    strategy = backoff.equal_jitter(base=0.25, cap=4.0)
    for attempt in range(8):
        ceiling = min(4.0, 0.25 * 2**attempt)
        delays = {backoff.delay(strategy, attempt + 1) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered


def test_connection_error_is_retried(rsps, sleeps):
    rsps.get(rb.GAMES_URL, body=requests.ConnectionError("connection reset by peer"))
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(1818)]})

    assert 1818 in games.games_details([1818])
    assert len(sleeps) == 1


def test_timeouts_end_as_unavailable_after_the_retries(rsps, settings):
    settings.ROBLOX_MAX_RETRIES = 1
    rsps.get(rb.GAMES_URL, body=requests.ReadTimeout("read timed out"))

    with pytest.raises(RobloxUnavailable, match="timeout"):
        games.games_details([1818])

    assert len(rsps.calls) == 2


def test_a_publish_that_timed_out_reading_is_not_sent_twice(rsps):
    # Roblox may have delivered it: a second publish could reach live servers twice.
    rsps.post(rb.publish_url(1818), body=requests.ReadTimeout("read timed out"))

    with pytest.raises(RobloxUnavailable):
        opencloud.publish_message(1818, api_key="oc-key-123456789", topic="campaigns", message="refresh")

    assert len(rsps.calls) == 1


def test_4xx_is_not_retried(rsps, sleeps):
    rsps.get(rb.GAMES_URL, status=400, json=rb.legacy_error(8, "Too many ids."))

    with pytest.raises(RobloxBadRequest):
        games.games_details([1818])

    assert len(rsps.calls) == 1 and sleeps == []


# --------------------------------------------------------------------------- error bodies


def test_legacy_error_body_becomes_our_exception_with_its_code_and_message(rsps):
    rsps.get(rb.GAMES_URL, status=400, json=rb.legacy_error(4, "The universe IDs are invalid."))

    with pytest.raises(RobloxBadRequest) as caught:
        games.games_details([1818])

    assert (caught.value.status, caught.value.code, caught.value.host) == (400, 4, GAMES_HOST)
    assert "The universe IDs are invalid." in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "exception", "code"),
    [
        (404, rb.legacy_error(2, "The place is invalid."), RobloxNotFound, 2),
        (
            403,
            {"code": "PERMISSION_DENIED", "message": "Insufficient scope.", "details": []},
            RobloxForbidden,
            "PERMISSION_DENIED",
        ),
        (401, {"error": "UNAUTHORIZED", "message": "Invalid API Key"}, RobloxForbidden, "UNAUTHORIZED"),
        (500, rb.legacy_error(0, "InternalServerError"), RobloxUnavailable, 0),
    ],
    ids=["legacy-404", "opencloud-v2-403", "opencloud-v1-401", "legacy-500"],
)
def test_every_error_body_shape_maps_to_our_exceptions(rsps, settings, status, body, exception, code):
    settings.ROBLOX_MAX_RETRIES = 0
    rsps.get(rb.place_universe_url(1), status=status, json=body)

    with pytest.raises(exception) as caught:
        universes.place_universe(1)

    assert caught.value.code == code and caught.value.status == status


def test_error_without_a_json_body_still_maps_by_status(rsps, settings):
    settings.ROBLOX_MAX_RETRIES = 0
    rsps.get(rb.GAMES_URL, status=502, body="<html>Bad gateway</html>", content_type="text/html")

    with pytest.raises(RobloxUnavailable) as caught:
        games.games_details([1])

    assert caught.value.status == 502 and caught.value.code is None


def test_a_success_that_is_not_json_is_a_bad_response(rsps):
    rsps.get(rb.GAMES_URL, body="<html>captive portal</html>", content_type="text/html")
    with pytest.raises(RobloxBadResponse):
        games.games_details([1])


# --------------------------------------------------------------------------- circuit breaker


@pytest.fixture
def breaker_settings(settings):
    settings.ROBLOX_MAX_RETRIES = 0
    settings.ROBLOX_BREAKER_FAILURES = 3
    settings.ROBLOX_BREAKER_COOLDOWN = 0.05  # seconds; the tests wait it out for real
    return settings


def fail_n_times(n: int) -> None:
    for _ in range(n):
        with pytest.raises(RobloxUnavailable):
            games.games_details([1818])


def test_breaker_opens_after_consecutive_failures_and_stops_calling(rsps, breaker_settings):
    rsps.get(rb.GAMES_URL, status=500)
    fail_n_times(3)

    with pytest.raises(RobloxCircuitOpen) as caught:
        games.games_details([1818])

    assert len(rsps.calls) == 3
    assert CircuitBreaker.from_settings().state(GAMES_HOST) == OPEN
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 0.05
    assert metric("adplatform_roblox_circuit_state", host=GAMES_HOST) == 2


def test_breaker_recovers_through_one_half_open_probe(rsps, breaker_settings):
    # given: the circuit opened on 5xx and its cool-down has passed
    failing = rsps.get(rb.GAMES_URL, status=500)
    fail_n_times(3)
    time.sleep(0.08)
    breaker = CircuitBreaker.from_settings()
    assert breaker.state(GAMES_HOST) == HALF_OPEN
    rsps.remove(failing)
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(1818)]})

    # when: the next call goes through as the probe and succeeds
    result = games.games_details([1818])

    # then: the circuit is closed again
    assert 1818 in result
    assert breaker.state(GAMES_HOST) == CLOSED
    assert metric("adplatform_roblox_circuit_state", host=GAMES_HOST) == 0


def test_half_open_lets_only_one_probe_through(rsps, breaker_settings):
    rsps.get(rb.GAMES_URL, status=500)
    fail_n_times(3)
    time.sleep(0.08)
    # Another process is probing right now.
    assert CircuitBreaker.from_settings().before_call(GAMES_HOST) == HALF_OPEN

    with pytest.raises(RobloxCircuitOpen):
        games.games_details([1818])

    assert len(rsps.calls) == 3


def test_a_failed_probe_opens_the_circuit_again(rsps, breaker_settings):
    rsps.get(rb.GAMES_URL, status=500)
    fail_n_times(3)
    time.sleep(0.08)

    fail_n_times(1)  # the probe

    assert CircuitBreaker.from_settings().state(GAMES_HOST) == OPEN
    with pytest.raises(RobloxCircuitOpen):
        games.games_details([1818])
    assert len(rsps.calls) == 4


def test_a_success_resets_the_failure_streak(rsps, breaker_settings):
    failing = rsps.get(rb.GAMES_URL, status=500)
    fail_n_times(2)
    rsps.remove(failing)
    ok = rsps.get(rb.GAMES_URL, json={"data": []})
    games.games_details([1818])
    rsps.remove(ok)
    rsps.get(rb.GAMES_URL, status=500)

    fail_n_times(2)

    assert CircuitBreaker.from_settings().state(GAMES_HOST) == CLOSED


def test_a_404_is_not_a_breaker_failure(rsps, breaker_settings):
    rsps.get(rb.place_universe_url(1), status=404, json=rb.legacy_error(2, "Not found"))
    for _ in range(4):
        with pytest.raises(RobloxNotFound):
            universes.place_universe(1)
    assert CircuitBreaker.from_settings().state("apis.roblox.com") == CLOSED


def test_breaker_is_per_host(rsps, breaker_settings):
    rsps.get(rb.GAMES_URL, status=500)
    rsps.get(rb.GAME_ICONS_URL, json={"data": [rb.thumbnail(1818)]})
    fail_n_times(3)

    assert 1818 in thumbnails.game_icons([1818])


def test_breaker_state_is_shared_through_redis(rsps, breaker_settings):
    rsps.get(rb.GAMES_URL, status=500)
    fail_n_times(3)
    # A breaker object of another process knows nothing but what Redis holds.
    other_process = CircuitBreaker(failure_threshold=3, cooldown=30, failure_window=60, probe_timeout=5)
    with pytest.raises(RobloxCircuitOpen):
        other_process.before_call(GAMES_HOST)


# --------------------------------------------------------------------------- metrics and logs


def test_calls_and_retries_are_counted_by_host_and_status(rsps):
    calls_429 = metric("adplatform_roblox_calls_total", host=GAMES_HOST, status="429")
    calls_200 = metric("adplatform_roblox_calls_total", host=GAMES_HOST, status="200")
    retries = metric("adplatform_roblox_retries_total", host=GAMES_HOST, reason="429")
    latency = metric("adplatform_roblox_call_duration_seconds_count", host=GAMES_HOST)
    rsps.get(rb.GAMES_URL, status=429, headers={"Retry-After": "1"})
    rsps.get(rb.GAMES_URL, json={"data": []})

    games.games_details([1818])

    assert metric("adplatform_roblox_calls_total", host=GAMES_HOST, status="429") == calls_429 + 1
    assert metric("adplatform_roblox_calls_total", host=GAMES_HOST, status="200") == calls_200 + 1
    assert metric("adplatform_roblox_retries_total", host=GAMES_HOST, reason="429") == retries + 1
    assert metric("adplatform_roblox_call_duration_seconds_count", host=GAMES_HOST) == latency + 2


def test_the_open_cloud_key_never_reaches_the_logs(rsps, settings, caplog):
    settings.ROBLOX_MAX_RETRIES = 1
    rsps.post(rb.publish_url(1818), status=500, json={"code": "INTERNAL", "message": "Internal error"})

    with caplog.at_level(logging.DEBUG), pytest.raises(RobloxUnavailable) as caught:
        opencloud.publish_message(1818, api_key="oc-secret-key-987654321", topic="campaigns", message="refresh")

    assert caplog.records, "the failure should have been logged"
    for record in caplog.records:
        assert "oc-secret-key-987654321" not in record.getMessage()
        assert "oc-secret-key-987654321" not in repr(record.__dict__)
    assert "oc-secret-key-987654321" not in str(caught.value)
