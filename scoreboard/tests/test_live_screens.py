"""The live board on screens, in a real Chromium against a real uvicorn: the site's page, TV / kiosk mode and the OBS
overlay, at 1920x1080 and on a phone (390x844), live updates with rank-change arrows, avatars, and axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from integrations.roblox import cache
from scoreboard import live_avatars
from scoreboard.services import leaderboard_ensure
from scoreboard.tests.factories import GameServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

SIZES = {"tv": (1920, 1080), "phone": (390, 844)}
PATHS = {"board": "/leaderboards/{slug}/", "tv": "/leaderboards/{slug}/tv/", "overlay": "/leaderboards/{slug}/overlay/"}
BAD = {"serious", "critical"}
AVATAR = "/static/img/favicon.svg"  # a cached "headshot" the browser can load offline


@pytest.fixture
def board(game, coin):
    server = GameServer(game)
    tokens = {}
    for n in range(12):  # more players than rows; scores 10..120
        tokens[n] = server.token(500 + n, f"Player{n:02d}Name")
        for _ in range(n + 1):
            assert server.update(tokens[n]).status_code == 200
    assert leaderboard_ensure(game_id=game.pk, slug=game.slug) is not None
    cache.set_many(live_avatars.KIND, [(511, {"image_url": AVATAR, "state": "Completed"}, 600)])
    return server, tokens


def _axe(page, base_url: str, context: str | None = None) -> list[dict]:
    page.add_script_tag(url=base_url + "/static/vendor/axe/axe.min.js")  # vendored from npm: no CDN, works offline
    found = page.evaluate(
        """async (context) => (await axe.run(context || document, {resultTypes: ["violations"]})).violations.map(
            v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))""",
        context,
    )
    return [v for v in found if v["impact"] in BAD]


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("mode", list(PATHS))
def test_each_screen_is_live_fits_and_passes_axe(asgi_server_factory, browser, board, game, mode, size):
    server, tokens = board
    web = asgi_server_factory()
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(web.url + PATHS[mode].format(slug=game.slug))
    if mode != "overlay":  # the overlay shows no status while all is well
        page.wait_for_selector('#live-status[data-state="live"]')
    else:
        page.wait_for_selector('#live-status[data-state="live"]', state="attached")
    rows = page.locator(".liveboard-row")
    expect(rows).to_have_count(10)
    expect(rows.first.locator(".lb-name")).to_have_text("Player11Name")

    # avatars: the cached headshot, and the placeholder for the others
    assert rows.first.locator(".lb-avatar").get_attribute("src") == AVATAR
    assert rows.nth(1).locator(".lb-avatar").get_attribute("src").endswith("avatar-placeholder.svg")
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")

    # nothing scrolls sideways, and every row is on screen
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if mode == "tv":
        assert rows.last.bounding_box()["y"] + rows.last.bounding_box()["height"] <= height + 1
        assert page.locator(".site-header, .site-footer").count() == 0  # no site chrome
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(11, 15, 23)"  # dark
        row_font = float(
            page.evaluate("parseFloat(getComputedStyle(document.querySelector('.liveboard-row')).fontSize)")
        )
        board_box = page.locator(".liveboard-rows").bounding_box()
        if size == "tv":
            assert row_font >= 40  # readable across a room
            assert board_box["width"] >= 0.9 * width  # the whole screen, not 55 % of it
            assert board_box["height"] >= 0.7 * height
        else:
            assert row_font >= 16
        expect(page.locator("#live-updated")).not_to_be_empty()
    if mode == "overlay":
        for element in ("document.documentElement", "document.body"):
            assert page.evaluate(f"getComputedStyle({element}).backgroundColor") == "rgba(0, 0, 0, 0)"
        assert page.locator(".site-header").count() == 0

    # when: a player climbs three places, then the arrow and the new order show without a reload
    before = page.locator("#live-updated").get_attribute("datetime")
    for _ in range(4):
        assert server.update(tokens[7]).status_code == 200  # 80 -> 120: from #5 to #2 (ties: the earlier first)
    climber = page.locator(".liveboard-row", has_text="Player07Name")
    expect(climber.locator(".lb-rank")).to_have_text("2", timeout=5_000)
    expect(climber.locator('.lb-move[data-dir="up"]')).to_have_text("▲3up 3 places")  # seen, and said
    assert page.locator("#live-updated").get_attribute("datetime") != before

    # the TV and overlay pages whole; on the site's page the board itself (the site's header and footer are
    # checked with every other page in adplatform/tests/test_accessibility.py)
    violations = _axe(page, web.url, "#main" if mode == "board" else None)
    assert violations == [], violations
    context.close()


def test_the_overlay_takes_rows_and_scale_and_any_frame(asgi_server_factory, browser, board, game):
    web = asgi_server_factory()
    page = browser.new_page(viewport={"width": 480, "height": 720})
    response = page.goto(web.url + f"/leaderboards/{game.slug}/overlay/?rows=3&scale=1.5")
    assert "frame-ancestors *" in response.headers["content-security-policy"]
    assert "x-frame-options" not in response.headers
    expect(page.locator(".liveboard-row")).to_have_count(3)
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "30px"
    page.wait_for_selector('#live-status[data-state="live"]', state="attached")
    expect(page.locator(".liveboard-row")).to_have_count(3)  # the live updates keep to the rows asked for
    page.goto(web.url + f"/leaderboards/{game.slug}/overlay/?rows=banana&scale=99")
    expect(page.locator(".liveboard-row")).to_have_count(10)
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "60px"  # clamped to 3x
    page.close()


def test_tv_mode_goes_full_screen_on_f_and_the_board_page_links_to_both(asgi_server_factory, browser, board, game):
    web = asgi_server_factory()
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(web.url + f"/leaderboards/{game.slug}/")
    page.get_by_role("link", name="TV mode").click()
    page.wait_for_selector('#live-status[data-state="live"]')
    expect(page.locator("#lb-fullscreen")).to_be_visible()
    page.keyboard.press("f")
    page.wait_for_function("document.fullscreenElement !== null")
    page.keyboard.press("f")
    page.wait_for_function("document.fullscreenElement === null")
    page.goto(web.url + f"/leaderboards/{game.slug}/")
    assert page.get_by_role("link", name="Stream overlay").get_attribute("href").endswith("/overlay/")
    page.close()


@pytest.mark.parametrize("path", ["/leaderboards/nope/tv/", "/leaderboards/nope/overlay/"])
def test_unknown_boards_are_404(client, path):
    assert client.get(path).status_code == 404
