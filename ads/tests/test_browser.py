"""The advertiser console in a real Chromium: from an empty account to an active campaign, and phone widths."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ads.models import Advertiser, Campaign, CampaignStatus, Creative, ModerationStatus
from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture(autouse=True)
def asset_sync_delay():
    # The live server runs in a thread of this process, so the patch reaches it: no worker, no Roblox.
    with mock.patch("games.tasks.asset_sync.delay") as delay:
        yield delay


def log_in(page, base_url, user):
    page.goto(base_url + "/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("main button[type=submit]")
    page.wait_for_url(base_url + "/")


def test_advertiser_creates_a_campaign_and_a_creative_then_activates_it(live_server, page, advertiser, staff_user):
    base = live_server.url
    log_in(page, base, advertiser)

    # given: a new advertiser, whose profile waits for approval
    page.locator(".site-nav").get_by_role("link", name="Campaigns").click()
    page.wait_for_url(base + "/campaigns/")
    expect(page.locator(".banner")).to_contain_text("waiting for approval")
    page.locator(".empty-hero").get_by_role("link", name="New campaign").click()

    # when: the campaign is filled in, with targeting
    now = timezone.now()
    page.fill("#id_name", "Summer fizz")
    page.fill("#id_max_bid", "4.50")
    page.fill("#id_total_budget", "300")
    page.fill("#id_start_at", now.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_end_at", (now + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_frequency_cap_count", "3")
    included = page.locator("#id_countries_included")
    filter_box = page.locator(".field:has(#id_countries_included) .country-filter")
    filter_box.fill("united")
    expect(included.locator("option[value=FR]")).to_be_hidden()
    expect(included.locator("option[value=US]")).to_be_visible()
    included.select_option(["US", "GB"])
    expect(page.locator(".field:has(#id_countries_included) .chosen")).to_have_text("2 chosen: GB, US")
    page.check("input[name=devices][value=mobile]")
    page.check("input[name=devices][value=tablet]")
    grid = page.locator("[data-schedule-grid]")
    grid.get_by_role("button", name="Evenings").click()  # 17:00 to 22:00
    grid.get_by_role("button", name="Weekends").click()
    expect(grid.locator("td.cell.on")).to_have_count(2 * 6)
    grid.locator("label[for=id_hours_utc_12]").click()  # one more hour, through its column head
    expect(grid.locator("td.cell.on")).to_have_count(2 * 7)
    page.click("main button[type=submit]")

    # then: a draft with that targeting
    page.wait_for_url(base + "/campaigns/*/")
    campaign = Campaign.objects.get()
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.frequency_cap == {"count": 3, "period_seconds": 86400}
    assert campaign.targeting == {
        "countries_included": ["GB", "US"],
        "devices": ["mobile", "tablet"],
        "days_of_week": [5, 6],
        "hours_utc": [12, 17, 18, 19, 20, 21, 22],
    }
    expect(page.locator("#targeting")).to_contain_text("United Kingdom (GB), United States (US)")
    expect(page.locator("#activation-problems")).to_contain_text("No approved creative yet")

    # when: a DISPLAY creative is added; the NPC and minigame parts only show for their formats
    page.get_by_role("link", name="Add creative").click()
    expect(page.locator("#npc-section")).to_be_hidden()
    page.select_option("#id_kind", "NPC")
    expect(page.locator("#npc-section")).to_be_visible()
    expect(page.locator(".dialogue-rows input")).to_have_count(1)
    page.select_option("#id_kind", "DISPLAY")
    expect(page.locator("#npc-section")).to_be_hidden()
    page.fill("#id_name", "Beach billboard")
    page.fill("#id_roblox_asset_id", "123456789")
    page.click("main button[type=submit]")
    page.wait_for_url(base + f"/campaigns/{campaign.pk}/#creatives")
    creative = Creative.objects.get()
    assert (creative.kind, creative.roblox_asset_id) == ("DISPLAY", 123456789)
    row = page.locator(f"#creative-{creative.pk}")
    expect(row).to_contain_text("Pending review")
    expect(row.locator("img.creative-thumb")).to_have_attribute("src", "/static/img/creative-placeholder.svg")

    # when: submitted for review before anyone approved anything, the page says what it waits for
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".messages")).to_contain_text("goes live by itself once staff approve")
    expect(page.locator("#activation-problems")).to_contain_text("The advertiser account is not approved yet.")
    expect(page.locator("#campaign-status")).to_have_text("Draft")

    # when: staff see what waits for them, and approve the advertiser and the creative in Django admin
    staff = page.context.browser.new_context()
    admin = staff.new_page()
    admin.goto(base + "/admin/login/")
    admin.fill("#id_username", staff_user.username)
    admin.fill("#id_password", "correct-horse-battery")
    admin.click("input[type=submit]")
    expect(admin.locator("#pending-review")).to_contain_text("1 creative")
    for changelist, pk in (("advertiser", Advertiser.objects.get(user=advertiser).pk), ("creative", creative.pk)):
        admin.goto(f"{base}/admin/ads/{changelist}/")
        admin.check(f"input[name=_selected_action][value='{pk}']")
        admin.select_option("select[name=action]", "approve")
        admin.click("button[name=index]")
        expect(admin.locator(".messagelist")).to_be_visible()
    staff.close()
    creative.refresh_from_db()
    assert (creative.moderation_status, creative.moderated_by) == (ModerationStatus.APPROVED, staff_user)

    # then: the campaign went live by itself, and the advertiser was told (in the console and by email)
    page.reload()
    expect(page.locator(f"#creative-{creative.pk}")).to_contain_text("Approved")
    expect(page.locator("#campaign-status")).to_have_text("Active")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE
    expect(page.locator(".nav-notifications .count-badge")).to_be_visible()
    page.locator(".nav-notifications").click()
    expect(page.locator(".notification-list")).to_contain_text(f"“{campaign.name}” is live")
    page.goto(f"{base}/campaigns/{campaign.pk}/")

    # and: pause works from the same page, archive asks first
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#campaign-status")).to_have_text("Paused")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Archive").click()
    expect(page.locator("#campaign-status")).to_have_text("Paused")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED


def test_npc_dialogue_editor_and_minigame_fields(live_server, page, advertiser):
    campaign = CampaignFactory(advertiser=AdvertiserFactory(user=advertiser))
    log_in(page, live_server.url, advertiser)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/creatives/new/")

    # an NPC, its lines entered one row each
    page.fill("#id_name", "Fizz mascot")
    page.fill("#id_roblox_asset_id", "5550001")
    page.select_option("#id_kind", "NPC")
    page.fill("#id_npc_model_asset_id", "777")
    rows = page.locator(".dialogue-rows input")
    rows.nth(0).fill("Hello there!")
    page.get_by_role("button", name="Add a line").click()
    rows.nth(1).fill("Spare a minute?")
    rows.nth(1).press("Enter")
    rows.nth(2).fill("Try Fizz today.")
    page.locator(".dialogue-rows li").nth(1).get_by_role("button", name="Remove").click()
    expect(page.locator("#minigame-section")).to_be_hidden()
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/campaigns/{campaign.pk}/#creatives")
    assert Creative.objects.get().npc_dialogue == ["Hello there!", "Try Fizz today."]

    # a minigame: the reward and quiz fields follow the choices
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/creatives/new/")
    page.select_option("#id_kind", "MINIGAME")
    expect(page.locator("#minigame-section")).to_be_visible()
    expect(page.locator("#id_questions")).to_be_hidden()
    page.select_option("#id_minigame_template", "quiz")
    expect(page.locator("#id_questions")).to_be_visible()
    expect(page.locator("#id_reward_badge_id")).to_be_hidden()
    page.select_option("#id_reward_type", "badge")
    expect(page.locator("#id_reward_badge_id")).to_be_visible()
    page.fill("#id_name", "Quiz")
    page.fill("#id_roblox_asset_id", "5550002")
    page.fill("#id_questions", "[{not json")
    page.click("main button[type=submit]")
    expect(page.locator(".field-invalid:has(#id_questions) .error")).to_contain_text("This is not valid JSON")
    # the page came back with the choices made: the fields still show for them
    expect(page.locator("#id_questions")).to_be_visible()
    page.fill("#id_questions", '[{"prompt": "Which drink is ours?", "choices": ["Fizz", "Pop"], "answer": 0}]')
    page.click("main button[type=submit]")
    expect(page.locator(".field-invalid:has(#id_reward_badge_id) .error")).to_contain_text("badge_id")
    assert Creative.objects.count() == 1
    page.fill("#id_reward_badge_id", "2124")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/campaigns/{campaign.pk}/#creatives")
    quiz = Creative.objects.get(name="Quiz")
    assert quiz.minigame["reward"] == {"type": "badge", "badge_id": 2124}
    assert quiz.minigame["questions"][0]["choices"] == ["Fizz", "Pop"]


def test_console_pages_fit_a_phone(live_server, browser, advertiser):
    profile = AdvertiserFactory(user=advertiser)
    campaign = CampaignFactory(
        advertiser=profile,
        name="A campaign with a rather long name to wrap on small screens",
        targeting={"countries_included": ["US", "GB", "DE", "FR"], "hours_utc": [17, 18, 19]},
    )
    CreativeFactory(campaign=campaign, moderation_status=ModerationStatus.REJECTED, moderation_reason="Too dark")
    for n in range(3):
        CampaignFactory(advertiser=profile, name=f"Push {n}")
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, live_server.url, advertiser)
        for path in (
            "/campaigns/",
            "/campaigns/new/",
            f"/campaigns/{campaign.pk}/",
            f"/campaigns/{campaign.pk}/edit/",
            f"/campaigns/{campaign.pk}/creatives/new/",
            "/campaigns/profile/",
        ):
            page.goto(live_server.url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{path} is {width}px wide"
        # the hour grid scrolls inside its own box instead of widening the page
        page.goto(f"{live_server.url}/campaigns/{campaign.pk}/edit/")
        wrap = page.locator(".hour-grid-wrap")
        assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()
