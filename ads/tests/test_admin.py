"""Staff tools in Django admin: moderation queue, advertiser approval, campaigns and the ledger."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils import timezone

from ads import services
from ads.models import Advertiser, Campaign, Creative, LedgerEntry, ModerationStatus
from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory
from games.tests.factories import AssetFactory

pytestmark = pytest.mark.django_db

THUMBNAIL = "https://tr.rbxcdn.com/abc/150/150/Image/Png"


@pytest.fixture(autouse=True)
def _no_worker():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        yield


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def brand():
    return AdvertiserFactory(company="Toy Co", approval="PENDING")


@pytest.fixture
def campaign(brand):
    return CampaignFactory(advertiser=brand, name="Toy launch", roblox_campaign_id="rbx-42", spent=Decimal("25"))


@pytest.fixture
def creative(campaign):
    asset = AssetFactory(roblox_asset_id=7001, thumbnail_url=THUMBNAIL)
    return CreativeFactory(
        campaign=campaign, name="Poster", roblox_asset_id=7001, asset=asset, moderation_status=ModerationStatus.PENDING
    )


@pytest.fixture
def ledger_entry(campaign):
    return LedgerEntry.objects.create(campaign=campaign, kind="IMPRESSION_CHARGE", amount=Decimal("0.002500"))


def url(model: str, view: str, *args) -> str:
    return reverse(f"admin:ads_{model}_{view}", args=args)


def when(moment) -> dict[str, str]:
    return {"0": moment.strftime("%Y-%m-%d"), "1": moment.strftime("%H:%M:%S")}


def campaign_form(campaign: Campaign, **overrides) -> dict:
    data = {"name": campaign.name, "status": campaign.status, "roblox_campaign_id": campaign.roblox_campaign_id,
            "pricing": campaign.pricing, "max_bid": str(campaign.max_bid), "total_budget": str(campaign.total_budget),
            "daily_budget": "", "pacing": campaign.pacing, "frequency_cap_count": "",
            "frequency_cap_period_seconds": "", "targeting": "{}"}  # fmt: skip
    for field in ("start_at", "end_at"):
        for part, value in when(getattr(campaign, field)).items():
            data[f"{field}_{part}"] = value
    data.update(overrides)
    return data


def creative_form(**overrides) -> dict:
    data = {"name": "Poster", "kind": "DISPLAY", "roblox_asset_id": "7001", "npc_model_asset_id": "",
            "npc_dialogue": "[]", "minigame": "null", "click_action": '{"type": "none"}'}  # fmt: skip
    return {**data, **overrides}


def run_action(client, model: str, action: str, objects, **extra):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [o.pk for o in objects], **extra}
    return client.post(url(model, "changelist"), data)


# =========================================================================== every page renders


@pytest.mark.parametrize(
    "model,view",
    [
        ("advertiser", "changelist"),
        ("campaign", "changelist"),
        ("campaign", "add"),
        ("creative", "changelist"),
        ("creative", "add"),
        ("ledgerentry", "changelist"),
    ],
)
def test_list_and_add_pages_render(staff, creative, ledger_entry, model, view):
    assert staff.get(url(model, view)).status_code == 200


@pytest.mark.parametrize(
    "model,query",
    [
        ("advertiser", {"q": "Toy"}),
        ("advertiser", {"approval__exact": "PENDING", "category__exact": "toys"}),
        ("campaign", {"q": "rbx-42"}),
        ("campaign", {"q": "Toy Co"}),
        ("campaign", {"status__exact": "DRAFT", "pricing__exact": "CPM", "pacing__exact": "EVEN"}),
        ("campaign", {"o": "7"}),
        ("creative", {"q": "7001"}),
        ("creative", {"q": "Toy Co"}),
        ("creative", {"moderation_status__exact": "PENDING", "kind__exact": "DISPLAY"}),
        ("ledgerentry", {"q": "Toy launch"}),
        ("ledgerentry", {"q": "not-a-uuid"}),
        ("ledgerentry", {"kind__exact": "IMPRESSION_CHARGE"}),
    ],
)
def test_search_and_filters_render(staff, creative, ledger_entry, model, query):
    response = staff.get(url(model, "changelist"), query)

    assert response.status_code == 200
    if query.get("q") not in (None, "not-a-uuid"):
        assert response.context["cl"].result_count == 1


def test_change_forms_render(staff, brand, campaign, creative, ledger_entry):
    for model, obj in [("advertiser", brand), ("campaign", campaign), ("creative", creative),
                       ("ledgerentry", ledger_entry)]:  # fmt: skip
        response = staff.get(url(model, "change", obj.pk))
        assert response.status_code == 200, model
    campaign_page = staff.get(url("campaign", "change", campaign.pk)).content.decode()
    assert "Poster" in campaign_page  # the creatives inline
    assert THUMBNAIL in staff.get(url("creative", "change", creative.pk)).content.decode()


def test_non_staff_cannot_open_the_admin(client, advertiser, campaign):
    client.force_login(advertiser)
    response = client.get(url("campaign", "changelist"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


# =========================================================================== moderation queue


def test_pending_creatives_come_first_oldest_first(staff, campaign):
    now = timezone.now()
    approved = CreativeFactory(campaign=campaign, moderation_status="APPROVED")
    old_pending = CreativeFactory(campaign=campaign, moderation_status="PENDING")
    rejected = CreativeFactory(campaign=campaign, moderation_status="REJECTED", moderation_reason="blurry")
    new_pending = CreativeFactory(campaign=campaign, moderation_status="PENDING")
    for age, creative in enumerate([new_pending, rejected, old_pending, approved]):
        Creative.objects.filter(pk=creative.pk).update(created_at=now - timedelta(hours=age))

    rows = list(staff.get(url("creative", "changelist")).context["cl"].result_list)

    assert rows[:2] == [old_pending, new_pending]
    assert set(rows[2:]) == {approved, rejected}


def test_the_queue_shows_the_thumbnail_or_a_placeholder(staff, campaign, creative):
    CreativeFactory(campaign=campaign, name="No thumbnail yet", moderation_status="PENDING")

    page = staff.get(url("creative", "changelist")).content.decode()

    assert f'src="{THUMBNAIL}"' in page
    assert "No preview" in page


def test_approve_action_goes_through_the_service(staff, staff_user, creative):
    with mock.patch.object(services, "creative_moderate", wraps=services.creative_moderate) as moderate:
        response = run_action(staff, "creative", "approve", [creative])

    assert response.status_code == 302
    moderate.assert_called_once()
    creative.refresh_from_db()
    assert creative.moderation_status == "APPROVED"
    assert creative.moderated_by == staff_user
    assert creative.moderated_at is not None


def test_reject_action_asks_for_a_reason_first(staff, creative):
    page = run_action(staff, "creative", "reject", [creative])

    assert page.status_code == 200
    assert page.templates[0].name == "admin/ads/action_reason.html"
    html = page.content.decode()
    assert "csrfmiddlewaretoken" in html and 'name="reason"' in html and "Poster" in html
    creative.refresh_from_db()
    assert creative.moderation_status == "PENDING"


def test_reject_action_without_a_reason_is_refused(staff, creative):
    page = run_action(staff, "creative", "reject", [creative], apply="yes", reason="  ")

    assert page.status_code == 200
    assert page.context["form"].errors["reason"]
    creative.refresh_from_db()
    assert creative.moderation_status == "PENDING"


def test_reject_action_with_a_reason_goes_through_the_service(staff, staff_user, campaign, creative):
    other = CreativeFactory(campaign=campaign, moderation_status="PENDING")

    response = run_action(staff, "creative", "reject", [creative, other], apply="yes", reason="Logo is blurry")

    assert response.status_code == 302
    for rejected in (creative, other):
        rejected.refresh_from_db()
        assert rejected.moderation_status == "REJECTED"
        assert rejected.moderation_reason == "Logo is blurry"
        assert rejected.moderated_by == staff_user


def test_a_decision_in_the_change_form_goes_through_the_service(staff, staff_user, creative):
    base = creative_form()

    refused = staff.post(url("creative", "change", creative.pk), {**base, "decision": "REJECTED"})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["decision_reason"]
    creative.refresh_from_db()
    assert creative.moderation_status == "PENDING"

    done = staff.post(
        url("creative", "change", creative.pk), {**base, "decision": "REJECTED", "decision_reason": "Too dark"}
    )

    assert done.status_code == 302
    creative.refresh_from_db()
    assert (creative.moderation_status, creative.moderation_reason) == ("REJECTED", "Too dark")
    assert creative.moderated_by == staff_user


def test_a_refused_decision_also_discards_the_content_edit(staff, creative):
    data = creative_form(name="Renamed", decision="REJECTED")

    response = staff.post(url("creative", "change", creative.pk), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["decision_reason"]
    creative.refresh_from_db()
    assert (creative.name, creative.moderation_status) == ("Poster", "PENDING")


def test_editing_content_in_the_change_form_sends_it_back_to_review(staff, creative):
    Creative.objects.filter(pk=creative.pk).update(moderation_status="APPROVED")
    data = creative_form(roblox_asset_id="7002", click_action='{"type": "teleport", "place_id": 5}')

    response = staff.post(url("creative", "change", creative.pk), data)

    assert response.status_code == 302
    creative.refresh_from_db()
    assert creative.moderation_status == "PENDING"
    assert creative.asset.roblox_asset_id == 7002
    assert creative.click_action == {"type": "teleport", "place_id": 5}


def test_bad_creative_content_shows_on_the_form_and_saves_nothing(staff, creative):
    data = creative_form(kind="MINIGAME", minigame='{"template": "chess"}')

    response = staff.post(url("creative", "change", creative.pk), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["minigame"]
    creative.refresh_from_db()
    assert creative.kind == "DISPLAY"


def test_add_a_creative_through_the_service(staff, campaign):
    data = {"campaign": campaign.pk, "name": "Mascot", "kind": "NPC", "roblox_asset_id": "8001",
            "npc_model_asset_id": "8002", "npc_dialogue": '["Hello!"]', "minigame": "null",
            "click_action": '{"type": "none"}'}  # fmt: skip

    response = staff.post(url("creative", "add"), data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    creative = Creative.objects.get(name="Mascot")
    assert creative.moderation_status == "PENDING"
    assert (creative.npc_model_asset_id, creative.npc_dialogue) == (8002, ["Hello!"])
    assert creative.asset.roblox_asset_id == 8001


# =========================================================================== advertisers


def test_advertiser_approve_action_goes_through_the_service(staff, staff_user, brand):
    response = run_action(staff, "advertiser", "approve", [brand])

    assert response.status_code == 302
    brand.refresh_from_db()
    assert brand.approval == "APPROVED"
    assert brand.approved_by == staff_user
    assert brand.approved_at is not None


def test_advertiser_reject_action_keeps_the_note(staff, staff_user, brand):
    assert run_action(staff, "advertiser", "reject", [brand]).status_code == 200

    response = run_action(staff, "advertiser", "reject", [brand], apply="yes", reason="Not a real company")

    assert response.status_code == 302
    brand.refresh_from_db()
    assert (brand.approval, brand.approval_note, brand.approved_by) == ("REJECTED", "Not a real company", staff_user)


def test_advertiser_change_form_saves_through_the_service(staff, brand):
    response = staff.post(url("advertiser", "change", brand.pk), {"company": "  Toy Company  ", "category": "food"})

    assert response.status_code == 302
    brand.refresh_from_db()
    assert (brand.company, brand.category) == ("Toy Company", "food")


def test_advertisers_and_campaigns_are_not_deleted_in_admin(staff, brand, campaign):
    assert staff.get(url("advertiser", "delete", brand.pk)).status_code == 403
    assert staff.post(url("campaign", "delete", campaign.pk), {"post": "yes"}).status_code == 403
    assert Campaign.objects.filter(pk=campaign.pk).exists()
    assert Advertiser.objects.filter(pk=brand.pk).exists()


# =========================================================================== campaigns


def test_campaign_list_shows_spend_and_budget(staff, campaign):
    page = staff.get(url("campaign", "changelist")).content.decode()

    assert "25.00 / 100.00" in page
    assert "75.00" in page
    assert "25.0%" in page


def test_campaign_change_form_saves_through_the_service(staff, campaign):
    data = campaign_form(campaign, name="Toy relaunch", targeting='{"countries_included": ["gb", "us"]}',
                         frequency_cap_count="3", frequency_cap_period_seconds="3600")  # fmt: skip

    response = staff.post(url("campaign", "change", campaign.pk), data)

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Toy relaunch"
    assert campaign.targeting == {"countries_included": ["GB", "US"]}  # normalised by the service
    assert campaign.frequency_cap == {"count": 3, "period_seconds": 3600}
    assert campaign.spent == Decimal("25")


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"total_budget": "0"}, "total_budget"),
        ({"max_bid": "-1"}, "max_bid"),
        ({"targeting": '{"devices": ["toaster"]}'}, "targeting"),
        ({"frequency_cap_count": "3"}, "frequency_cap_period_seconds"),
        ({"status": "ACTIVE"}, "status"),
    ],
)
def test_campaign_change_form_shows_service_errors_and_saves_nothing(staff, campaign, overrides, field):
    response = staff.post(url("campaign", "change", campaign.pk), campaign_form(campaign, name="Edited", **overrides))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status) == ("Toy launch", "DRAFT")


def test_end_before_start_shows_on_the_form(staff, campaign):
    earlier = when(campaign.start_at - timedelta(days=1))
    data = campaign_form(campaign, end_at_0=earlier["0"], end_at_1=earlier["1"])

    response = staff.post(url("campaign", "change", campaign.pk), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["end_at"]


def test_add_a_campaign_through_the_service(staff, brand):
    now = timezone.now()
    data = {"advertiser": brand.pk, "name": "Staff made", "roblox_campaign_id": "", "pricing": "CPC",
            "max_bid": "0.25", "total_budget": "500", "daily_budget": "50", "pacing": "ASAP",
            "frequency_cap_count": "", "frequency_cap_period_seconds": "", "targeting": '{"devices": ["MOBILE"]}',
            **{f"start_at_{k}": v for k, v in when(now).items()},
            **{f"end_at_{k}": v for k, v in when(now + timedelta(days=7)).items()}}  # fmt: skip

    response = staff.post(url("campaign", "add"), data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    campaign = Campaign.objects.get(name="Staff made")
    assert (campaign.advertiser, campaign.status, campaign.pricing) == (brand, "DRAFT", "CPC")
    assert campaign.targeting == {"devices": ["mobile"]}


def test_campaign_status_actions_go_through_the_service(staff, brand, campaign):
    refused = run_action(staff, "campaign", "activate", [campaign])
    assert refused.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "DRAFT"  # not approved, no approved creative

    Advertiser.objects.filter(pk=brand.pk).update(approval="APPROVED")
    CreativeFactory(campaign=campaign, moderation_status="APPROVED")
    run_action(staff, "campaign", "activate", [campaign])
    campaign.refresh_from_db()
    assert campaign.status == "ACTIVE"
    run_action(staff, "campaign", "pause", [campaign])
    campaign.refresh_from_db()
    assert campaign.status == "PAUSED"


# =========================================================================== ledger


def test_ledger_admin_is_read_only(staff, ledger_entry):
    assert staff.get(url("ledgerentry", "add")).status_code == 403
    assert staff.get(url("ledgerentry", "delete", ledger_entry.pk)).status_code == 403
    change_page = staff.get(url("ledgerentry", "change", ledger_entry.pk))
    assert change_page.status_code == 200
    assert 'name="_save"' not in change_page.content.decode()
    assert staff.post(url("ledgerentry", "change", ledger_entry.pk), {"amount": "999"}).status_code == 403
    ledger_entry.refresh_from_db()
    assert ledger_entry.amount == Decimal("0.002500")
    assert staff.get(url("ledgerentry", "changelist")).context["action_form"] is None  # not even delete_selected


# =========================================================================== in a real browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_moderate_in_a_real_browser(live_server, page, staff_user):
    from playwright.sync_api import expect

    brand = AdvertiserFactory(company="Fizz Co", approval="PENDING")
    campaign = CampaignFactory(advertiser=brand, name="Summer fizz")
    blurry = CreativeFactory(campaign=campaign, name="Blurry poster", moderation_status="PENDING")
    sharp = CreativeFactory(campaign=campaign, name="Sharp poster", moderation_status="PENDING")
    page.goto(live_server.url + url("creative", "changelist"))
    page.fill("#id_username", staff_user.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("input[type=submit]")

    # when: staff reject one creative, giving a reason on the intermediate page
    page.check(f"input[name=_selected_action][value='{blurry.pk}']")
    page.select_option("select[name=action]", "reject")
    page.click("button[name=index]")
    expect(page.locator("h1")).to_have_text("Reject creatives")
    expect(page.locator("#content")).to_contain_text("Blurry poster")
    page.fill("textarea[name=reason]", "The logo is unreadable.")
    page.click("input[type=submit][value='Reject creatives']")
    expect(page.locator(".messagelist")).to_contain_text("1 done")

    # and: approve the other one, then the advertiser
    page.check(f"input[name=_selected_action][value='{sharp.pk}']")
    page.select_option("select[name=action]", "approve")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("1 creative(s) approved")
    page.goto(live_server.url + url("advertiser", "changelist"))
    page.check(f"input[name=_selected_action][value='{brand.pk}']")
    page.select_option("select[name=action]", "approve")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("1 advertiser(s) approved")

    # then: every decision was recorded by the service, with who made it
    blurry.refresh_from_db()
    sharp.refresh_from_db()
    brand.refresh_from_db()
    assert (blurry.moderation_status, blurry.moderation_reason) == ("REJECTED", "The logo is unreadable.")
    assert (sharp.moderation_status, sharp.moderated_by) == ("APPROVED", staff_user)
    assert (brand.approval, brand.approved_by) == ("APPROVED", staff_user)
    assert services.activation_problems(campaign) == []


def test_admin_lists_and_forms_show_money_the_platform_way(admin_client):
    """``$4.00`` in lists and ``4`` in inputs, never ``4.000000`` (issue 20: one money format everywhere)."""
    from ads.tests.factories import CampaignFactory

    campaign = CampaignFactory(max_bid=Decimal("4.000000"), daily_budget=Decimal("1250.500000"))
    listing = admin_client.get("/admin/ads/campaign/").content.decode()
    assert "$4.00" in listing and "$1,250.50" in listing
    assert "4.000000" not in listing and "1250.500000" not in listing
    form = admin_client.get(f"/admin/ads/campaign/{campaign.pk}/change/").content.decode()
    assert 'value="4"' in form and "4.000000" not in form
