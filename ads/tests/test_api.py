"""The advertisers' management API (``Authorization: Token``) and the staff moderation endpoint."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from adplatform.core.api.errors import ERROR_CODES
from ads.models import Advertiser, Campaign, CampaignStatus, Creative, ModerationStatus
from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory
from games.tests.factories import AssetFactory

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/api/v1/manage/campaigns/"
CAMPAIGN_FIELDS = {"id", "name", "status", "pricing", "max_bid", "total_budget", "daily_budget", "start_at", "end_at",
                   "pacing", "frequency_cap", "targeting", "roblox_campaign_id", "spent"}  # fmt: skip
CREATIVE_FIELDS = {"id", "kind", "roblox_asset_id", "npc", "minigame", "click_action", "moderation"}
OBBY = {"template": "obby", "duration_seconds": 60, "reward": {"type": "points", "amount": 50}}


@pytest.fixture(autouse=True)
def _no_worker():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        yield


def campaign_url(campaign_id: int, rest: str = "") -> str:
    return f"{CAMPAIGNS}{campaign_id}/{rest}"


def creative_url(creative_id: int, rest: str = "") -> str:
    return f"/api/v1/manage/creatives/{creative_id}/{rest}"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert code in ERROR_CODES
    return body["error"]


def campaign_body(**overrides) -> dict:
    now = timezone.now()
    return {"name": "Summer launch", "pricing": "CPM", "max_bid": "4.5", "total_budget": "250",
            "daily_budget": "50", "start_at": (now - timedelta(hours=1)).isoformat(),
            "end_at": (now + timedelta(days=10)).isoformat(), "pacing": "EVEN",
            "frequency_cap": {"count": 3, "period_seconds": 3600},
            "targeting": {"countries_included": ["us", "GB"], "devices": ["mobile"], "hours_utc": [18, 19]},
            "roblox_campaign_id": "rbx-123", **overrides}  # fmt: skip


@pytest.fixture
def brand(advertiser):
    """The advertiser profile of the ``advertiser`` account, not yet approved."""
    return AdvertiserFactory(user=advertiser, company="Toy Co", approval="PENDING")


@pytest.fixture
def client_a(token_client, advertiser):
    return token_client(advertiser)


@pytest.fixture
def campaign(brand):
    return CampaignFactory(advertiser=brand, name="Brand A launch")


@pytest.fixture
def creative(campaign):
    return CreativeFactory(campaign=campaign, moderation_status=ModerationStatus.PENDING)


@pytest.fixture
def rival(user_factory):
    """Advertiser B, approved, with a campaign of their own."""
    return AdvertiserFactory(user=user_factory(role="ADVERTISER"), company="Snack Co")


@pytest.fixture
def client_b(token_client, rival):
    return token_client(rival.user)


@pytest.fixture
def staff_client(token_client, staff_user):
    return token_client(staff_user)


# =========================================================================== campaigns: happy paths


def test_create_campaign_returns_a_draft_with_the_contract_fields(client_a, brand):
    response = client_a.post(CAMPAIGNS, campaign_body(status="ACTIVE"), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= CAMPAIGN_FIELDS
    assert body["status"] == "DRAFT"  # a new campaign is always a draft
    assert body["max_bid"] == "4.500000"
    assert body["total_budget"] == "250.000000"
    assert body["daily_budget"] == "50.000000"
    assert body["spent"] == "0.000000"
    assert body["frequency_cap"] == {"count": 3, "period_seconds": 3600}
    assert body["targeting"] == {"countries_included": ["GB", "US"], "devices": ["mobile"], "hours_utc": [18, 19]}
    assert body["roblox_campaign_id"] == "rbx-123"
    assert Campaign.objects.get(pk=body["id"]).advertiser == brand


def test_an_advertiser_without_a_profile_gets_one_on_first_campaign(client_a, advertiser):
    response = client_a.post(CAMPAIGNS, campaign_body(frequency_cap=None, daily_budget=None), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["frequency_cap"] is None
    assert response.json()["daily_budget"] is None
    profile = Advertiser.objects.get(user=advertiser)
    assert profile.approval == "PENDING"
    assert Campaign.objects.get().advertiser == profile


def test_list_is_paginated_and_holds_only_the_callers_campaigns(client_a, brand, rival):
    mine = [CampaignFactory(advertiser=brand) for _ in range(3)]
    CampaignFactory(advertiser=rival)

    first = client_a.get(CAMPAIGNS, {"limit": 2}).json()
    second = client_a.get(first["next"]).json()

    assert len(first["results"]) == 2
    assert second["next"] is None
    seen = [row["id"] for row in first["results"] + second["results"]]
    assert sorted(seen) == sorted(c.pk for c in mine)
    assert set(first["results"][0]) >= CAMPAIGN_FIELDS


def test_list_filters_by_status_and_search(client_a, brand):
    CampaignFactory(advertiser=brand, name="Winter sale")
    paused = CampaignFactory(advertiser=brand, name="Spring sale", status=CampaignStatus.PAUSED)

    by_status = client_a.get(CAMPAIGNS, {"status": "PAUSED"}).json()["results"]
    by_search = client_a.get(CAMPAIGNS, {"search": "spring"}).json()["results"]

    assert [row["id"] for row in by_status] == [paused.pk]
    assert [row["id"] for row in by_search] == [paused.pk]
    error = assert_error(client_a.get(CAMPAIGNS, {"status": "RUNNING"}), 400, "validation_error")
    assert "status" in error["details"]


def test_read_a_campaign(client_a, campaign):
    response = client_a.get(campaign_url(campaign.pk))

    assert response.status_code == 200
    assert response.json()["name"] == "Brand A launch"
    assert response.json()["spent"] == "0.000000"


def test_update_a_campaign(client_a, campaign):
    response = client_a.patch(
        campaign_url(campaign.pk),
        {"name": "Renamed", "max_bid": "6", "targeting": {"devices": ["desktop", "console"]}},
        format="json",
    )

    assert response.status_code == 200, response.content
    campaign.refresh_from_db()
    assert campaign.name == "Renamed"
    assert campaign.max_bid == Decimal("6")
    assert campaign.targeting == {"devices": ["console", "desktop"]}


def test_a_body_read_from_the_api_can_be_sent_back(client_a, campaign):
    body = client_a.get(campaign_url(campaign.pk)).json()

    response = client_a.patch(campaign_url(campaign.pk), {**body, "name": "Round trip"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Round trip"


def test_put_and_delete_are_not_allowed(client_a, campaign):
    assert_error(client_a.put(campaign_url(campaign.pk), campaign_body(), format="json"), 405, "method_not_allowed")
    assert_error(client_a.delete(campaign_url(campaign.pk)), 405, "method_not_allowed")
    assert Campaign.objects.filter(pk=campaign.pk).exists()


# =========================================================================== campaigns: bad input


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"total_budget": "0"}, "total_budget"),
        ({"total_budget": "-5"}, "total_budget"),
        ({"daily_budget": "0"}, "daily_budget"),
        ({"max_bid": "0"}, "max_bid"),
        ({"max_bid": -1}, "max_bid"),
        ({"max_bid": "lots"}, "max_bid"),
        ({"max_bid": "1.1234567"}, "max_bid"),
        ({"end_at": (timezone.now() - timedelta(days=3)).isoformat()}, "end_at"),
        ({"start_at": (timezone.now() + timedelta(days=20)).isoformat()}, "end_at"),
        ({"start_at": "yesterday"}, "start_at"),
        ({"targeting": {"countries_included": ["XX"]}}, "targeting.countries_included"),
        ({"targeting": {"countries_excluded": ["Narnia"]}}, "targeting.countries_excluded"),
        ({"targeting": {"devices": ["toaster"]}}, "targeting.devices"),
        ({"targeting": {"devices": "mobile"}}, "targeting.devices"),
        ({"targeting": {"hours_utc": [24]}}, "targeting.hours_utc"),
        ({"targeting": {"colour": ["red"]}}, "targeting.colour"),
        ({"targeting": "US"}, "targeting"),
        ({"frequency_cap": {"count": 0, "period_seconds": 3600}}, "frequency_cap.count"),
        ({"frequency_cap": {"count": "many", "period_seconds": 3600}}, "frequency_cap.count"),
        ({"frequency_cap": 3}, "frequency_cap"),
        ({"pricing": "CPA"}, "pricing"),
        ({"pacing": "SLOW"}, "pacing"),
        ({"name": ""}, "name"),
        ({"budget": "100"}, "budget"),
    ],
)
def test_create_refuses_bad_input_with_field_details_and_saves_nothing(client_a, brand, overrides, field):
    response = client_a.post(CAMPAIGNS, campaign_body(**overrides), format="json")

    error = assert_error(response, 400, "validation_error")
    assert field in error["details"], error["details"]
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("missing", ["name", "max_bid", "total_budget", "start_at", "end_at"])
def test_create_needs_the_required_fields(client_a, brand, missing):
    body = campaign_body()
    del body[missing]

    error = assert_error(client_a.post(CAMPAIGNS, body, format="json"), 400, "validation_error")

    assert missing in error["details"]
    assert not Campaign.objects.exists()


def test_create_refuses_a_body_that_is_not_an_object(client_a, brand):
    assert_error(client_a.post(CAMPAIGNS, [1, 2], format="json"), 400, "validation_error")
    assert_error(client_a.post(CAMPAIGNS, "{not json", content_type="application/json"), 400, "malformed_json")


def test_a_refused_update_changes_nothing(client_a, campaign):
    response = client_a.patch(
        campaign_url(campaign.pk), {"name": "Changed", "total_budget": "0", "end_at": "soon"}, format="json"
    )

    error = assert_error(response, 400, "validation_error")
    assert "end_at" in error["details"]
    campaign.refresh_from_db()
    assert campaign.name == "Brand A launch"


def test_a_refused_update_with_end_before_start_changes_nothing(client_a, campaign):
    response = client_a.patch(
        campaign_url(campaign.pk), {"name": "Changed", "end_at": (campaign.start_at - timedelta(hours=1)).isoformat()},
        format="json",
    )  # fmt: skip

    assert "end_at" in assert_error(response, 400, "validation_error")["details"]
    campaign.refresh_from_db()
    assert campaign.name == "Brand A launch"


# =========================================================================== status: activate, pause, resume


def test_activation_is_refused_until_the_advertiser_is_approved_and_a_creative_is(
    client_a, staff_client, brand, campaign, creative
):
    # given: a draft of a pending advertiser with a pending creative
    refused = client_a.patch(campaign_url(campaign.pk), {"status": "ACTIVE"}, format="json")
    problems = " ".join(assert_error(refused, 400, "validation_error")["details"]["status"])
    assert "not approved" in problems and "No approved creative" in problems

    # when: staff approve the advertiser, the creative is still pending
    from ads import services

    services.advertiser_approve(advertiser=brand, by=None)
    still_refused = client_a.patch(campaign_url(campaign.pk), {"status": "ACTIVE"}, format="json")
    assert "No approved creative" in " ".join(assert_error(still_refused, 400, "validation_error")["details"]["status"])
    campaign.refresh_from_db()
    assert campaign.status == "DRAFT"

    # then: once staff approve the creative, the campaign activates
    approved = staff_client.post(creative_url(creative.pk, "moderation/"), {"status": "APPROVED"}, format="json")
    assert approved.status_code == 200, approved.content
    accepted = client_a.patch(campaign_url(campaign.pk), {"status": "ACTIVE"}, format="json")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "ACTIVE"


def test_a_refused_activation_also_discards_the_other_changes(client_a, campaign):
    response = client_a.patch(campaign_url(campaign.pk), {"name": "Go live", "status": "ACTIVE"}, format="json")

    assert_error(response, 400, "validation_error")
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status) == ("Brand A launch", "DRAFT")


def test_pause_resume_and_archive(client_a, brand, campaign):
    brand.approval = "APPROVED"
    brand.save()
    CreativeFactory(campaign=campaign, moderation_status=ModerationStatus.APPROVED)
    assert client_a.patch(campaign_url(campaign.pk), {"status": "ACTIVE"}, format="json").json()["status"] == "ACTIVE"

    paused = client_a.patch(campaign_url(campaign.pk), {"status": "PAUSED"}, format="json")
    assert paused.status_code == 200 and paused.json()["status"] == "PAUSED"
    resumed = client_a.patch(campaign_url(campaign.pk), {"status": "ACTIVE"}, format="json")
    assert resumed.status_code == 200 and resumed.json()["status"] == "ACTIVE"
    archived = client_a.patch(campaign_url(campaign.pk), {"status": "ARCHIVED"}, format="json")
    assert archived.status_code == 200 and archived.json()["status"] == "ARCHIVED"

    refused = client_a.patch(campaign_url(campaign.pk), {"status": "ACTIVE"}, format="json")
    assert "status" in assert_error(refused, 400, "validation_error")["details"]
    campaign.refresh_from_db()
    assert campaign.status == "ARCHIVED"


def test_an_unknown_status_is_refused(client_a, campaign):
    response = client_a.patch(campaign_url(campaign.pk), {"status": "RUNNING"}, format="json")
    assert "status" in assert_error(response, 400, "validation_error")["details"]


# =========================================================================== creatives


def test_create_and_list_creatives_of_a_campaign(client_a, campaign):
    response = client_a.post(
        campaign_url(campaign.pk, "creatives/"),
        {"kind": "DISPLAY", "roblox_asset_id": 1818001, "click_action": {"type": "teleport", "place_id": 99}},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= CREATIVE_FIELDS
    assert body["moderation"]["status"] == "PENDING"
    assert body["moderation"]["reason"] == ""
    assert body["npc"] is None and body["minigame"] is None
    assert body["click_action"] == {"type": "teleport", "place_id": 99}
    assert body["name"] == "Display 1818001"
    listed = client_a.get(campaign_url(campaign.pk, "creatives/")).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]
    assert listed["next"] is None


def test_npc_and_minigame_creatives(client_a, campaign):
    npc = client_a.post(
        campaign_url(campaign.pk, "creatives/"),
        {"name": "Mascot", "kind": "NPC", "roblox_asset_id": 1818002,
         "npc": {"model_asset_id": 777, "dialogue": ["Hi!", "Try our new toy"]}},
        format="json",
    )  # fmt: skip
    minigame = client_a.post(
        campaign_url(campaign.pk, "creatives/"),
        {"name": "Obby", "kind": "MINIGAME", "roblox_asset_id": 1818003, "minigame": OBBY},
        format="json",
    )

    assert npc.status_code == 201, npc.content
    assert npc.json()["npc"] == {"model_asset_id": 777, "dialogue": ["Hi!", "Try our new toy"]}
    assert minigame.status_code == 201, minigame.content
    assert minigame.json()["minigame"] == OBBY


@pytest.mark.parametrize(
    "body,field",
    [
        ({"kind": "BANNER", "roblox_asset_id": 5}, "kind"),
        ({"kind": "DISPLAY"}, "roblox_asset_id"),
        ({"kind": "DISPLAY", "roblox_asset_id": -1}, "roblox_asset_id"),
        ({"kind": "DISPLAY", "roblox_asset_id": "abc"}, "roblox_asset_id"),
        ({"kind": "NPC", "roblox_asset_id": 5, "npc": {"dialogue": ["Hi"]}}, "npc.model_asset_id"),
        ({"kind": "NPC", "roblox_asset_id": 5, "npc": {"model_asset_id": 7, "dialogue": []}}, "npc.dialogue"),
        ({"kind": "NPC", "roblox_asset_id": 5, "npc": {"model_asset_id": 7, "dialogue": "Hi"}}, "npc.dialogue"),
        ({"kind": "MINIGAME", "roblox_asset_id": 5}, "minigame"),
        ({"kind": "MINIGAME", "roblox_asset_id": 5, "minigame": "obby"}, "minigame"),
        ({"kind": "MINIGAME", "roblox_asset_id": 5, "minigame": {**OBBY, "template": "chess"}}, "minigame.template"),
        ({"kind": "MINIGAME", "roblox_asset_id": 5, "minigame": {**OBBY, "duration_seconds": 5}},
         "minigame.duration_seconds"),
        ({"kind": "MINIGAME", "roblox_asset_id": 5, "minigame": {**OBBY, "reward": {"type": "cash"}}},
         "minigame.reward"),
        ({"kind": "MINIGAME", "roblox_asset_id": 5, "minigame": {**OBBY, "template": "quiz"}}, "minigame.questions"),
        ({"kind": "DISPLAY", "roblox_asset_id": 5, "minigame": OBBY}, "minigame"),
        ({"kind": "DISPLAY", "roblox_asset_id": 5, "click_action": {"type": "teleport"}}, "click_action"),
        ({"kind": "DISPLAY", "roblox_asset_id": 5, "click_action": {"type": "explode"}}, "click_action"),
        ({"kind": "DISPLAY", "roblox_asset_id": 5, "moderation": {"status": "APPROVED"}, "colour": "red"}, "colour"),
    ],
)  # fmt: skip
def test_create_creative_refuses_bad_input_and_saves_nothing(client_a, campaign, body, field):
    response = client_a.post(campaign_url(campaign.pk, "creatives/"), body, format="json")

    error = assert_error(response, 400, "validation_error")
    assert field in error["details"], error["details"]
    assert not Creative.objects.exists()


def test_a_creative_sent_with_moderation_stays_pending(client_a, campaign):
    response = client_a.post(
        campaign_url(campaign.pk, "creatives/"),
        {"roblox_asset_id": 5, "moderation": {"status": "APPROVED", "reason": ""}},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert Creative.objects.get().moderation_status == "PENDING"


def test_read_a_creative_with_its_thumbnail(client_a, creative):
    creative.asset = AssetFactory(roblox_asset_id=creative.roblox_asset_id, thumbnail_url="https://tr.rbxcdn.com/x.png")
    creative.save()

    body = client_a.get(creative_url(creative.pk)).json()

    assert body["id"] == creative.pk
    assert body["thumbnail_url"] == "https://tr.rbxcdn.com/x.png"
    assert body["campaign"] == creative.campaign_id


def test_changing_a_creatives_content_sends_it_back_to_review(client_a, campaign):
    creative = CreativeFactory(campaign=campaign, moderation_status=ModerationStatus.APPROVED)

    renamed = client_a.patch(creative_url(creative.pk), {"name": "New name"}, format="json")
    assert renamed.json()["moderation"]["status"] == "APPROVED"
    moved = client_a.patch(creative_url(creative.pk), {"roblox_asset_id": 999}, format="json")

    assert moved.status_code == 200, moved.content
    assert moved.json()["moderation"]["status"] == "PENDING"
    assert moved.json()["roblox_asset_id"] == 999


def test_a_refused_creative_update_changes_nothing(client_a, creative):
    response = client_a.patch(creative_url(creative.pk), {"name": "X", "kind": "MINIGAME"}, format="json")

    assert "minigame" in assert_error(response, 400, "validation_error")["details"]
    creative.refresh_from_db()
    assert creative.kind == "DISPLAY"
    assert creative.name.startswith("Banner")


# =========================================================================== isolation


ISOLATED_REQUESTS = [
    ("get", "campaign", ""),
    ("patch", "campaign", ""),
    ("get", "campaign", "creatives/"),
    ("post", "campaign", "creatives/"),
    ("get", "creative", ""),
    ("patch", "creative", ""),
    ("post", "creative", "moderation/"),
]
BODIES = {
    ("patch", "campaign", ""): {"name": "Taken over", "status": "PAUSED"},
    ("post", "campaign", "creatives/"): {"kind": "DISPLAY", "roblox_asset_id": 42},
    ("patch", "creative", ""): {"name": "Taken over"},
    ("post", "creative", "moderation/"): {"status": "APPROVED"},
}


def _isolated_url(kind: str, rest: str, campaign: Campaign, creative: Creative) -> str:
    return campaign_url(campaign.pk, rest) if kind == "campaign" else creative_url(creative.pk, rest)


@pytest.mark.parametrize("method,kind,rest", ISOLATED_REQUESTS)
def test_another_advertiser_gets_404_everywhere_and_changes_nothing(client_b, campaign, creative, method, kind, rest):
    url = _isolated_url(kind, rest, campaign, creative)

    response = getattr(client_b, method)(url, BODIES.get((method, kind, rest), {}), format="json")

    assert_error(response, 404, "not_found")
    campaign.refresh_from_db()
    creative.refresh_from_db()
    assert (campaign.name, campaign.status) == ("Brand A launch", "DRAFT")
    assert (creative.name.startswith("Banner"), creative.moderation_status) == (True, "PENDING")
    assert Creative.objects.count() == 1


@pytest.mark.parametrize("method,kind,rest", ISOLATED_REQUESTS)
def test_a_game_owner_gets_404_on_an_advertisers_objects(token_client, owner, campaign, creative, method, kind, rest):
    url = _isolated_url(kind, rest, campaign, creative)

    response = getattr(token_client(owner), method)(url, BODIES.get((method, kind, rest), {}), format="json")

    assert_error(response, 404, "not_found")


def test_another_advertiser_does_not_see_the_campaigns_in_lists(client_b, rival, campaign):
    own = CampaignFactory(advertiser=rival)

    rows = client_b.get(CAMPAIGNS).json()["results"]

    assert [row["id"] for row in rows] == [own.pk]


def test_an_advertiser_cannot_create_for_another_advertiser(client_a, brand, rival):
    response = client_a.post(CAMPAIGNS, campaign_body(advertiser=rival.pk), format="json")

    assert "advertiser" in assert_error(response, 400, "validation_error")["details"]
    assert not Campaign.objects.exists()


def test_game_owners_cannot_create_campaigns_and_see_none(token_client, owner, campaign):
    client = token_client(owner)

    assert_error(client.post(CAMPAIGNS, campaign_body(), format="json"), 403, "permission_denied")
    assert client.get(CAMPAIGNS).json()["results"] == []
    assert not Advertiser.objects.filter(user=owner).exists()
    assert Campaign.objects.count() == 1


def test_the_management_api_needs_credentials(api_client, campaign):
    assert_error(api_client.get(CAMPAIGNS), 401, "not_authenticated")
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api_client.get(campaign_url(campaign.pk)).status_code == 401


def test_staff_see_and_change_every_campaign(staff_client, campaign, rival):
    other = CampaignFactory(advertiser=rival)

    ids = {row["id"] for row in staff_client.get(CAMPAIGNS).json()["results"]}
    response = staff_client.patch(campaign_url(other.pk), {"name": "Fixed by staff"}, format="json")

    assert ids == {campaign.pk, other.pk}
    assert response.status_code == 200
    assert staff_client.get(campaign_url(campaign.pk, "creatives/")).status_code == 200


def test_staff_create_campaigns_for_a_named_advertiser(staff_client, staff_user, rival):
    missing = staff_client.post(CAMPAIGNS, campaign_body(), format="json")
    created = staff_client.post(CAMPAIGNS, campaign_body(advertiser=rival.pk), format="json")

    assert "advertiser" in assert_error(missing, 400, "validation_error")["details"]
    assert created.status_code == 201, created.content
    assert Campaign.objects.get().advertiser == rival
    assert not Advertiser.objects.filter(user=staff_user).exists()


# =========================================================================== moderation


def test_staff_approve_a_creative(staff_client, staff_user, creative):
    response = staff_client.post(creative_url(creative.pk, "moderation/"), {"status": "APPROVED"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["moderation"]["status"] == "APPROVED"
    creative.refresh_from_db()
    assert creative.moderated_by == staff_user
    assert creative.moderated_at is not None


def test_a_rejection_needs_a_reason_which_the_advertiser_then_sees(staff_client, client_a, creative):
    without = staff_client.post(creative_url(creative.pk, "moderation/"), {"status": "REJECTED"}, format="json")
    blank = staff_client.post(
        creative_url(creative.pk, "moderation/"), {"status": "REJECTED", "reason": "   "}, format="json"
    )
    assert "reason" in assert_error(without, 400, "validation_error")["details"]
    assert "reason" in assert_error(blank, 400, "validation_error")["details"]
    creative.refresh_from_db()
    assert creative.moderation_status == "PENDING"

    rejected = staff_client.post(
        creative_url(creative.pk, "moderation/"), {"status": "REJECTED", "reason": "Logo is blurry"}, format="json"
    )

    assert rejected.status_code == 200, rejected.content
    seen = client_a.get(creative_url(creative.pk)).json()["moderation"]
    assert (seen["status"], seen["reason"]) == ("REJECTED", "Logo is blurry")


@pytest.mark.parametrize("status", ["PENDING", "MAYBE", ""])
def test_moderation_takes_approved_or_rejected_only(staff_client, creative, status):
    response = staff_client.post(creative_url(creative.pk, "moderation/"), {"status": status}, format="json")
    assert "status" in assert_error(response, 400, "validation_error")["details"]


def test_an_advertiser_cannot_moderate_their_own_creative(client_a, creative):
    response = client_a.post(creative_url(creative.pk, "moderation/"), {"status": "APPROVED"}, format="json")

    assert_error(response, 403, "permission_denied")
    creative.refresh_from_db()
    assert creative.moderation_status == "PENDING"


def test_moderation_refuses_advertisers_and_owners_before_reading_the_body(client_a, token_client, owner, creative):
    assert_error(client_a.post(creative_url(creative.pk, "moderation/"), {}, format="json"), 403, "permission_denied")
    assert_error(
        token_client(owner).post(creative_url(creative.pk, "moderation/"), {"status": "APPROVED"}, format="json"),
        404,
        "not_found",
    )


def test_moderating_an_unknown_creative_is_404(staff_client):
    assert_error(staff_client.post(creative_url(999999, "moderation/"), {"status": "APPROVED"}), 404, "not_found")


# =========================================================================== OpenAPI


def test_schema_documents_the_campaign_api(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    expected = {
        "/api/v1/manage/campaigns/": {"get", "post"},
        "/api/v1/manage/campaigns/{id}/": {"get", "patch"},
        "/api/v1/manage/campaigns/{campaign_pk}/creatives/": {"get", "post"},
        "/api/v1/manage/creatives/{id}/": {"get", "patch"},
        "/api/v1/manage/creatives/{id}/moderation/": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    components = schema["components"]["schemas"]
    read = paths["/api/v1/manage/campaigns/{id}/"]["get"]["responses"]["200"]["content"]["application/json"]
    campaign_component = read["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(components[campaign_component]["properties"]) >= CAMPAIGN_FIELDS
    created = paths["/api/v1/manage/campaigns/{campaign_pk}/creatives/"]["post"]["responses"]["201"]
    creative_component = created["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(components[creative_component]["properties"]) >= CREATIVE_FIELDS
