"""The campaign report in a real Chromium: the SVG chart is drawn, live figures arrive, a phone can read it."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from adplatform.core.redis import get_redis
from ads.events import today_key
from ads.models import AdPerformance
from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory
from games.tests.factories import AdContainerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture(autouse=True)
def _no_worker():
    # The live server runs in a thread of this process, so the patch reaches it.
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        yield


@pytest.fixture
def campaign_with_data(advertiser):
    campaign = CampaignFactory(advertiser=AdvertiserFactory(user=advertiser), name="Fizz launch")
    creative = CreativeFactory(campaign=campaign, name="Fizz banner")
    container = AdContainerFactory(name="Lobby board")
    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for days_ago, impressions in ((6, 120), (4, 300), (2, 260), (0, 90)):
        hour = today - timedelta(days=days_ago) + timedelta(hours=5)
        AdPerformance.objects.create(
            hour=hour, campaign=campaign, creative=creative, container=container, game_id=container.game_id,
            country="US", device="mobile", decisions=impressions + 10, fills_paid=impressions,
            impressions=impressions, viewable_impressions=impressions - 20, clicks=impressions // 40,
            spend=Decimal(impressions) * Decimal("0.002"), updated_at=hour,
        )  # fmt: skip
    day = timezone.now().astimezone(UTC).strftime("%Y%m%d")
    get_redis().hset(
        today_key("campaign", campaign.pk, day),
        mapping={"impressions": 1234, "viewable_impressions": 1000, "clicks": 37, "spend_micros": 2_468_000},
    )
    return campaign


def log_in(page, base_url, user):
    page.goto(base_url + "/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("main button[type=submit]")
    page.wait_for_url(base_url + "/")


def test_a_campaign_report_draws_its_chart_and_live_figures(live_server, page, advertiser, campaign_with_data):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    log_in(page, live_server.url, advertiser)

    page.goto(f"{live_server.url}/reports/campaigns/{campaign_with_data.pk}/")

    # then: small multiples, one measure a panel on its own axis: spend as seven bars, the rest as lines
    chart = page.locator('figure.chart[aria-label="Delivery by period"]')
    expect(chart).to_be_visible()
    expect(chart.locator(".chart-panel")).to_have_count(4)
    spend = chart.locator(".chart-panel").first
    expect(spend.locator("h3")).to_have_text("Spend")
    expect(spend.locator("rect.chart-bar")).to_have_count(7)
    expect(chart.locator("polyline.chart-line")).to_have_count(3)
    box = spend.locator("svg.chart-svg").bounding_box()
    assert box["width"] > 400 and box["height"] == 150  # two panels a row on a desktop
    tallest = max(spend.locator("rect.chart-bar").nth(i).bounding_box()["height"] for i in range(7))
    assert tallest > 70  # the biggest day reaches (near) the top of the plot
    # round ticks in the measure's own unit: $0.00, $0.20, $0.40, $0.60 (the top day spent $0.60)
    assert spend.locator("text.chart-y").all_text_contents() == ["$0.00", "$0.20", "$0.40", "$0.60"]
    impressions = chart.locator(".chart-panel").nth(1)
    assert impressions.locator("text.chart-y").all_text_contents() == ["0", "100", "200", "300"]
    assert len(impressions.locator("polyline.chart-line").get_attribute("points").split()) == 7
    tips = impressions.locator("rect.chart-hit title").all_text_contents()
    assert any(tip.endswith("Impressions 300") for tip in tips)
    # today is still being rolled up: the dashed line marks it, and the live panel says what is ahead of it
    expect(chart.locator("line.chart-rollup")).to_have_count(4)
    expect(page.locator("[data-rollup-delta]")).to_contain_text("+1,144 impressions")
    # and the breakdowns and the live panel (filled by static/js/reports.js, allowed by the CSP)
    expect(page.locator("#by-container")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Lobby board")
    live = page.locator("[data-live-url]")
    expect(live.locator("[data-live-field=impressions]")).to_have_text("1,234")
    expect(live.locator("[data-live-field=spend]")).to_have_text("$2.47")
    expect(live.locator("[data-live-field=ctr]")).to_have_text("3.00%")
    expect(live.locator("[data-live-status]")).to_contain_text("Updated")
    assert errors == []


def test_the_date_range_form_switches_to_hours_and_shows_errors(live_server, page, advertiser, campaign_with_data):
    log_in(page, live_server.url, advertiser)
    page.goto(f"{live_server.url}/reports/campaigns/{campaign_with_data.pk}/")
    today = timezone.now().astimezone(UTC).date()

    page.fill("#id_from", today.isoformat())
    page.fill("#id_to", today.isoformat())
    page.select_option("#id_granularity", "hour")
    page.get_by_role("button", name="Show").click()
    expect(page.locator('figure.chart[aria-label="Delivery by period"]')).to_have_attribute("data-periods", "24")

    page.fill("#id_from", (today + timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".report-range .error")).to_contain_text("must not be before the first")
    expect(page.locator("figure.chart")).to_have_count(0)


def test_the_report_fits_a_phone(live_server, browser, advertiser, campaign_with_data):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        log_in(page, live_server.url, advertiser)
        page.goto(f"{live_server.url}/reports/campaigns/{campaign_with_data.pk}/")
        chart = page.locator("figure.chart svg.chart-svg").first
        expect(chart).to_be_visible()
        assert chart.bounding_box()["width"] <= 375
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        # x labels alternate on a phone so they never overlap; the y labels keep their size
        panel = page.locator('figure.chart[aria-label="Delivery by period"] .chart-panel').first
        visible_x = panel.locator("text.chart-x").evaluate_all(
            "els => els.filter(e => getComputedStyle(e).display !== 'none').length"
        )
        assert 2 <= visible_x <= 4
        size = page.locator("text.chart-y").first.evaluate("e => e.getBoundingClientRect().height")
        assert size >= 10
    finally:
        context.close()
