"""The game simulator against a real HTTP server (pytest-django's live_server), as a Roblox game would call it."""

from __future__ import annotations

import io
import json
import random
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command

from adplatform.tools.simulator import ROBLOX_REQUESTS_PER_MINUTE, SimConfig, Simulation, viewability_sample
from ads.events import events_drain, is_viewable
from ads.models import AdEngagement, Decision, EngagementType
from games.demo import DEMO_PLACE_ID
from games.models import Game
from games.services import api_key_create
from scoreboard.models import ScoreHistory, ScoreSource

live_db = pytest.mark.django_db(transaction=True)


def _demo_key() -> tuple[Game, str, str]:
    call_command("seed_demo", stdout=io.StringIO())
    game = Game.objects.get(roblox_place_id=DEMO_PLACE_ID)
    _, raw, secret = api_key_create(game=game, name="simulator test")
    return game, raw, secret


@live_db
def test_the_simulator_drives_the_real_api(live_server):
    game, key, secret = _demo_key()
    config = SimConfig(
        base_url=live_server.url, api_key=key, signing_secret=secret, servers=2, players=6, duration=8, rate=3,
        batch_interval=1.0, seed=11,
    )  # fmt: skip
    out = io.StringIO()
    result = Simulation(config, out=out, progress_interval=2).run()
    events_drain()

    stats = result.stats
    why = {"stats": stats, "servers": result.servers}  # every assertion shows the whole run when it fails
    assert stats["errors"] == 0, why
    assert stats["decisions"] > 0 and stats["fills"] > 0, why
    assert stats["events_accepted"] > 0 and stats["events_rejected"] == 0, why
    assert stats["events_accepted"] == stats["events_sent"], why
    assert stats["scores_credited"] > 0, why
    assert "decisions" in out.getvalue() and "req/min" in out.getvalue(), out.getvalue()

    server_ids = {s["server_id"] for s in result.servers}
    decisions = Decision.objects.filter(game_id=game.pk, server_id__in=server_ids)
    assert decisions.count() == stats["decisions"], why
    # every event the servers reported is stored once, impressions with the viewability they were sent with
    engagements = AdEngagement.objects.filter(game_id=game.pk)
    assert engagements.count() == stats["events_accepted"] == sum(stats["reported"].values()), why
    impressions = engagements.filter(type=EngagementType.IMPRESSION)
    assert impressions.filter(viewable=True).count() == stats["reported"].get("impression viewable", 0), why
    assert impressions.filter(viewable=False).count() == stats["reported"].get("impression not viewable", 0), why
    assert impressions.exists(), why
    assert ScoreHistory.objects.filter(game=game, source=ScoreSource.GAME_SERVER).count() == stats["scores_credited"]

    for server in result.servers:
        assert 0 < server["max_per_minute"] <= ROBLOX_REQUESTS_PER_MINUTE


@live_db
def test_each_server_keeps_to_its_request_budget(live_server):
    """A busy server within a small budget: it never goes over, and event batches still go out."""
    _, key, secret = _demo_key()
    config = SimConfig(
        base_url=live_server.url, api_key=key, signing_secret=secret, servers=2, players=4, duration=5, rate=10,
        request_budget=40, batch_interval=0.5, seed=3,
    )  # fmt: skip
    result = Simulation(config, out=io.StringIO()).run()
    stats = result.stats
    why = {"stats": stats, "servers": result.servers}  # the whole run, should an assertion fail
    for server in result.servers:
        assert server["max_per_minute"] <= 40, why
        assert server["requests"] <= 40, why
    # optional work (tokens, scores, decisions) used up all it may, 40 less the reserve for event batches ...
    assert any(server["requests"] >= 30 for server in result.servers), why
    # ... and every event the players saw still went out
    assert stats["events_sent"] == sum(stats["reported"].values()) > 0, why
    assert stats["events_accepted"] == stats["events_sent"], why
    assert stats["errors"] == 0, why


@live_db
def test_the_command_creates_a_key_for_the_demo_game_and_prints_a_summary(live_server):
    call_command("seed_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command(
        "simulate_game", "--base-url", live_server.url, "--duration", "3", "--servers", "1", "--players", "3",
        "--seed", "5", stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    assert "Created API key" in text
    assert "decisions:" in text and "events:" in text and "scores:" in text
    assert "busiest server" in text


def test_viewability_samples_mix_viewable_and_not():
    rng = random.Random(1)
    samples = [viewability_sample(rng) for _ in range(1000)]
    viewable = sum(is_viewable(s) for s in samples)
    assert 600 < viewable < 800


class _StubGame(BaseHTTPRequestHandler):
    """A stand-in platform that throttles the first events batch with 429 and Retry-After: 1."""

    protocol_version = "HTTP/1.1"
    log: list[tuple[float, str, int]]
    throttled_once = False

    def log_message(self, *args):
        pass

    def _answer(self, status: int, body: dict | None = None, headers: dict | None = None):
        raw = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)
        self.log.append((time.monotonic(), self.path, status))

    def do_GET(self):
        self._answer(200, {"results": [{"id": 1, "type": "DISPLAY", "status": "ACTIVE"}], "next": None})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        if self.path == "/api/v1/decisions":
            self._answer(200, {"filled": True, "source": "house", "decision_id": str(uuid.uuid4()),
                               "tracking_token": "t"})  # fmt: skip
        elif self.path == "/api/v1/events":
            if not type(self).throttled_once:
                type(self).throttled_once = True
                error = {"error": {"code": "throttled", "message": "slow down", "details": {}}}
                self._answer(429, error, {"Retry-After": "1"})
            else:
                self._answer(202, {"accepted": len(body["events"]), "duplicates": 0, "rejected": []})
        elif self.path == "/api/v1/scores/tokens":
            self._answer(201, {"token": "jwt", "expires_at": "2030-01-01T00:00:00Z"})
        else:
            self._answer(200, {"player_id": 1, "score": 10, "previous_score": 0, "increment": 10, "rank": 1})


def test_a_429_pauses_the_server_for_retry_after_and_nothing_is_lost():
    handler = type("Handler", (_StubGame,), {"log": [], "throttled_once": False})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        config = SimConfig(
            base_url=f"http://127.0.0.1:{httpd.server_address[1]}", api_key="k", signing_secret="s", servers=1,
            players=4, duration=5, rate=5, batch_interval=0.5, seed=2,
        )  # fmt: skip
        result = Simulation(config, out=io.StringIO()).run()
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.stats["throttled"] == 1
    throttled_at = next(at for at, path, status in handler.log if status == 429)
    assert not [at for at, _, _ in handler.log if throttled_at < at < throttled_at + 0.95]
    events_posted = [status for _, path, status in handler.log if path == "/api/v1/events"]
    assert events_posted[0] == 429 and 202 in events_posted
    assert result.stats["events_accepted"] == result.stats["events_sent"] > 0
