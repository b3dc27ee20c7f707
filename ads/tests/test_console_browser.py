"""The targeting form's JavaScript in a real Chromium: the game picker filters, the reach forecast
follows the targeting, and a form sent back with errors puts focus on the first one."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from ads.models import AdPerformance
from ads.reporting import floor_hour
from ads.tests.factories import AdvertiserFactory
from games.tests.factories import GameFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_worker():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        yield


@pytest.fixture
def form_page(live_server, browser, advertiser):
    AdvertiserFactory(user=advertiser)
    client = Client()
    client.force_login(advertiser)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_game_picker_filters_and_the_forecast_follows_the_targeting(live_server, form_page):
    page = form_page
    tycoon, obby = GameFactory(name="Fizz Tycoon"), GameFactory(name="Obby Run")
    hour = floor_hour(timezone.now()) - timedelta(hours=2)
    for game, device, decisions in ((tycoon, "mobile", 700), (obby, "desktop", 1400)):
        AdPerformance.objects.create(hour=hour, game=game, device=device, decisions=decisions,
                                     impressions=decisions // 2, updated_at=timezone.now())  # fmt: skip

    page.goto(live_server.url + "/campaigns/new/")
    forecast = page.locator("[data-forecast-impressions]")
    expect(forecast).to_have_text("300")  # (700 + 1400) / 7 days

    picker = page.locator("#id_games_included")
    picker.locator("[data-game-search]").fill("tycoon")
    expect(picker.locator("li", has_text="Obby Run")).to_be_hidden()
    expect(picker.locator("[data-game-count]")).to_have_text("1 of 2 games shown")
    picker.get_by_label("Fizz Tycoon").check()
    expect(forecast).to_have_text("100")

    page.get_by_label("Desktop").check()  # Fizz Tycoon has no desktop traffic
    expect(forecast).to_have_text("0")


def test_a_form_with_errors_focuses_the_first_and_links_the_rest(live_server, form_page):
    page = form_page
    page.goto(live_server.url + "/campaigns/new/")
    page.fill("#id_name", "")
    page.fill("#id_total_budget", "100")
    page.fill("#id_daily_budget", "900")
    page.locator("form.campaign-form button[type=submit]").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_contain_text("There are 3 problems")
    expect(page.locator("#id_name")).to_be_focused()
    summary.get_by_role("link", name="Daily budget").click()
    expect(page.locator("#id_daily_budget")).to_be_focused()
    assert page.locator("#id_daily_budget").get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
