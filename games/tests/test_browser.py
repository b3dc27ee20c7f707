"""The owner console in a real Chromium: the whole first-run path, and phone widths."""

from __future__ import annotations

from unittest import mock

import pytest
from playwright.sync_api import expect

from games import keycache
from games.models import AdContainer, ContainerStatus, ContainerStatusChange, Game, GameApiKey
from games.tests.factories import AdContainerFactory, GameFactory, PlaylistFactory, make_api_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def sync_delay():
    # The live server runs in a thread of this process, so the patch reaches it: no worker, no Roblox.
    with mock.patch("games.tasks.game_sync.delay") as delay:
        yield delay


def log_in(page, base_url, user):
    page.goto(base_url + "/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("main button[type=submit]")
    page.wait_for_url(base_url + "/")


def test_owner_adds_a_game_container_maintenance_and_key(live_server, page, owner, sync_delay):
    base = live_server.url
    log_in(page, base, owner)

    # given: an owner with no games, who follows the navigation and the empty state
    page.locator(".site-nav").get_by_role("link", name="Games").click()
    page.wait_for_url(base + "/games/")
    assert "Add your first game" in page.inner_text("main")
    page.locator(".empty-hero").get_by_role("link", name="Add a game").click()

    # when: a place id of letters is refused on its field
    page.fill("#id_roblox_place_id", "abc")
    page.click("main button[type=submit]")
    assert "A place id is a whole number" in page.inner_text(".field-invalid")
    assert not Game.objects.exists()

    # when: a real place id is added
    page.fill("#id_roblox_place_id", "920587237")
    page.fill("#id_name", "Obby Land")
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/games/obby-land/")
    assert "Waiting for sync" in page.inner_text("#sync-state")
    game = Game.objects.get(roblox_place_id=920587237)
    sync_delay.assert_called_once_with(game.pk)

    # when: a container is created
    page.click("text=Add container")
    page.fill("#id_name", "Lobby billboard")
    page.fill("#id_width_studs", "16")
    page.fill("#id_height_studs", "9")
    page.fill("#id_floor_price_cpm", "1.25")
    page.check("input[name=blocked_categories][value=food]")
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/games/obby-land/#containers")
    container = AdContainer.objects.get(game=game)
    row = page.locator(f"#container-{container.pk}")
    assert "Lobby billboard" in row.inner_text()
    assert row.locator(".badge").inner_text() == "Active"

    # when: switched to MAINTENANCE without a reason, the row says why not
    row.locator("select").select_option("MAINTENANCE")
    row.get_by_role("button", name="Switch").click()
    page.wait_for_selector(f"#container-{container.pk} .switch-errors")
    assert "Say why the container is in maintenance." in page.locator(f"#container-{container.pk}").inner_text()
    container.refresh_from_db()
    assert container.status == ContainerStatus.ACTIVE

    # when: with a reason, it switches and the change is recorded
    row = page.locator(f"#container-{container.pk}")
    row.locator("select").select_option("MAINTENANCE")
    row.locator("input[type=text]").fill("new sponsor artwork")
    row.get_by_role("button", name="Switch").click()
    page.wait_for_selector(".message-success")
    assert page.locator(f"#container-{container.pk} .badge").inner_text() == "Maintenance"
    change = ContainerStatusChange.objects.filter(container=container).first()
    assert change is not None
    assert (change.to_status, change.reason, change.changed_by_id) == ("MAINTENANCE", "new sponsor artwork", owner.pk)

    # when: an API key is created, key and signing secret are shown once with copy buttons
    page.fill("#api-keys input[name=name]", "production servers")
    page.click("button[name=create_key]")
    key_text = page.locator("#api-key").inner_text()
    secret_text = page.locator("#signing-secret").inner_text()
    key = GameApiKey.objects.get(game=game)
    assert key_text.startswith(key.prefix) and keycache.hash_key(key_text) == key.key_hash
    assert secret_text == key.signing_secret
    page.click("[data-copy='#api-key']")
    expect(page.locator("[data-copy='#api-key']")).to_have_text("Copied")

    # then: back on the game page the list shows only the prefix, and the snippet is ready to copy
    page.click("text=Back to Obby Land")
    keys = page.inner_text("#api-keys")
    assert f"{key.prefix}…" in keys and key_text not in page.content()
    snippet = page.locator("#connect-snippet").inner_text()
    assert 'HttpService:GetSecret("adplatform_api_key")' in snippet
    assert f'local BASE_URL = "{base}/api/v1"' in snippet


def test_revoking_a_key_asks_first(live_server, page, owner):
    game = GameFactory(owner=owner, slug="obby-land")
    key, _, _ = make_api_key(game, "old servers")
    log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/games/{game.slug}/#api-keys")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#api-keys >> text=Revoke")
    key.refresh_from_db()
    assert key.revoked_at is None
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#api-keys >> text=Revoke")
    page.wait_for_selector(".message-success")
    assert page.locator("#api-keys .badge-muted").inner_text() == "revoked"
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_playlist_rows_can_be_added_in_the_browser(live_server, page, owner):
    game = GameFactory(owner=owner, slug="obby-land")
    playlist = PlaylistFactory(game=game, name="Posters")
    log_in(page, live_server.url, owner)
    page.goto(f"{live_server.url}/games/{game.slug}/playlists/{playlist.pk}/edit/")
    assert page.locator(".item-row").count() == 3
    page.click("text=Add a row")
    assert page.locator(".item-row").count() == 4
    page.fill("#id_items-0-roblox_asset_id", "1818")
    page.fill("#id_items-3-roblox_asset_id", "2929")
    page.fill("#id_items-3-display_seconds", "30")
    page.click("text=Save playlist")
    page.wait_for_selector(".message-success")
    items = [(i.asset.roblox_asset_id, i.display_seconds) for i in playlist.items.select_related("asset")]
    assert items == [(1818, 15), (2929, 30)]


def test_console_pages_fit_a_phone(live_server, browser, owner):
    # given: a game with something in every section, and an error on one row
    game = GameFactory(owner=owner, name="A game with a rather long name for a phone screen", slug="long-one",
                       last_sync_error="Roblox answered 503 Service Unavailable " * 3, sync_status="ERROR")  # fmt: skip
    container = AdContainerFactory(game=game, name="Lobby billboard by the spawn", placement="lobby-billboard-spawn")
    AdContainerFactory(game=game, status=ContainerStatus.MAINTENANCE)
    playlist = PlaylistFactory(game=game, name="House posters")
    make_api_key(game, "production servers")
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    base = live_server.url
    log_in(page, base, owner)

    pages = [
        "/games/",
        f"/games/{game.slug}/",
        "/games/add/",
        f"/games/{game.slug}/edit/",
        f"/games/{game.slug}/containers/add/",
        f"/games/{game.slug}/containers/{container.pk}/edit/",
        f"/games/{game.slug}/playlists/{playlist.pk}/edit/",
    ]
    for path in pages:
        page.goto(base + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide"

    # the game page with the inline error shown still fits, and its table became cards
    page.goto(f"{base}/games/{game.slug}/")
    row = page.locator(f"#container-{container.pk}")
    row.locator("select").select_option("MAINTENANCE")
    row.get_by_role("button", name="Switch").click()
    page.wait_for_selector(f"#container-{container.pk} .switch-errors")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert not page.locator(".containers-table thead").is_visible()
    assert page.locator("#connect-snippet").is_visible()

    # the key page, with its long key and secret, fits too
    page.fill("#api-keys input[name=name]", "phone key")
    page.click("button[name=create_key]")
    page.wait_for_selector("#signing-secret")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()
