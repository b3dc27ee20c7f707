"""Avatar headshots on the live boards: cached reads in requests, fetched by a Celery task, shown without a reload."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
import websockets

from adplatform.core.redis import get_redis
from integrations.roblox import cache
from scoreboard import live_avatars
from scoreboard.live import top_entries
from scoreboard.services import leaderboard_ensure

HEADSHOTS_URL = "https://thumbnails.roblox.com/v1/users/avatar-headshot"


def _item(user_id: int, state: str = "Completed") -> dict:
    done = state == "Completed"
    return {
        "targetId": user_id,
        "state": state,
        "imageUrl": f"https://tr.rbxcdn.com/30DAY-AvatarHeadshot-{user_id}/150/150/AvatarHeadshot/Png"
        if done
        else None,
        "version": "TN3" if done else None,
    }


@pytest.fixture
def queued(monkeypatch):
    """The fetches the boards queued (the task's .delay), recorded instead of sent to a broker."""
    calls: list[tuple[list[int], str | None]] = []
    from scoreboard import tasks

    monkeypatch.setattr(tasks.avatar_headshots_fetch, "delay", lambda ids, slug=None: calls.append((ids, slug)))
    return calls


@pytest.mark.django_db
def test_a_board_reads_only_the_cache_and_queues_the_missing_players_once_a_minute(server, coin, game, queued):
    for player_id in (11, 12):
        assert server.update(server.token(player_id, f"p{player_id}")).status_code == 200
    cache.set_many(live_avatars.KIND, [(11, {"image_url": "https://tr.rbxcdn.com/a.png", "state": "Completed"}, 60)])

    with responses.RequestsMock() as roblox:  # no call to Roblox may happen while a board is read
        entries = top_entries(game.slug)
        again = top_entries(game.slug)
        assert len(roblox.calls) == 0

    assert {e["player_id"]: e["avatar_url"] for e in entries} == {11: "https://tr.rbxcdn.com/a.png", 12: None}
    assert again == entries
    assert queued == [([12], game.slug)]  # the second read did not ask again


@pytest.mark.django_db
def test_the_task_caches_completed_pending_and_unknown_players_and_announces_the_board(settings, game):
    settings.ROBLOX_RATE_LIMIT_PER_MINUTE = 60_000
    pubsub = get_redis().pubsub()
    pubsub.subscribe(f"leaderboard.{game.slug}")
    pubsub.get_message(timeout=1)

    from scoreboard.tasks import avatar_headshots_fetch

    with responses.RequestsMock() as roblox:
        roblox.get(HEADSHOTS_URL, json={"data": [_item(1), _item(2, "Pending")]})  # 3 is unknown to Roblox
        assert avatar_headshots_fetch(user_ids=[1, 2, 3], slug=game.slug) == 2
        query = parse_qs(urlsplit(roblox.calls[0].request.url).query)
    assert query["userIds"] == ["1,2,3"] and query["size"] == ["150x150"]

    with responses.RequestsMock():
        urls = live_avatars.avatar_urls([1, 2, 3])
    assert urls == {1: _item(1)["imageUrl"], 2: None, 3: None}
    redis = get_redis()
    ttl_completed = redis.pttl(cache.key(live_avatars.KIND, 1))
    ttl_pending = redis.pttl(cache.key(live_avatars.KIND, 2))
    assert ttl_pending <= settings.ROBLOX_CACHE_TTLS["thumbnail_pending"] * 1000 < ttl_completed
    assert cache.get_many(live_avatars.KIND, [3])[3] is cache.NOT_FOUND
    message = pubsub.get_message(timeout=2)
    assert json.loads(message["data"]) == {"type": "avatars", "game": game.slug, "top10_changed": True}
    pubsub.close()


@pytest.mark.django_db
def test_roblox_down_leaves_the_placeholders_and_the_task_does_not_fail(settings, game):
    settings.ROBLOX_MAX_RETRIES = 0
    from scoreboard.tasks import avatar_headshots_fetch

    with responses.RequestsMock() as roblox:
        roblox.get(HEADSHOTS_URL, status=503)
        assert avatar_headshots_fetch(user_ids=[5], slug=game.slug) == 0
    assert cache.get_many(live_avatars.KIND, [5]) == {}  # nothing cached: asked again a minute later


class _StubThumbnails(BaseHTTPRequestHandler):
    """thumbnails.roblox.com for a worker process: every asked user has a Completed headshot."""

    calls: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).calls.append(self.path)
        ids = [int(i) for i in parse_qs(urlsplit(self.path).query)["userIds"][0].split(",")]
        raw = json.dumps({"data": [_item(i) for i in ids]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.mark.django_db(transaction=True)
def test_a_viewer_sees_the_headshots_arrive_without_a_reload(
    monkeypatch, asgi_server_factory, celery_worker_factory, server, coin, game
):
    # given: Roblox's thumbnails API (a stub the worker process calls), a real worker, a real web process
    stub = ThreadingHTTPServer(("127.0.0.1", 0), _StubThumbnails)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    monkeypatch.setenv("ROBLOX_THUMBNAILS_BASE_URL", f"http://127.0.0.1:{stub.server_port}")
    worker = celery_worker_factory("avatars").wait_ready()
    web = asgi_server_factory()
    for player_id in (21, 22):
        assert server.update(server.token(player_id, f"p{player_id}")).status_code == 200
    assert leaderboard_ensure(game_id=game.pk, slug=game.slug) is not None

    async def watch() -> tuple[dict, dict]:
        url = web.url.replace("http://", "ws://") + f"/ws/leaderboards/{game.slug}/"
        async with websockets.connect(url, additional_headers={"Origin": "http://127.0.0.1"}) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            while True:  # when: the task the snapshot queued has run, the board is broadcast again
                message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if all(e["avatar_url"] for e in message["entries"]):
                    return first, message

    try:
        first, later = asyncio.run(watch())
    finally:
        stub.shutdown()
    # then: placeholders first, then every player's headshot, fetched once in one call
    assert [e["avatar_url"] for e in first["entries"]] == [None, None]
    assert {e["player_id"]: e["avatar_url"] for e in later["entries"]} == {i: _item(i)["imageUrl"] for i in (21, 22)}
    assert len(_StubThumbnails.calls) == 1 and "userIds=21%2C22" in _StubThumbnails.calls[0].replace(",", "%2C")
    worker.assert_alive()
