"""The live board's websocket: snapshot, coalesced top-10 broadcasts with a growing seq, unknown boards."""

import asyncio

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections

from adplatform.asgi import application
from scoreboard.consumers import CLOSE_UNKNOWN_BOARD
from scoreboard.live import broadcaster

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
async def board(server, coin):
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
    assert first["entries"] == [{"rank": 1, "player_id": 7, "username": "player7", "score": 10}]

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
