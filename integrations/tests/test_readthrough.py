"""The data API never waits on Roblox: a miss is handed to a worker, and the request answers within 2 s."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations import readthrough, services
from integrations.tests import roblox_bodies as rb

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(token_client, owner):
    return token_client(owner)


@pytest.fixture
def _tasks_run_inline():
    """Here the refresh task goes to the broker, as in production (overrides the inline default)."""
    yield


@pytest.fixture
def queued():
    with mock.patch("integrations.tasks.roblox_refresh.delay") as delay:
        yield delay


def test_a_miss_is_queued_once_and_answers_503_with_retry_after_within_the_wait(client, queued, settings, rsps):
    settings.ROBLOX_DATA_API_WAIT_MS = 300

    started = time.monotonic()
    response = client.get("/api/v1/roblox/universes/1818")
    elapsed = time.monotonic() - started
    again = client.get("/api/v1/roblox/universes/1818")

    assert response.status_code == 503 and again.status_code == 503
    assert response.json()["error"]["code"] == "upstream_unavailable"
    assert int(response["Retry-After"]) >= 1
    assert 0.3 <= elapsed < 2
    # the second request found the first one's refresh under way: one task for both, no Roblox call here
    queued.assert_called_once_with("universe", {"universe_id": 1818})
    assert not rsps.calls


def test_what_the_worker_cached_is_answered(client, queued, settings, rsps):
    settings.ROBLOX_DATA_API_WAIT_MS = 0
    assert client.get("/api/v1/roblox/universes/1818").status_code == 503
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(1818)]})

    services.roblox_refresh(**dict(zip(["kind", "params"], queued.call_args.args, strict=True)))

    response = client.get("/api/v1/roblox/universes/1818")
    assert response.status_code == 200 and response.json()["name"] == "Classic: Crossroads"


def test_a_batch_miss_refreshes_only_the_missing_ids(client, queued, settings, rsps):
    settings.ROBLOX_DATA_API_WAIT_MS = 0
    rsps.get(rb.GAME_ICONS_URL, json={"data": [rb.thumbnail(1)]})
    services.roblox_game_icons(universe_ids=[1])

    client.get("/api/v1/roblox/thumbnails/games?universe_ids=1,2,3")

    kind, params = queued.call_args.args
    assert kind == "game_icons" and params["universe_ids"] == [2, 3]


def test_a_failure_the_worker_recorded_answers_the_next_requests_at_once(client, queued, settings, rsps):
    # given the worker found Roblox rate limiting us for 40 s
    settings.ROBLOX_DATA_API_WAIT_MS = 0
    settings.ROBLOX_RETRY_AFTER_MAX = 30
    rsps.get(rb.asset_details_url(7), status=429, headers={"Retry-After": "40"})
    services.roblox_refresh(kind="asset", params={"asset_id": 7})

    # when a tool asks
    response = client.get("/api/v1/roblox/assets/7")

    # then it is told when to come back, and nothing more is queued
    assert response.status_code == 503 and response["Retry-After"] == "40"
    queued.assert_not_called()


def test_a_broker_that_is_down_is_503_and_frees_the_object(client, settings, rsps):
    settings.ROBLOX_DATA_API_WAIT_MS = 0
    with mock.patch("integrations.tasks.roblox_refresh.delay", side_effect=ConnectionError("broker down")):
        response = client.get("/api/v1/roblox/places/1818/universe")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert services.roblox_refresh_claim(kind="place_universe", params={"place_id": 1818}, ids=[1818]) == [1818]


def test_the_wait_polls_the_cache_and_returns_as_soon_as_the_worker_answers(queued, settings, rsps, monkeypatch):
    settings.ROBLOX_DATA_API_WAIT_MS = 1500
    rsps.get(rb.place_universe_url(1818), json={"universeId": 13058})
    polls: list[float] = []

    def worker_answers_during_the_second_poll(seconds):
        polls.append(seconds)
        if len(polls) == 2:
            services.roblox_refresh(kind="place_universe", params={"place_id": 1818})

    monkeypatch.setattr(readthrough, "sleep", worker_answers_during_the_second_poll)

    assert readthrough.read("place_universe", place_id=1818) == 13058
    assert len(polls) == 2


# --------------------------------------------------------------------------- a real worker, a slow Roblox


class SlowRoblox(ThreadingHTTPServer):
    """games.roblox.com answering after ``delay`` seconds."""

    def __init__(self, delay: float):
        self.delay = delay
        self.calls: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.calls.append(self.path)
                time.sleep(server.delay)
                ids = [int(i) for i in parse_qs(urlsplit(self.path).query)["universeIds"][0].split(",")]
                body = json.dumps({"data": [rb.game(i) for i in ids]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def slow_roblox():
    server = SlowRoblox(delay=4.0)
    server.thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_slow_roblox_never_holds_a_web_request(client, slow_roblox, celery_worker_factory, monkeypatch, settings):
    # given a real worker whose Roblox (games.roblox.com) takes 4 s to answer, and requests that wait 1 s for it
    settings.ROBLOX_DATA_API_WAIT_MS = 1000
    monkeypatch.setenv("ROBLOX_GAMES_BASE_URL", slow_roblox.url)
    celery_worker_factory("roblox").wait_ready()
    client.get("/api/v1/roblox/universes/1")  # opens this process's broker connection, as a running server has

    # when a tool asks for a universe nobody asked for before
    started = time.monotonic()
    first = client.get("/api/v1/roblox/universes/920587")
    elapsed = time.monotonic() - started

    # then it is told to come back, within 2 s, while the worker asks Roblox
    assert first.status_code == 503, first.content
    assert int(first["Retry-After"]) >= 1
    assert 1 <= elapsed < 2  # waited for the worker as configured, never for Roblox

    # and once the worker has the answer, it is served from the cache
    deadline = time.monotonic() + 60
    while True:
        response = client.get("/api/v1/roblox/universes/920587")
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Obby 920587"
    # every request meanwhile waited on the same refresh
    assert len([call for call in slow_roblox.calls if "920587" in call]) == 1
