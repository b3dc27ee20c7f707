"""The live board's websocket: snapshot, coalesced top-10 broadcasts with a growing seq, unknown boards, fan-out."""

import asyncio
import json

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from prometheus_client import REGISTRY

from adplatform.core.redis import get_redis
from adplatform.project.asgi import application
from scoreboard.consumers import CLOSE_UNKNOWN_BOARD
from scoreboard.leaderboard import leaderboard_group
from scoreboard.live import MIN_INTERVAL_MS, VIEWER_QUEUE, Broadcaster, broadcaster
from scoreboard.services import leaderboard_ensure

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = [(b"origin", b"http://localhost")]


async def viewer(slug: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/leaderboards/{slug}/", headers=ORIGIN)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def credit(server, coin, player_id: int, times: int = 1) -> None:
    token = await sync_to_async(server.token)(player_id, f"player{player_id}")
    for _ in range(times):
        response = await sync_to_async(server.update)(token)
        assert response.status_code == 200, response.content


@pytest_asyncio.fixture
async def board(server, coin, game):
    # Built before anyone watches: building publishes "rebuilt", which a watcher would rightly broadcast.
    assert await sync_to_async(leaderboard_ensure)(game_id=game.pk, slug=game.slug)
    yield server, coin
    await broadcaster.stop()
    await sync_to_async(connections.close_all)()  # the connection of sync_to_async's thread


async def test_snapshot_on_connect(board, game):
    server, coin = board
    await credit(server, coin, 1, times=3)
    await credit(server, coin, 2)
    ws = await viewer(game.slug)
    message = await ws.receive_json_from(timeout=5)
    assert message["type"] == "snapshot"
    assert [(e["rank"], e["player_id"], e["score"]) for e in message["entries"]] == [(1, 1, 30), (2, 2, 10)]
    await ws.disconnect()


async def test_a_score_change_reaches_the_viewer_with_a_growing_seq(board, game):
    server, coin = board
    ws = await viewer(game.slug)
    snapshot = await ws.receive_json_from(timeout=5)
    assert snapshot["entries"] == []
    await asyncio.wait_for(broadcaster.listening.wait(), 5)

    await credit(server, coin, 7)
    first = await ws.receive_json_from(timeout=5)
    assert first["type"] == "top10"
    assert first["seq"] > snapshot["seq"]
    assert first["entries"] == [{"rank": 1, "player_id": 7, "username": "player7", "score": 10, "avatar_url": None}]

    await credit(server, coin, 8, times=2)  # overtakes player 7
    second = await ws.receive_json_from(timeout=5)
    while second["entries"][0]["player_id"] != 8:  # coalescing may have sent an intermediate board
        second = await ws.receive_json_from(timeout=5)
    assert second["seq"] > first["seq"]
    assert [e["player_id"] for e in second["entries"]] == [8, 7]
    await ws.disconnect()


async def test_broadcasts_are_coalesced(board, game):
    server, _coin = board
    ws = await viewer(game.slug)
    await ws.receive_json_from(timeout=5)
    await asyncio.wait_for(broadcaster.listening.wait(), 5)
    token = await sync_to_async(server.token)(9, "fast")
    started = asyncio.get_running_loop().time()
    for _ in range(10):
        assert (await sync_to_async(server.update)(token)).status_code == 200
    elapsed = asyncio.get_running_loop().time() - started
    messages = []
    while not await ws.receive_nothing(timeout=1, interval=0.05):
        messages.append(await ws.receive_json_from(timeout=1))
    assert messages[-1]["entries"][0]["score"] == 100
    assert len(messages) <= int(elapsed / 0.1) + 2  # at most about ten a second
    assert [m["seq"] for m in messages] == sorted({m["seq"] for m in messages})
    await ws.disconnect()


async def test_two_viewers_get_the_same_message(board, game):
    server, coin = board
    a, b = await viewer(game.slug), await viewer(game.slug)
    await a.receive_json_from(timeout=5)
    await b.receive_json_from(timeout=5)
    await asyncio.wait_for(broadcaster.listening.wait(), 5)
    await credit(server, coin, 3)
    assert await a.receive_from(timeout=5) == await b.receive_from(timeout=5)
    await a.disconnect()
    await b.disconnect()


async def test_unknown_board_is_closed_with_a_clear_code():
    communicator = WebsocketCommunicator(application, "/ws/leaderboards/no-such-game/", headers=ORIGIN)
    connected, _ = await communicator.connect()
    assert connected
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_UNKNOWN_BOARD, "reason": "unknown leaderboard"}


async def test_resync_sends_a_fresh_snapshot(board, game):
    server, coin = board
    ws = await viewer(game.slug)
    await ws.receive_json_from(timeout=5)
    await credit(server, coin, 4)
    await ws.send_json_to({"type": "resync"})
    message = await ws.receive_json_from(timeout=5)
    while message["type"] != "snapshot":
        message = await ws.receive_json_from(timeout=5)
    assert message["entries"][0]["player_id"] == 4
    await ws.disconnect()


def dropped() -> float:
    return REGISTRY.get_sample_value("adplatform_live_dropped_total") or 0.0


def group_members(slug: str) -> int:
    """How many channel-layer channels the board's group holds (channels-redis keeps a sorted set per group)."""
    return get_redis().zcard(f"asgi:group:{leaderboard_group(slug)}")


async def test_a_process_joins_the_group_once_for_all_its_viewers_and_leaves_with_the_last(board, game):
    viewers = [await viewer(game.slug) for _ in range(3)]
    for ws in viewers:
        await ws.receive_json_from(timeout=5)
    assert await sync_to_async(group_members)(game.slug) == 1

    await viewers[0].disconnect()
    await viewers[1].disconnect()
    assert await sync_to_async(group_members)(game.slug) == 1
    await viewers[2].disconnect()
    assert await sync_to_async(group_members)(game.slug) == 0


async def test_a_viewer_of_an_unknown_board_leaves_no_membership_behind():
    communicator = WebsocketCommunicator(application, "/ws/leaderboards/no-such-game/", headers=ORIGIN)
    await communicator.connect()
    assert (await communicator.receive_output(timeout=5))["code"] == CLOSE_UNKNOWN_BOARD
    assert await sync_to_async(group_members)("no-such-game") == 0
    assert "no-such-game" not in broadcaster.viewers
    await broadcaster.stop()


async def test_a_slow_viewer_does_not_hold_back_the_others(board, game):
    # given: two viewers registered with the broadcaster; one socket accepts nothing until released
    server, coin = board
    released = asyncio.Event()
    slow_got: list[dict] = []
    fast_got: list[dict] = []

    async def slow_send(text: str) -> None:
        await released.wait()
        slow_got.append(json.loads(text))

    async def fast_send(text: str) -> None:
        fast_got.append(json.loads(text))

    slow = await broadcaster.join(game.slug, slow_send)
    fast = await broadcaster.join(game.slug, fast_send)
    broadcaster.start(slow, after_seq=0)
    broadcaster.start(fast, after_seq=0)
    await asyncio.wait_for(broadcaster.listening.wait(), 5)
    dropped_before = dropped()

    # when: more changes than the slow viewer's queue holds, each broadcast on its own
    for n in range(1, VIEWER_QUEUE + 4):
        await credit(server, coin, 11)
        async with asyncio.timeout(5):
            while not fast_got or fast_got[-1]["entries"][0]["score"] != 10 * n:
                await asyncio.sleep(0.01)

    # then: the fast viewer got every one in order while the slow one was stuck on its first
    assert [m["entries"][0]["score"] for m in fast_got] == [10 * n for n in range(1, VIEWER_QUEUE + 4)]
    assert slow_got == []
    assert dropped() - dropped_before == 2  # 7 messages: 1 in the stuck send, 4 queued, 2 dropped

    # and once it drains, it ends on the latest board, with seq gaps where it lost messages (the page resyncs)
    released.set()
    async with asyncio.timeout(5):
        while len(slow_got) < 1 + VIEWER_QUEUE:
            await asyncio.sleep(0.01)
    assert slow_got[-1] == fast_got[-1]
    assert [m["seq"] for m in slow_got] == sorted({m["seq"] for m in slow_got})
    assert slow_got[-1]["seq"] - slow_got[0]["seq"] > VIEWER_QUEUE
    await broadcaster.leave(slow)
    await broadcaster.leave(fast)


async def test_a_lone_change_goes_out_at_once_and_a_burst_waits_out_the_interval(board, game):
    def read_then_elect() -> int | None:
        Broadcaster._prepare(game.slug)
        return Broadcaster._elect(game.slug)

    # a board not read for a while: the elected sender does not wait
    assert await sync_to_async(Broadcaster._elect)(game.slug) <= 0
    assert await sync_to_async(Broadcaster._elect)(game.slug) is None  # one sender at a time, in any process
    # right after a read (by any process: the interval lives in Redis), the next sender waits for the rest of it
    assert 0 < await sync_to_async(read_then_elect)() <= MIN_INTERVAL_MS
