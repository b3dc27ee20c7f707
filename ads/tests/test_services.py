from datetime import UTC, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from adplatform.core.redis import get_redis
from adplatform.core.serving import SERVING_VERSION_KEY
from ads import services
from ads.models import Campaign, Creative
from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_worker():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        yield


def _campaign_data(**overrides):
    now = timezone.now()
    return {"name": "Launch", "pricing": "CPM", "max_bid": "4.5", "total_budget": "250", "daily_budget": "50",
            "start_at": (now - timedelta(hours=1)).isoformat(), "end_at": (now + timedelta(days=10)).isoformat(),
            "pacing": "EVEN", "frequency_cap": {"count": 3, "period_seconds": 3600},
            "targeting": {"countries_included": ["us", "GB"], "devices": ["mobile"], "hours_utc": [18, 19, 18]},
            **overrides}  # fmt: skip


def test_campaign_create_starts_as_draft_with_normalised_targeting():
    campaign = services.campaign_create(advertiser=AdvertiserFactory(), data=_campaign_data(status="ACTIVE"))
    assert campaign.status == "DRAFT"
    assert campaign.max_bid == Decimal("4.5")
    assert campaign.frequency_cap == {"count": 3, "period_seconds": 3600}
    assert campaign.targeting == {"countries_included": ["GB", "US"], "devices": ["mobile"], "hours_utc": [18, 19]}


def test_campaign_create_reads_a_time_without_an_offset_as_utc():
    # given: times as a script sends them, without "Z" or "+00:00"
    start = (timezone.now() - timedelta(hours=1)).replace(tzinfo=None, microsecond=0)
    end = start + timedelta(days=10)

    campaign = services.campaign_create(
        advertiser=AdvertiserFactory(), data=_campaign_data(start_at=start.isoformat(), end_at=end.isoformat())
    )

    campaign.refresh_from_db()
    assert campaign.start_at == start.replace(tzinfo=UTC)
    assert campaign.end_at == end.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"total_budget": "0"}, "total_budget"),
        ({"total_budget": "-5"}, "total_budget"),
        ({"max_bid": "0"}, "max_bid"),
        ({"max_bid": "abc"}, "max_bid"),
        ({"max_bid": "NaN"}, "max_bid"),
        ({"max_bid": "1.1234567"}, "max_bid"),
        ({"daily_budget": "500"}, "daily_budget"),
        ({"end_at": (timezone.now() - timedelta(days=3)).isoformat()}, "end_at"),
        ({"start_at": "yesterday"}, "start_at"),
        ({"targeting": {"countries_included": ["XX"]}}, "targeting.countries_included"),
        ({"targeting": {"devices": ["toaster"]}}, "targeting.devices"),
        ({"targeting": {"hours_utc": [24]}}, "targeting.hours_utc"),
        ({"targeting": {"days_of_week": [7]}}, "targeting.days_of_week"),
        ({"targeting": {"colour": ["red"]}}, "targeting.colour"),
        ({"targeting": {"countries_included": ["US"], "countries_excluded": ["US"]}}, "targeting.countries_excluded"),
        ({"frequency_cap": {"count": 0, "period_seconds": 3600}}, "frequency_cap.count"),
        ({"pricing": "CPA"}, "pricing"),
        ({"name": "  "}, "name"),
    ],
)
def test_campaign_create_refuses_bad_input_and_saves_nothing(overrides, field):
    with pytest.raises(ValidationError) as exc:
        services.campaign_create(advertiser=AdvertiserFactory(), data=_campaign_data(**overrides))
    assert field in exc.value.message_dict, exc.value.message_dict
    assert not Campaign.objects.exists()


def test_empty_targeting_sent_as_a_roblox_empty_array_is_accepted():
    campaign = services.campaign_create(advertiser=AdvertiserFactory(), data=_campaign_data(targeting=[]))
    assert campaign.targeting == {}


def test_activation_needs_approval_budget_schedule_and_an_approved_creative():
    advertiser = AdvertiserFactory(approval="PENDING")
    campaign = services.campaign_create(advertiser=advertiser, data=_campaign_data())
    with pytest.raises(ValidationError) as exc:
        services.campaign_activate(campaign=campaign)
    problems = " ".join(exc.value.message_dict["status"])
    assert "not approved" in problems and "No approved creative" in problems

    services.advertiser_approve(advertiser=advertiser, by=None)
    CreativeFactory(campaign=campaign, moderation_status="PENDING")
    with pytest.raises(ValidationError):
        services.campaign_activate(campaign=campaign)
    CreativeFactory(campaign=campaign, moderation_status="APPROVED")
    assert services.campaign_activate(campaign=campaign).status == "ACTIVE"


def test_activation_refused_when_the_schedule_ended():
    campaign = CampaignFactory(
        end_at=timezone.now() - timedelta(minutes=1), start_at=timezone.now() - timedelta(days=2)
    )
    CreativeFactory(campaign=campaign)
    with pytest.raises(ValidationError) as exc:
        services.campaign_activate(campaign=campaign)
    assert "schedule has ended" in " ".join(exc.value.message_dict["status"])


def test_pause_resume_archive_and_forbidden_transitions(django_capture_on_commit_callbacks):
    campaign = CampaignFactory()
    CreativeFactory(campaign=campaign)
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_activate(campaign=campaign)
    assert int(get_redis().get(SERVING_VERSION_KEY)) >= 1
    assert services.campaign_pause(campaign=campaign).status == "PAUSED"
    assert services.campaign_resume(campaign=campaign).status == "ACTIVE"
    assert services.campaign_archive(campaign=campaign).status == "ARCHIVED"
    with pytest.raises(ValidationError):
        services.campaign_resume(campaign=campaign)
    with pytest.raises(ValidationError):
        services.campaign_update(campaign=campaign, data={"name": "edited after archive"})


def test_budget_cannot_drop_below_what_was_spent():
    campaign = CampaignFactory(spent=Decimal("40"))
    with pytest.raises(ValidationError) as exc:
        services.campaign_update(campaign=campaign, data={"total_budget": "30"})
    assert "total_budget" in exc.value.message_dict


def test_update_with_status_goes_through_the_transition_rules():
    campaign = CampaignFactory()
    with pytest.raises(ValidationError) as exc:
        services.campaign_update(campaign=campaign, data={"status": "ACTIVE"})
    assert "status" in exc.value.message_dict
    campaign.refresh_from_db()
    assert campaign.status == "DRAFT"


def _creative_data(**overrides):
    return {"name": "Banner", "kind": "DISPLAY", "roblox_asset_id": 123456, **overrides}


def test_creative_create_waits_for_review_and_links_the_asset():
    creative = services.creative_create(campaign=CampaignFactory(), data=_creative_data())
    assert creative.moderation_status == "PENDING"
    assert creative.asset.roblox_asset_id == 123456
    assert creative.click_action == {"type": "none"}


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"kind": "BANNER"}, "kind"),
        ({"roblox_asset_id": "abc"}, "roblox_asset_id"),
        ({"roblox_asset_id": -1}, "roblox_asset_id"),
        ({"kind": "NPC"}, "npc.model_asset_id"),
        ({"kind": "NPC", "npc": {"model_asset_id": 5, "dialogue": []}}, "npc.dialogue"),
        ({"kind": "MINIGAME"}, "minigame"),
        ({"kind": "MINIGAME", "minigame": {"template": "chess", "duration_seconds": 60, "reward": {"type": "none"}}},
         "minigame.template"),
        ({"kind": "MINIGAME", "minigame": {"template": "obby", "duration_seconds": 5, "reward": {"type": "none"}}},
         "minigame.duration_seconds"),
        ({"kind": "MINIGAME", "minigame": {"template": "quiz", "duration_seconds": 60, "reward": {"type": "none"}}},
         "minigame.questions"),
        ({"minigame": {"template": "obby"}}, "minigame"),
        ({"click_action": {"type": "teleport"}}, "click_action"),
        ({"click_action": {"type": "purchase", "product_type": "robux", "product_id": 1}}, "click_action"),
        ({"click_action": {"type": "explode"}}, "click_action"),
    ],
)  # fmt: skip
def test_creative_create_refuses_bad_content(overrides, field):
    with pytest.raises(ValidationError) as exc:
        services.creative_create(campaign=CampaignFactory(), data=_creative_data(**overrides))
    assert field in exc.value.message_dict, exc.value.message_dict
    assert not Creative.objects.exists()


def test_valid_npc_and_minigame_creatives():
    campaign = CampaignFactory()
    npc = services.creative_create(
        campaign=campaign,
        data=_creative_data(kind="NPC", npc={"model_asset_id": 777, "dialogue": ["Hi!", "", "Try our new toy"]}),
    )
    assert npc.npc_dialogue == ["Hi!", "Try our new toy"]
    quiz = {"template": "quiz", "duration_seconds": 60, "reward": {"type": "points", "amount": 50},
            "questions": [{"prompt": "2+2?", "choices": ["3", "4"], "answer": 1}]}  # fmt: skip
    game = services.creative_create(campaign=campaign, data=_creative_data(kind="MINIGAME", minigame=quiz))
    assert game.minigame["template"] == "quiz"


def test_editing_content_sends_an_approved_creative_back_to_review():
    creative = CreativeFactory(moderation_status="APPROVED")
    services.creative_update(creative=creative, data={"name": "Renamed"})
    creative.refresh_from_db()
    assert creative.moderation_status == "APPROVED"  # a name is not content
    services.creative_update(creative=creative, data={"roblox_asset_id": 999})
    creative.refresh_from_db()
    assert creative.moderation_status == "PENDING"


def test_only_staff_moderate_and_a_rejection_says_why(staff_user, advertiser):
    creative = CreativeFactory(moderation_status="PENDING")
    with pytest.raises(PermissionDenied):
        services.creative_moderate(creative=creative, status="APPROVED", by=advertiser)
    with pytest.raises(ValidationError):
        services.creative_moderate(creative=creative, status="REJECTED", reason="", by=staff_user)
    done = services.creative_moderate(creative=creative, status="REJECTED", reason="Blurry logo", by=staff_user)
    assert (done.moderation_status, done.moderation_reason, done.moderated_by) == (
        "REJECTED",
        "Blurry logo",
        staff_user,
    )


def test_advertiser_profile_is_created_pending(advertiser):
    profile = services.advertiser_for_user(user=advertiser)
    assert profile.approval == "PENDING"
    assert services.advertiser_for_user(user=advertiser) == profile
