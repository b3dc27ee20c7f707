"""The game servers' hot endpoints take a short middleware chain that answers as the full one does."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings

from adplatform.core.middleware import FAST_LANE_MIDDLEWARE, GameServerFastLane
from games.tests.factories import AdContainerFactory, GameFactory, make_api_key

pytestmark = pytest.mark.django_db

FULL_CHAIN = [m for m in settings.MIDDLEWARE if m != "adplatform.core.middleware.GameServerFastLane"]


def _requests(raw_key: str, container_id: int) -> list[tuple[str, dict, dict]]:
    """One request per hot endpoint: a paid-or-house decision, an events batch with a refused event, a score
    update without its token (answered by the lean path, by DRF's view, and by an error)."""
    decision = {"container_id": container_id, "player": {"id": 42, "age_bracket": "13+", "ads_allowed": True}}
    event = {
        "event_id": str(uuid.UUID(int=7)), "type": "impression", "decision_id": str(uuid.UUID(int=8)),
        "tracking_token": "forged", "player_id": 42, "occurred_at": "2026-01-01T00:00:00Z",
    }  # fmt: skip
    key = {"HTTP_X_API_KEY": raw_key}
    return [
        ("/api/v1/decisions", {"container_id": 999_999, "player": {"id": 42}}, key),
        ("/api/v1/decisions", decision, key),
        ("/api/v1/events", {"events": [event]}, key),
        ("/api/v1/events", {"events": []}, {}),
        ("/api/v1/scores/update", {"action_type": "coin"}, {}),
    ]


def _answer(client: Client, path: str, body: dict, extra: dict):
    response = client.post(
        path, json.dumps(body), content_type="application/json", HTTP_X_REQUEST_ID="same-id", **extra
    )
    headers = dict(response.items())
    # What only the browser middleware adds (frame options, and Vary: Cookie from the session): not for JSON.
    headers.pop("X-Frame-Options", None), headers.pop("Vary", None)
    payload = response.json()
    if isinstance(payload, dict):
        payload.pop("decision_id", None), payload.pop("tracking_token", None), payload.pop("expires_at", None)
    return response.status_code, headers, payload


def test_every_hot_endpoint_answers_as_through_the_full_chain(monkeypatch):
    laned = []
    monkeypatch.setattr(GameServerFastLane, "_dispatch", _counted(GameServerFastLane._dispatch, laned))
    game = GameFactory()
    container = AdContainerFactory(game=game)
    _, raw, _ = make_api_key(game)
    fast = Client()
    with override_settings(MIDDLEWARE=FULL_CHAIN):
        full = Client()
        full.get("/healthz")  # the handler loads its middleware now, under the full chain
    for path, body, extra in _requests(raw, container.pk):
        got, expected = _answer(fast, path, body, extra), _answer(full, path, body, extra)
        assert got == expected, path
        _, headers, _ = got
        assert headers["X-Request-ID"] == "same-id" and headers["Content-Length"], path
        assert {"X-Content-Type-Options", "Content-Security-Policy", "Permissions-Policy"} <= set(headers), path
    assert len(laned) == 5  # the fast client's requests took the lane, the full chain's did not
    statuses = [_answer(fast, *r)[0] for r in _requests(raw, container.pk)]
    assert statuses == [404, 200, 202, 401, 401]


def _counted(function, calls: list):
    def counted(*args, **kwargs):
        calls.append(1)
        return function(*args, **kwargs)

    return counted


def test_a_host_outside_allowed_hosts_is_400_before_the_view(monkeypatch):
    called = []
    lane = Client()
    monkeypatch.setattr(GameServerFastLane, "_route", lambda self, path: called.append(path))
    response = lane.post("/api/v1/decisions", "{}", content_type="application/json", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["X-Request-ID"] and response["X-Content-Type-Options"] == "nosniff"
    assert called == []


def test_only_the_exact_hot_paths_take_the_lane():
    seen = []
    lane = GameServerFastLane(lambda request: seen.append(request.path) or "full chain")
    factory = RequestFactory()
    for path in (
        "/api/v1/scores/tokens/",
        "/api/v1/manage/campaigns/",
        "/api/v1/decisions/",
        "/api/v2/events",
        "/healthz",
    ):
        assert lane(factory.post(path)) == "full chain"
    assert seen == [
        "/api/v1/scores/tokens/",
        "/api/v1/manage/campaigns/",
        "/api/v1/decisions/",
        "/api/v2/events",
        "/healthz",
    ]


def test_each_request_of_the_lane_has_its_access_log_line(caplog):
    with caplog.at_level(logging.INFO, logger="adplatform.access"):
        Client().post("/api/v1/scores/update", "{}", content_type="application/json")
    [line] = [r for r in caplog.records if r.name == "adplatform.access"]
    assert (line.path, line.status, line.method) == ("/api/v1/scores/update", 401, "POST")


def test_the_lane_leaves_out_only_what_the_hot_endpoints_do_not_need():
    """A middleware added to the project must be added to the lane too, or said here why it is not."""
    not_needed = {
        "adplatform.core.middleware.GameServerFastLane",
        # browsers only: a game server sends no cookie and renders no page
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        # those endpoints count and time themselves
        "django_prometheus.middleware.PrometheusBeforeMiddleware",
        "django_prometheus.middleware.PrometheusAfterMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",  # static files only
        "django.middleware.common.CommonMiddleware",  # host check and Content-Length: done by the lane
        "django.middleware.csrf.CsrfViewMiddleware",  # the hot views are CSRF-exempt (checked below)
        "adplatform.accounts.middleware.TimeZoneMiddleware",  # browsers only: pages in the person's time zone
    }
    assert [m for m in settings.MIDDLEWARE if m not in not_needed] == list(FAST_LANE_MIDDLEWARE)
    lane = GameServerFastLane(lambda request: None)
    for path in settings.GAME_SERVER_PATHS:
        assert lane._route(path).func.csrf_exempt, path


def test_one_path_list_decides_who_skips_middleware_and_pages_keep_theirs(client):
    """``settings.GAME_SERVER_PATHS`` is the only list: its paths take the lane, every other request (a page,
    another API route, another API version) the whole chain of Django's own middleware classes."""
    for path in settings.GAME_SERVER_PATHS:
        assert path.startswith("/api/v1/") and "<" not in path, path
    assert all(
        m.startswith(("django.", "django_prometheus.", "whitenoise.", "adplatform.")) for m in settings.MIDDLEWARE
    )
    assert "django.middleware.clickjacking.XFrameOptionsMiddleware" in settings.MIDDLEWARE

    api = client.post("/api/v1/decisions", {}, content_type="application/json")
    assert api.status_code == 401 and "X-Frame-Options" not in api and api["X-Request-ID"]
    other_api = client.get("/api/v1/manage/campaigns/")
    assert other_api["X-Frame-Options"] == "DENY"
    page = client.get("/login/")
    assert page["X-Frame-Options"] == "DENY"


def test_check_deploy_finds_the_clickjacking_protection():
    from django.core import checks

    with override_settings(DEBUG=False):
        messages = checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])
    assert "security.W002" not in {m.id for m in messages}
