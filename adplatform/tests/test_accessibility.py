"""axe-core on the site's own pages and the admin customisations, in a real Chromium, at a desktop
(1440x900) and a phone (390x844) size: no serious or critical violation anywhere.

axe-core is vendored (static/vendor/axe/axe.min.js, from npm) and loaded from the live server, so the
pages' CSP (script-src 'self') allows it and nothing leaves the machine.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from ads.models import AdEngagement, AdPerformance, ModerationStatus
from ads.reporting import floor_hour
from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory
from games.tests.factories import AdContainerFactory, GameFactory, PlaylistFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {
    "desktop": {"viewport": {"width": 1440, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
BAD = ("serious", "critical")


@pytest.fixture(autouse=True)
def _no_worker():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        yield


@pytest.fixture
def world(owner, advertiser, staff_user):
    game = GameFactory(owner=owner, name="Obby Tower")
    container = AdContainerFactory(game=game, name="Lobby board")
    PlaylistFactory(game=game, name="House ads")
    profile = AdvertiserFactory(user=advertiser, company="Fizz Co")
    campaign = CampaignFactory(advertiser=profile, name="Fizz launch", pacing="EVEN", status="ACTIVE",
                               daily_budget=Decimal("20"))  # fmt: skip
    creative = CreativeFactory(campaign=campaign, name="Fizz banner")
    CreativeFactory(campaign=CampaignFactory(advertiser=profile), moderation_status=ModerationStatus.PENDING)
    now = timezone.now()
    for hours_ago in (1, 30, 80):
        AdPerformance.objects.create(
            hour=floor_hour(now) - timedelta(hours=hours_ago), campaign=campaign, creative=creative,
            container=container, game=game, country="DE", device="mobile", decisions=300, fills_paid=250,
            impressions=240, viewable_impressions=200, clicks=6, invalid_events=2, spend=Decimal("0.48"),
            updated_at=now,
        )  # fmt: skip
    AdEngagement.objects.create(event_id=uuid.uuid4(), type="click", decision_id=uuid.uuid4(), game_id=game.pk,
                                container_id=container.pk, campaign_id=campaign.pk, player_id=7, occurred_at=now,
                                received_at=now, invalid_reason="click_too_fast")  # fmt: skip
    return {"game": game, "container": container, "campaign": campaign, "creative": creative}


def _pages(role: str, w) -> list[str]:
    game, campaign, container = w["game"], w["campaign"], w["container"]
    if role == "visitor":
        return ["/", "/login/", "/signup/", "/leaderboards/", "/no-such-page/"]
    if role == "owner":
        return [
            "/games/", f"/games/{game.slug}/", "/games/add/", f"/games/{game.slug}/edit/",
            f"/games/{game.slug}/containers/add/", f"/games/{game.slug}/containers/{container.pk}/edit/",
            f"/games/{game.slug}/playlists/add/", "/reports/earnings/", f"/reports/games/{game.pk}/",
            f"/reports/games/{game.pk}/invalid/", "/account/", "/account/notifications/",
        ]  # fmt: skip
    if role == "advertiser":
        return [
            "/campaigns/", f"/campaigns/{campaign.pk}/", "/campaigns/new/", f"/campaigns/{campaign.pk}/edit/",
            f"/campaigns/{campaign.pk}/creatives/new/", "/campaigns/profile/", "/reports/campaigns/",
            f"/reports/campaigns/{campaign.pk}/", f"/reports/campaigns/{campaign.pk}/invalid/",
        ]  # fmt: skip
    return [
        "/admin/", "/admin/ads/creative/", f"/admin/ads/creative/{w['creative'].pk}/change/", "/admin/ads/campaign/",
        f"/admin/ads/campaign/{campaign.pk}/change/", "/admin/ads/advertiser/", "/admin/games/game/",
        "/reports/platform/",
    ]  # fmt: skip


def _violations(page, base_url: str) -> list[dict]:
    page.add_script_tag(url=base_url + "/static/vendor/axe/axe.min.js")
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
        }"""
    )
    return [v for v in result if v["impact"] in BAD]


def _session_for(live_server, user) -> list[dict]:
    client = Client()
    client.force_login(user)
    return [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("role", ["visitor", "owner", "advertiser", "staff"])
def test_no_serious_or_critical_axe_violations(live_server, browser, world, owner, advertiser, staff_user, role, size):
    context = browser.new_context(**SIZES[size])
    user = {"owner": owner, "advertiser": advertiser, "staff": staff_user}.get(role)
    if user is not None:
        context.add_cookies(_session_for(live_server, user))
    page = context.new_page()
    page.set_default_timeout(15_000)
    found = {}
    try:
        for path in _pages(role, world):
            page.goto(live_server.url + path)
            problems = _violations(page, live_server.url)
            if problems:
                found[path] = problems
        # a form sent back with errors too (the error summary, aria-invalid fields)
        if role == "advertiser":
            page.goto(live_server.url + "/campaigns/new/")
            page.fill("#id_max_bid", "0")
            page.fill("#id_name", "")
            page.locator("form.campaign-form button[type=submit]").click()
            page.wait_for_selector("[data-error-summary]")
            problems = _violations(page, live_server.url)
            if problems:
                found["/campaigns/new/ (with errors)"] = problems
    finally:
        context.close()
    assert found == {}, "\n".join(f"{path}: {problems}" for path, problems in found.items())


def test_the_sign_up_button_has_enough_contrast(live_server, page):
    page.goto(live_server.url + "/")
    colours = page.locator(".site-nav a.button", has_text="Sign up").evaluate(
        "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
    )
    # white on #1f6feb: 4.6:1 (it was the nav's #1b2330 text on the blue: 3.4:1)
    assert colours == ["rgb(255, 255, 255)", "rgb(31, 111, 235)"]
