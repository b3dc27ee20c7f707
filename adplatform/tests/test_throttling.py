"""The one fixed-window rule (adplatform.core.ratelimit.FixedWindow), its Redis counter, and the DRF throttles on it."""

from __future__ import annotations

import json

import pytest

from adplatform.core.ratelimit import FixedWindow, hit, parse_rate
from adplatform.core.redis import get_redis


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        ("120/min", FixedWindow(120, 60)),
        ("10/5s", FixedWindow(10, 5)),
        ("1/s", FixedWindow(1, 1)),
        ("30000/m", FixedWindow(30000, 60)),
        ("5/2hour", FixedWindow(5, 7200)),
        (" 7/day ", FixedWindow(7, 86400)),
    ],
)
def test_parse_reads_a_count_per_period(rate, expected):
    assert FixedWindow.parse(rate) == expected
    assert parse_rate(rate) == (expected.limit, expected.period)


@pytest.mark.parametrize("rate", ["", "120", "x/min", "120/fortnight", "-1/min", "10/0s", "1.5/min"])
def test_a_bad_rate_is_refused_with_the_rate_named(rate):
    with pytest.raises(ValueError, match="bad rate"):
        FixedWindow.parse(rate)


def test_windows_are_aligned_on_the_epoch_so_every_process_agrees():
    window = FixedWindow(3, 60)
    assert window.number(120.0) == window.number(179.999) == 2
    assert window.number(180.0) == 3
    assert window.key("rl:x", 150.5) == "rl:x:2"
    assert window.retry_after(150.5) == pytest.approx(29.5)
    assert window.retry_after(120.0) == pytest.approx(60.0)
    assert window.ttl == 61
    assert not window.exceeded(3)
    assert window.exceeded(4)


def test_hit_counts_in_redis_and_answers_the_wait_past_the_limit():
    window = FixedWindow(2, 60)
    now = 6000.0 + 12.25  # window 100, 47.75 s left
    assert hit("t:a", window, now) is None
    assert hit("t:a", window, now + 1) is None
    assert hit("t:a", window, now + 2) == pytest.approx(45.75)
    assert hit("t:b", window, now) is None  # another client has its own counter
    assert hit("t:a", window, 6060.0) is None  # the next window starts afresh

    r = get_redis()
    assert int(r.get("rl:t:a:100")) == 3
    assert 0 < r.ttl("rl:t:a:100") <= 61


def test_a_throttled_api_request_gets_429_with_retry_after(api_client, settings, monkeypatch):
    # the four requests take about a second: pinned inside one window, a minute boundary cannot split them
    monkeypatch.setattr("adplatform.core.ratelimit.time.time", lambda: 1_800_000_030.0)
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "2/min"},
    }
    codes = [api_client.get("/api/schema/").status_code for _ in range(3)]
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert codes[:2] == [200, 200]
    assert response.status_code == 429
    assert json.loads(response.content)["error"]["code"] == "rate_limited"
    assert int(response["Retry-After"]) == 30  # the pinned moment is 30 s before the next window
