"""The live board across real server processes, and in a real browser."""

import asyncio
import json
import time

import pytest
import websockets
from playwright.sync_api import expect

from adplatform.core.redis import get_redis
from scoreboard.leaderboard import leaderboard_group
from scoreboard.services import leaderboard_ensure
from scoreboard.tests.factories import GameServer

pytestmark = pytest.mark.django_db(transaction=True)


def _ws_url(server, slug: str) -> str:
    return server.url.replace("http://", "ws://") + f"/ws/leaderboards/{slug}/"


def test_a_score_committed_through_one_process_reaches_a_viewer_on_another(asgi_server_factory, game, coin):
    # given: two web processes sharing PostgreSQL and Redis, a viewer on each
    a, b = asgi_server_factory(), asgi_server_factory()
    server = GameServer(game)
    assert leaderboard_ensure(game_id=game.pk, slug=game.slug)  # built before anyone watches (see test_live.py)

    async def scenario():
        headers = {"Origin": "http://127.0.0.1"}
        async with websockets.connect(_ws_url(b, game.slug), additional_headers=headers) as on_b, \
                websockets.connect(_ws_url(b, game.slug), additional_headers=headers) as on_b2, \
                websockets.connect(_ws_url(a, game.slug), additional_headers=headers) as on_a:  # fmt: skip
            assert json.loads(await on_b.recv())["type"] == "snapshot"
            assert json.loads(await on_b2.recv())["type"] == "snapshot"
            assert json.loads(await on_a.recv())["type"] == "snapshot"
            await asyncio.sleep(0.5)  # both broadcasters subscribed
            # the board's channel-layer group holds one member per process, not one per viewer
            group = f"asgi:group:{leaderboard_group(game.slug)}"
            assert await asyncio.to_thread(get_redis().zcard, group) == 2

            # when: a score is posted to process A over HTTP
            token = await asyncio.to_thread(server.token, 4242, "crossproc")
            import urllib.request

            body = json.dumps(server.body()).encode()
            from scoreboard.tests.factories import sign

            request = urllib.request.Request(
                f"{a.url}/api/v1/scores/update", data=body, method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}",
                         "X-Signature": sign(server.secret, body)},
            )  # fmt: skip
            started = time.monotonic()
            with await asyncio.to_thread(urllib.request.urlopen, request, timeout=10) as response:
                assert response.status == 200

            # then: the viewers connected to process B see it, and so does A's. (A board read just before may come
            # first: Redis pub/sub is server-wide, so another test session on the same server publishing for a
            # game of the same slug makes the broadcasters read this board early. Each change is sent, in order.)
            async def board_with_the_score(ws) -> dict:
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    assert message["type"] == "top10"
                    if message["entries"] and message["entries"][0]["player_id"] == 4242:
                        return message

            message = await board_with_the_score(on_b)
            assert time.monotonic() - started < 5
            assert await board_with_the_score(on_b2) == message
            assert await board_with_the_score(on_a) == message

    asyncio.run(scenario())


@pytest.mark.browser
def test_the_live_page_updates_without_reload_and_reconnects(asgi_server_factory, game, coin, page):
    server = GameServer(game)
    web = asgi_server_factory()
    port = web.port
    token = server.token(1, "alice")
    assert server.update(token).status_code == 200

    page.goto(f"{web.url}/leaderboards/{game.slug}/")
    page.wait_for_selector('#live-status[data-state="live"]', timeout=10_000)
    assert page.locator(".liveboard-row").count() == 1

    # a new score appears within 2 s, without a reload (a board in between may show first: each change is sent)
    bob = server.token(2, "bob")
    for _ in range(3):
        assert server.update(bob).status_code == 200
    deadline = time.monotonic() + 2
    expect(page.locator(".liveboard-row").first.locator(".lb-name")).to_have_text("bob", timeout=2_000)
    remaining_ms = max(1, int((deadline - time.monotonic()) * 1000))
    expect(page.locator(".liveboard-row").first.locator(".lb-score")).to_have_text("30", timeout=remaining_ms)

    # the server stops: the page says so; it comes back: the page reconnects by itself
    web.stop()
    page.wait_for_selector('#live-status[data-state="offline"]', timeout=10_000)
    asgi_server_factory(port)
    page.wait_for_selector('#live-status[data-state="live"]', timeout=20_000)
    assert server.update(token).status_code == 200
    expect(page.locator(".liveboard-row", has_text="alice").locator(".lb-score")).to_have_text("20", timeout=5_000)


@pytest.mark.browser
def test_the_live_page_reads_fine_without_javascript(browser, live_server, game, coin):
    server = GameServer(game)
    assert server.update(server.token(5, "carol")).status_code == 200
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 700})
    page = context.new_page()
    page.goto(f"{live_server.url}/leaderboards/{game.slug}/")
    assert page.locator(".liveboard-row .lb-name").inner_text() == "carol"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.goto(f"{live_server.url}/leaderboards/")
    assert "carol" in page.locator(".board-card").first.inner_text()
    context.close()
