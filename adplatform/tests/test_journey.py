"""The whole journey in a real Chromium: sign-ups, approval, a game, a campaign, a simulated game, reports."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-Long-and-Unusual-passphrase-42"


def _new_page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _sign_up(page, base, *, role, username, company):
    page.goto(f"{base}/signup/")
    page.check(f"input[name=role][value={role}]")
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.com")
    page.fill("#id_company", company)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.locator("main").get_by_role("button", name="Send request").click()
    expect(page.locator("h1")).to_contain_text("request is in")


def _log_in(page, base, username, password):
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.press("#id_password", "Enter")
    expect(page).not_to_have_url(re.compile(r"/login/"))


def _admin_action(page, base, changelist, pk, action):
    page.goto(f"{base}{changelist}")
    page.check(f"input.action-select[value='{pk}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    expect(page.locator(".messagelist .success")).to_be_visible()


def _stat(page, label) -> Decimal:
    value = page.locator(".report-stats .stat").filter(
        has=page.locator(".stat-label", has_text=re.compile(rf"^{label}$"))
    )
    text = value.locator(".stat-value:not([data-live-field])").inner_text()
    number = re.sub(r"[^0-9.]", "", text)
    assert number, f"{label}: {text!r}"
    return Decimal(number)


def test_owner_and_advertiser_journey(browser, asgi_server_factory, staff_user):
    from adplatform.accounts.models import User
    from ads.models import Advertiser, Campaign, Creative
    from games.models import Game
    from scoreboard.tests.factories import ActionTypeFactory

    with (
        mock.patch("games.tasks.game_sync.delay") as _game_sync,
        mock.patch("games.tasks.asset_sync.delay") as _asset_sync,
    ):
        server = asgi_server_factory()
        base = server.url
        staff_context, staff = _new_page(browser)
        owner_context, owner = _new_page(browser)
        adv_context, adv = _new_page(browser)
        viewer_context, viewer = _new_page(browser)
        try:
            _log_in(staff, base + "/admin", staff_user.username, "correct-horse-battery")

            # 1. the owner signs up; staff approve the account
            _sign_up(owner, base, role="OWNER", username="studio_owner", company="Blocky Studio")
            owner_user = User.objects.get(username="studio_owner")
            assert not owner_user.is_active
            _admin_action(staff, base, "/admin/accounts/user/", owner_user.pk, "approve_accounts")
            owner_user.refresh_from_db()
            assert owner_user.is_active

            # 2. the owner adds a game, a container and an API key
            _log_in(owner, base, "studio_owner", PASSWORD)
            owner.goto(f"{base}/games/add/")
            owner.fill("#id_roblox_place_id", "4924922222")
            if owner.locator("#id_name").count():
                owner.fill("#id_name", "Brookhaven Test")
            owner.locator("main").get_by_role("button", name="Add game").click()
            expect(owner.locator("#containers")).to_be_visible()
            game = Game.objects.get(roblox_place_id=4924922222)
            slug = game.slug

            owner.goto(f"{base}/games/{slug}/containers/add/")
            owner.fill("#id_name", "Lobby billboard")
            owner.select_option("#id_type", "DISPLAY")
            owner.fill("#id_width_studs", "16")
            owner.fill("#id_height_studs", "9")
            owner.fill("#id_floor_price_cpm", "0.5")
            owner.locator("main").get_by_role("button", name="Create container").click()
            expect(owner.locator(".containers-table")).to_contain_text("Lobby billboard")

            owner.fill("form.key-form #id_name", "simulator")
            owner.click("button[name=create_key]")
            key = owner.locator("#api-key").inner_text().strip()
            secret = owner.locator("#signing-secret").inner_text().strip()
            assert key and secret

            # 3. the advertiser signs up, is approved, and sets up a campaign
            _sign_up(adv, base, role="ADVERTISER", username="brand_buyer", company="Fizzy Drinks")
            adv_user = User.objects.get(username="brand_buyer")
            _admin_action(staff, base, "/admin/accounts/user/", adv_user.pk, "approve_accounts")
            _log_in(adv, base, "brand_buyer", PASSWORD)

            adv.goto(f"{base}/campaigns/new/")
            adv.fill("#id_name", "Summer launch")
            adv.check("input[name=pricing][value=CPM]")
            adv.fill("#id_max_bid", "5")
            adv.fill("#id_total_budget", "50")
            adv.check("input[name=pacing][value=ASAP]")
            # Registered in Roblox Ads Manager for the owner's game (ads/COMPLIANCE.md).
            adv.fill("#id_roblox_campaign_id", "adint-summer")
            adv.select_option("#id_game", str(game.pk))
            adv.locator("main").get_by_role("button", name="Create campaign").click()
            expect(adv.locator("#creatives")).to_be_visible()
            campaign = Campaign.objects.get(name="Summer launch")

            adv.goto(f"{base}/campaigns/{campaign.pk}/creatives/new/")
            adv.fill("#id_name", "Billboard art")
            adv.select_option("#id_kind", "DISPLAY")
            adv.fill("#id_roblox_asset_id", "123456789")
            adv.fill("#id_roblox_placement_id", "pl-summer")
            adv.locator("main").get_by_role("button", name="Add creative").click()
            expect(adv.locator(".creatives-table")).to_contain_text("Billboard art")
            creative = Creative.objects.get(name="Billboard art")

            advertiser = Advertiser.objects.get(user=adv_user)
            _admin_action(staff, base, "/admin/ads/advertiser/", advertiser.pk, "approve")
            _admin_action(staff, base, "/admin/ads/creative/", creative.pk, "approve")
            # No Open Cloud key in this journey: staff record Roblox's approval as Ads Manager shows it.
            _admin_action(staff, base, "/admin/ads/creative/", creative.pk, "roblox_record_approved")

            adv.goto(f"{base}/campaigns/{campaign.pk}/")
            adv.locator("main").get_by_role("button", name="Activate").click()
            expect(adv.locator("main").get_by_role("button", name="Pause")).to_be_visible()
            campaign.refresh_from_db()
            assert campaign.status == "ACTIVE"

            from ads.budget import budget_rebuild
            from ads.decisions import engine

            budget_rebuild()
            engine.reset()

            # 4. a viewer watches the live board while the simulator plays the game
            for action_key in ("coin_collected", "daily_login", "checkpoint_reached"):
                ActionTypeFactory(game=game, key=action_key, base_score=10)
            viewer.goto(f"{base}/leaderboards/{slug}/")
            expect(viewer.locator('#live-status[data-state="live"]')).to_be_visible()
            expect(viewer.locator(".liveboard-row")).to_have_count(0)

            out = io.StringIO()
            call_command(
                "simulate_game",
                "--base-url", base,
                "--api-key", key,
                "--signing-secret", secret,
                "--game", slug,
                "--duration", "8",
                "--servers", "1",
                "--players", "10",
                "--rate", "4",
                "--seed", "7",  # repeatable: impressions that land inside the 8 s
                stdout=out,
            )  # fmt: skip

            # 5. the events become reports
            from ads.events import events_drain
            from ads.rollups import performance_rollup_recent

            events_drain()
            performance_rollup_recent()

            adv.goto(f"{base}/reports/campaigns/{campaign.pk}/")
            assert _stat(adv, "Impressions") > 0, out.getvalue()
            assert _stat(adv, "Spend") > 0, out.getvalue()

            owner.goto(f"{base}/reports/games/{game.pk}/")
            assert _stat(owner, "Revenue") > 0, out.getvalue()

            expect(viewer.locator(".liveboard-row")).not_to_have_count(0)
        finally:
            for context in (staff_context, owner_context, adv_context, viewer_context):
                context.close()
