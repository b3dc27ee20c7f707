"""The advertiser console's pages, through Django's test client."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ads.models import Advertiser, ApprovalState, Campaign, CampaignStatus, Creative, ModerationStatus
from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory
from games.models import Asset
from games.tests.factories import AssetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def asset_sync_delay():
    with mock.patch("games.tasks.asset_sync.delay") as delay:
        yield delay


@pytest.fixture
def profile(advertiser):
    return AdvertiserFactory(user=advertiser, company="Fizz Co", category="food")


@pytest.fixture
def adv_client(client, advertiser, profile):
    client.force_login(advertiser)
    return client


@pytest.fixture
def campaign(profile):
    return CampaignFactory(advertiser=profile, name="Summer push", max_bid=Decimal("4.5"))


@pytest.fixture
def creative(campaign):
    return CreativeFactory(campaign=campaign, name="Billboard", roblox_asset_id=1818)


def local(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def campaign_form(**overrides) -> dict:
    now = timezone.now()
    data = {
        "name": "Launch",
        "pricing": "CPM",
        "max_bid": "4.50",
        "total_budget": "250",
        "daily_budget": "50",
        "start_at": local(now),
        "end_at": local(now + timedelta(days=10)),
        "pacing": "EVEN",
        "frequency_cap_count": "3",
        "frequency_cap_period": "1",
        "frequency_cap_unit": "86400",
        "roblox_campaign_id": "rbx-123",
        "countries_included": ["US", "GB"],
        "countries_excluded": [],
        "devices": ["mobile", "tablet"],
        "container_types": ["DISPLAY"],
        "segments": "vip, new-players",
        "days_of_week": ["5", "6"],
        "hours_utc": ["18", "19", "20"],
        "games_included": "12, 7",
        "games_excluded": "",
    }
    data.update(overrides)
    return data


def creative_form(**overrides) -> dict:
    data = {
        "name": "Poster",
        "kind": "DISPLAY",
        "roblox_asset_id": "424242",
        "npc_model_asset_id": "",
        "npc_dialogue": "",
        "minigame_template": "",
        "minigame_duration": "60",
        "reward_type": "none",
        "reward_amount": "",
        "reward_badge_id": "",
        "branding_color": "",
        "branding_logo_asset_id": "",
        "questions": "",
        "click_type": "none",
        "teleport_place_id": "",
        "product_type": "gamepass",
        "product_id": "",
    }
    data.update(overrides)
    return data


QUIZ = [{"prompt": "Which drink is ours?", "choices": ["Fizz", "Pop"], "answer": 0}]


# --------------------------------------------------------------------------- campaign list and profile


def test_list_shows_own_campaigns_with_status_budget_schedule_and_creatives(adv_client, campaign, creative):
    # given: some spend, a pending creative, and another advertiser's campaign
    Campaign.objects.filter(pk=campaign.pk).update(spent=Decimal("25"))
    CreativeFactory(campaign=campaign, moderation_status=ModerationStatus.PENDING)
    CampaignFactory(name="Someone else's")

    response = adv_client.get(reverse("ads:campaign-list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Summer push" in html
    assert "Someone else" not in html
    assert "$25.00 of $100.00 spent (25%)" in html
    assert '<progress class="progress"' in html
    assert "1 approved / 2" in html
    assert campaign.start_at.strftime("%Y-%m-%d") in html
    assert ">Draft<" in html
    assert "waiting for approval" not in html
    assert 'href="/campaigns/"' in html  # the navigation


def test_list_creates_a_pending_profile_and_shows_the_banner_and_empty_state(client, advertiser):
    client.force_login(advertiser)

    response = client.get(reverse("ads:campaign-list"))

    assert response.status_code == 200
    assert Advertiser.objects.get(user=advertiser).approval == ApprovalState.PENDING
    assert "Your advertiser profile is waiting for approval." in response.content.decode()
    assert "Start your first campaign" in response.content.decode()


def test_list_shows_why_a_profile_was_rejected(adv_client, profile):
    Advertiser.objects.filter(pk=profile.pk).update(approval=ApprovalState.REJECTED, approval_note="Unknown brand")

    response = adv_client.get(reverse("ads:campaign-list"))

    assert "was not approved" in response.content.decode()
    assert "Unknown brand" in response.content.decode()


def test_list_search_and_status_filter(adv_client, profile):
    CampaignFactory(advertiser=profile, name="Winter sale", status=CampaignStatus.PAUSED)
    CampaignFactory(advertiser=profile, name="Winter teaser")
    CampaignFactory(advertiser=profile, name="Spring")

    by_name = adv_client.get(reverse("ads:campaign-list"), {"q": "winter"})
    by_both = adv_client.get(reverse("ads:campaign-list"), {"q": "winter", "status": "PAUSED"})
    nothing = adv_client.get(reverse("ads:campaign-list"), {"q": "autumn"})

    assert [c.name for c in by_name.context["page"]] == ["Winter teaser", "Winter sale"]
    assert [c.name for c in by_both.context["page"]] == ["Winter sale"]
    assert "No campaign matches these filters." in nothing.content.decode()


def test_list_ignores_an_unknown_status_filter(adv_client, campaign):
    response = adv_client.get(reverse("ads:campaign-list"), {"status": "BOGUS"})
    assert [c.name for c in response.context["page"]] == ["Summer push"]


def test_list_paginates_and_keeps_the_filters(adv_client, profile):
    for n in range(23):
        CampaignFactory(advertiser=profile, name=f"Push {n}")

    first = adv_client.get(reverse("ads:campaign-list"), {"q": "push"})
    second = adv_client.get(reverse("ads:campaign-list"), {"q": "push", "page": 2})

    assert len(first.context["page"].object_list) == 20
    assert "?q=push&amp;page=2" in first.content.decode()
    assert len(second.context["page"].object_list) == 3


def test_profile_page_saves_company_and_category(adv_client, profile):
    page = adv_client.get(reverse("ads:profile"))
    assert page.status_code == 200
    assert 'value="Fizz Co"' in page.content.decode()

    response = adv_client.post(reverse("ads:profile"), {"company": "Fizz Drinks", "category": "toys"})

    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.company, profile.category) == ("Fizz Drinks", "toys")


def test_profile_page_refuses_an_empty_company(adv_client, profile):
    response = adv_client.post(reverse("ads:profile"), {"company": "  ", "category": "toys"})

    assert response.status_code == 200
    assert "company" in response.context["form"].errors
    profile.refresh_from_db()
    assert profile.company == "Fizz Co"


# --------------------------------------------------------------------------- create and edit campaigns


def test_create_page_offers_countries_devices_and_the_hour_grid(adv_client):
    response = adv_client.get(reverse("ads:campaign-create"))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<option value="US">United States (US)</option>' in html
    assert 'name="devices" value="mobile"' in html
    assert html.count('name="hours_utc"') == 24
    assert html.count('name="days_of_week"') == 7
    assert 'type="datetime-local"' in html
    assert "js/ads.js" in html


def test_create_campaign_with_targeting(adv_client, profile):
    response = adv_client.post(reverse("ads:campaign-create"), campaign_form())

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("ads:campaign-detail", args=[campaign.pk])
    assert campaign.advertiser == profile
    assert campaign.status == CampaignStatus.DRAFT
    assert (campaign.max_bid, campaign.total_budget, campaign.daily_budget) == (Decimal("4.5"), 250, 50)
    assert campaign.frequency_cap == {"count": 3, "period_seconds": 86400}
    assert campaign.roblox_campaign_id == "rbx-123"
    assert campaign.targeting == {
        "countries_included": ["GB", "US"],
        "devices": ["mobile", "tablet"],
        "container_types": ["DISPLAY"],
        "segments": ["new-players", "vip"],
        "days_of_week": [5, 6],
        "hours_utc": [18, 19, 20],
        "games_included": [7, 12],
    }


def test_create_campaign_without_optional_parts(adv_client):
    data = campaign_form(daily_budget="", frequency_cap_count="", countries_included=[], devices=[],
                         container_types=[], segments="", days_of_week=[], hours_utc=[], games_included="")  # fmt: skip
    adv_client.post(reverse("ads:campaign-create"), data)

    campaign = Campaign.objects.get()
    assert campaign.daily_budget is None
    assert campaign.frequency_cap is None
    assert campaign.targeting == {}


def test_start_and_end_are_read_as_utc(adv_client):
    adv_client.post(
        reverse("ads:campaign-create"), campaign_form(start_at="2031-03-01T09:30", end_at="2031-04-01T18:00")
    )

    campaign = Campaign.objects.get()
    assert campaign.start_at.isoformat() == "2031-03-01T09:30:00+00:00"
    assert campaign.end_at.isoformat() == "2031-04-01T18:00:00+00:00"


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"total_budget": "0"}, "total_budget", "Must be more than zero."),
        ({"total_budget": "-5"}, "total_budget", "Must be more than zero."),
        ({"total_budget": "lots"}, "total_budget", "Enter a number."),
        ({"max_bid": "0"}, "max_bid", "Must be more than zero."),
        ({"max_bid": "-1"}, "max_bid", "Must be more than zero."),
        ({"daily_budget": "0"}, "daily_budget", "Must be more than zero."),
        ({"daily_budget": "900"}, "daily_budget", "cannot exceed the total budget"),
        (
            {"start_at": "2031-03-02T00:00", "end_at": "2031-03-01T00:00"},
            "end_at",
            "The end must come after the start.",
        ),
        ({"start_at": "2020-01-01T00:00", "end_at": "2020-02-01T00:00"}, "end_at", "already in the past"),
        ({"start_at": "soon"}, "start_at", "Enter a valid date/time."),
        ({"countries_included": ["XX"]}, "countries_included", "Select a valid choice. XX"),
        ({"countries_excluded": ["US"]}, "countries_excluded", "Both included and excluded: US"),
        ({"devices": ["toaster"]}, "devices", "Select a valid choice."),
        ({"hours_utc": ["24"]}, "hours_utc", "Select a valid choice."),
        ({"segments": "VIP Players!"}, "segments", "Segments are short lower-case names"),
        ({"games_included": "12, abc"}, "games_included", "“abc” is not a game id"),
        ({"games_included": "5", "games_excluded": "5"}, "games_excluded", "Both included and excluded: 5"),
        ({"frequency_cap_count": "3", "frequency_cap_period": ""}, "frequency_cap_period", "over how long"),
        ({"frequency_cap_period": "10", "frequency_cap_unit": "1"}, "frequency_cap_period", "60 to"),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_create_campaign_shows_field_errors_and_saves_nothing(adv_client, overrides, field, message):
    response = adv_client.post(reverse("ads:campaign-create"), campaign_form(**overrides))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert message in " ".join(response.context["form"].errors[field])
    assert message.replace("“", "&ldquo;") in response.content.decode() or message in response.content.decode()
    assert 'class="field field-invalid' in response.content.decode()
    assert not Campaign.objects.exists()


def test_edit_page_shows_the_saved_settings(adv_client, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(
        targeting={"countries_included": ["FR"], "hours_utc": [7], "games_excluded": [3, 4]},
        frequency_cap_count=2,
        frequency_cap_period_seconds=7200,
    )

    response = adv_client.get(reverse("ads:campaign-edit", args=[campaign.pk]))

    html = response.content.decode()
    assert '<option value="FR" selected>France (FR)</option>' in html
    assert 'name="hours_utc" value="7" data-grid="hours_utc" id="id_hours_utc_7" checked' in html
    # the game picker ticks the excluded games (unknown ids still listed, so saving keeps them)
    assert 'name="games_excluded" value="3" id="id_games_excluded_0" checked' in html
    assert 'name="games_excluded" value="4" id="id_games_excluded_1" checked' in html
    assert 'name="max_bid" value="4.5"' in html
    assert 'name="frequency_cap_period" value="2"' in html
    assert '<option value="3600" selected>hours</option>' in html


def test_edit_campaign_saves(adv_client, campaign):
    response = adv_client.post(
        reverse("ads:campaign-edit", args=[campaign.pk]), campaign_form(name="Renamed", countries_included=["DE"])
    )

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Renamed"
    assert campaign.targeting["countries_included"] == ["DE"]


def test_edit_campaign_with_bad_input_changes_nothing(adv_client, campaign):
    response = adv_client.post(
        reverse("ads:campaign-edit", args=[campaign.pk]), campaign_form(name="Renamed", max_bid="0")
    )

    assert response.status_code == 200
    assert "max_bid" in response.context["form"].errors
    campaign.refresh_from_db()
    assert (campaign.name, campaign.max_bid) == ("Summer push", Decimal("4.5"))


def test_an_archived_campaign_cannot_be_edited(adv_client, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ARCHIVED)

    response = adv_client.post(reverse("ads:campaign-edit", args=[campaign.pk]), campaign_form(name="Renamed"))

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Summer push"


# --------------------------------------------------------------------------- campaign page and status


def test_campaign_page_shows_settings_targeting_and_creatives(adv_client, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(
        targeting={"countries_included": ["US"], "devices": ["mobile"], "days_of_week": [5], "hours_utc": [18]},
        frequency_cap_count=3,
        frequency_cap_period_seconds=86400,
    )
    with_thumb = CreativeFactory(
        campaign=campaign,
        name="With thumb",
        asset=AssetFactory(thumbnail_url="https://tr.rbxcdn.com/abc/420/420/Image/Png"),
    )
    rejected = CreativeFactory(
        campaign=campaign, name="Rejected one", moderation_status=ModerationStatus.REJECTED,
        moderation_reason="Logo too small", kind="NPC", npc_dialogue=["Hi!", "Try Fizz"], npc_model_asset_id=9,
    )  # fmt: skip

    response = adv_client.get(reverse("ads:campaign-detail", args=[campaign.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "United States (US)" in html
    assert "Saturday" in html and "18:00" in html
    assert "3 per player per day" in html
    assert 'src="https://tr.rbxcdn.com/abc/420/420/Image/Png"' in html
    assert "img/creative-placeholder" in html  # the creative without a Roblox thumbnail
    assert f'id="creative-{with_thumb.pk}"' in html and f'id="creative-{rejected.pk}"' in html
    assert "Rejected" in html and "Logo too small" in html
    assert "2 lines" in html
    assert "Pending review" not in html


def test_campaign_page_lists_activation_problems(client, user_factory):
    user = user_factory(role="ADVERTISER")
    pending = AdvertiserFactory(user=user, approval=ApprovalState.PENDING)
    campaign = CampaignFactory(advertiser=pending)
    client.force_login(user)

    response = client.get(reverse("ads:campaign-detail", args=[campaign.pk]))

    html = response.content.decode()
    assert "Before this campaign can go live:" in html
    assert "The advertiser account is not approved yet." in html
    assert "No approved creative yet" in html


def test_activation_is_refused_with_the_reasons(adv_client, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(end_at=timezone.now() + timedelta(minutes=1))
    CreativeFactory(campaign=campaign, moderation_status=ModerationStatus.PENDING)

    response = adv_client.post(reverse("ads:campaign-activate", args=[campaign.pk]), follow=True)

    html = response.content.decode()
    assert "“Summer push” was not activated: No approved creative yet" in html
    assert list(response.context["problems"]) == ["No approved creative yet; creatives are reviewed by staff."]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_activate_pause_resume_and_archive_through_the_page(adv_client, campaign, creative):
    detail = reverse("ads:campaign-detail", args=[campaign.pk])
    assert "Ready to go live" in adv_client.get(detail).content.decode()

    for action, status in (("activate", "ACTIVE"), ("pause", "PAUSED"), ("resume", "ACTIVE"), ("archive", "ARCHIVED")):
        response = adv_client.post(reverse(f"ads:campaign-{action}", args=[campaign.pk]))
        assert response.status_code == 302
        assert response["Location"] == detail
        campaign.refresh_from_db()
        assert campaign.status == status, action

    page = adv_client.get(detail).content.decode()
    assert "is archived" in page
    assert "Edit campaign" not in page and "Add creative" not in page


def test_each_state_offers_its_buttons(adv_client, campaign, creative):
    detail = reverse("ads:campaign-detail", args=[campaign.pk])
    draft = adv_client.get(detail).content.decode()
    assert reverse("ads:campaign-activate", args=[campaign.pk]) in draft
    assert 'data-confirm="Archive' in draft

    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ACTIVE)
    active = adv_client.get(detail).content.decode()
    assert reverse("ads:campaign-pause", args=[campaign.pk]) in active
    assert reverse("ads:campaign-activate", args=[campaign.pk]) not in active

    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.PAUSED)
    paused = adv_client.get(detail).content.decode()
    assert reverse("ads:campaign-resume", args=[campaign.pk]) in paused


def test_a_refused_transition_says_why(adv_client, campaign):
    response = adv_client.post(reverse("ads:campaign-pause", args=[campaign.pk]), follow=True)

    assert "was not paused: A draft campaign cannot become paused." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_status_changes_need_post(adv_client, campaign):
    assert adv_client.get(reverse("ads:campaign-archive", args=[campaign.pk])).status_code == 405
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


# --------------------------------------------------------------------------- creatives


def test_creative_page_renders_every_kind_of_field(adv_client, campaign):
    response = adv_client.get(reverse("ads:creative-create", args=[campaign.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    for name in ("roblox_asset_id", "npc_model_asset_id", "npc_dialogue", "minigame_template", "reward_type",
                 "branding_color", "questions", "click_type", "teleport_place_id", "product_id"):  # fmt: skip
        assert f'name="{name}"' in html
    assert 'data-show-when="kind=NPC"' in html
    assert '"answer": 0' in html  # the quiz schema is shown


def test_add_a_display_creative(adv_client, campaign, asset_sync_delay, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = adv_client.post(reverse("ads:creative-create", args=[campaign.pk]), creative_form())

    assert response.status_code == 302
    assert response["Location"] == reverse("ads:campaign-detail", args=[campaign.pk]) + "#creatives"
    creative = Creative.objects.get()
    assert (creative.kind, creative.roblox_asset_id, creative.moderation_status) == ("DISPLAY", 424242, "PENDING")
    assert creative.asset.roblox_asset_id == 424242
    assert creative.click_action == {"type": "none"}
    assert creative.minigame is None and creative.npc_dialogue == []
    asset_sync_delay.assert_called_once_with([424242])


def test_add_an_npc_creative_with_dialogue_and_a_teleport(adv_client, campaign):
    data = creative_form(kind="NPC", npc_model_asset_id="777", npc_dialogue="Hello there!\r\n\r\nTry Fizz today.\n",
                         click_type="teleport", teleport_place_id="920587237")  # fmt: skip
    adv_client.post(reverse("ads:creative-create", args=[campaign.pk]), data)

    creative = Creative.objects.get()
    assert creative.npc_model_asset_id == 777
    assert creative.npc_dialogue == ["Hello there!", "Try Fizz today."]
    assert creative.click_action == {"type": "teleport", "place_id": 920587237}


def test_add_a_quiz_minigame_with_branding_and_a_purchase(adv_client, campaign):
    data = creative_form(kind="MINIGAME", minigame_template="quiz", minigame_duration="90", reward_type="badge",
                         reward_badge_id="2124", branding_color="#FF8800", branding_logo_asset_id="55",
                         questions=json.dumps(QUIZ), click_type="purchase", product_type="developer_product",
                         product_id="31337")  # fmt: skip
    response = adv_client.post(reverse("ads:creative-create", args=[campaign.pk]), data)

    assert response.status_code == 302, response.context["form"].errors
    creative = Creative.objects.get()
    assert creative.minigame == {
        "template": "quiz",
        "duration_seconds": 90,
        "reward": {"type": "badge", "badge_id": 2124},
        "branding": {"primary_color": "#FF8800", "logo_asset_id": 55},
        "questions": QUIZ,
    }
    assert creative.click_action == {"type": "purchase", "product_type": "developer_product", "product_id": 31337}


def test_fields_of_other_kinds_are_left_out(adv_client, campaign):
    data = creative_form(kind="DISPLAY", npc_model_asset_id="777", npc_dialogue="Hi", minigame_template="obby")
    adv_client.post(reverse("ads:creative-create", args=[campaign.pk]), data)

    creative = Creative.objects.get()
    assert (creative.npc_model_asset_id, creative.npc_dialogue, creative.minigame) == (None, [], None)


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"minigame_template": ""}, "minigame_template", "One of obby, race, collect, quiz."),
        ({"minigame_duration": "5"}, "minigame_duration", "from 10 to 600"),
        ({"minigame_duration": "soon"}, "minigame_duration", "Enter a whole number."),
        ({"questions": "[{not json"}, "questions", "This is not valid JSON"),
        ({"questions": ""}, "questions", "A quiz has 1 to 20 questions."),
        ({"questions": '[{"prompt": "Q?", "choices": ["only one"], "answer": 0}]'}, "questions", "Question 1 needs"),
        ({"questions": '{"prompt": "Q?"}'}, "questions", "A quiz has 1 to 20 questions."),
        ({"reward_type": "points", "reward_amount": "0"}, "reward_amount", "amount from 1 to 100000"),
        ({"reward_type": "badge", "reward_badge_id": ""}, "reward_badge_id", "needs a positive badge_id"),
        ({"branding_color": "orange"}, "branding_color", "#RRGGBB"),
    ],
)
def test_a_malformed_minigame_shows_field_errors_and_saves_nothing(adv_client, campaign, overrides, field, message):
    data = creative_form(kind="MINIGAME", minigame_template="quiz", questions=json.dumps(QUIZ))
    data.update(overrides)

    response = adv_client.post(reverse("ads:creative-create", args=[campaign.pk]), data)

    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert message in " ".join(response.context["form"].errors[field])
    assert not Creative.objects.exists()
    assert not Asset.objects.exists()


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"roblox_asset_id": ""}, "roblox_asset_id"),
        ({"roblox_asset_id": "-3"}, "roblox_asset_id"),
        ({"roblox_asset_id": "abc"}, "roblox_asset_id"),
        ({"kind": "POPUP"}, "kind"),
        ({"kind": "NPC", "npc_model_asset_id": "", "npc_dialogue": "Hi"}, "npc_model_asset_id"),
        ({"kind": "NPC", "npc_model_asset_id": "9", "npc_dialogue": " \n "}, "npc_dialogue"),
        ({"kind": "NPC", "npc_model_asset_id": "9", "npc_dialogue": "x" * 201}, "npc_dialogue"),
        ({"click_type": "teleport", "teleport_place_id": ""}, "teleport_place_id"),
        ({"click_type": "purchase", "product_id": ""}, "product_id"),
        ({"click_type": "purchase", "product_type": "robux", "product_id": "5"}, "product_type"),
    ],
)
def test_a_bad_creative_shows_field_errors_and_saves_nothing(adv_client, campaign, overrides, field):
    response = adv_client.post(reverse("ads:creative-create", args=[campaign.pk]), creative_form(**overrides))

    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not Creative.objects.exists()


def test_edit_page_warns_that_content_changes_go_back_to_review(adv_client, campaign, creative):
    response = adv_client.get(reverse("ads:creative-edit", args=[campaign.pk, creative.pk]))

    html = response.content.decode()
    assert "sends this creative back to review" in html
    assert 'name="roblox_asset_id" value="1818"' in html


def test_changing_content_sends_an_approved_creative_back_to_review(adv_client, campaign, creative):
    response = adv_client.post(
        reverse("ads:creative-edit", args=[campaign.pk, creative.pk]),
        creative_form(name="Billboard", roblox_asset_id="1919"),
        follow=True,
    )

    creative.refresh_from_db()
    assert creative.roblox_asset_id == 1919
    assert creative.moderation_status == ModerationStatus.PENDING
    assert "sent back to review" in response.content.decode()


def test_renaming_keeps_the_approval(adv_client, campaign, creative):
    adv_client.post(
        reverse("ads:creative-edit", args=[campaign.pk, creative.pk]),
        creative_form(name="Better name", roblox_asset_id="1818"),
    )

    creative.refresh_from_db()
    assert creative.name == "Better name"
    assert creative.moderation_status == ModerationStatus.APPROVED


def test_saving_an_unchanged_minigame_keeps_the_approval(adv_client, campaign):
    game = {"template": "quiz", "duration_seconds": 45, "reward": {"type": "points", "amount": 50},
            "branding": {"primary_color": "#112233"}, "questions": QUIZ}  # fmt: skip
    creative = CreativeFactory(campaign=campaign, kind="MINIGAME", minigame=game,
                               click_action={"type": "teleport", "place_id": 5})  # fmt: skip
    url = reverse("ads:creative-edit", args=[campaign.pk, creative.pk])
    form = adv_client.get(url).context["form"]
    data = {name: form[name].value() if form[name].value() is not None else "" for name in form.fields}

    response = adv_client.post(url, data)

    assert response.status_code == 302, response.context["form"].errors
    creative.refresh_from_db()
    assert creative.minigame == game
    assert creative.moderation_status == ModerationStatus.APPROVED


def test_editing_a_creative_with_bad_input_changes_nothing(adv_client, campaign, creative):
    response = adv_client.post(
        reverse("ads:creative-edit", args=[campaign.pk, creative.pk]),
        creative_form(kind="MINIGAME", minigame_template="race", minigame_duration="9000"),
    )

    assert "minigame_duration" in response.context["form"].errors
    creative.refresh_from_db()
    assert (creative.kind, creative.moderation_status) == ("DISPLAY", ModerationStatus.APPROVED)


def test_an_archived_campaign_takes_no_creatives(adv_client, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ARCHIVED)

    response = adv_client.post(reverse("ads:creative-create", args=[campaign.pk]), creative_form())

    assert response.status_code == 302
    assert not Creative.objects.exists()


# --------------------------------------------------------------------------- who may use what


def _campaign_urls(campaign, creative):
    return [
        ("get", reverse("ads:campaign-detail", args=[campaign.pk])),
        ("get", reverse("ads:campaign-edit", args=[campaign.pk])),
        ("post", reverse("ads:campaign-edit", args=[campaign.pk])),
        ("post", reverse("ads:campaign-activate", args=[campaign.pk])),
        ("post", reverse("ads:campaign-pause", args=[campaign.pk])),
        ("post", reverse("ads:campaign-resume", args=[campaign.pk])),
        ("post", reverse("ads:campaign-archive", args=[campaign.pk])),
        ("get", reverse("ads:creative-create", args=[campaign.pk])),
        ("post", reverse("ads:creative-create", args=[campaign.pk])),
        ("get", reverse("ads:creative-edit", args=[campaign.pk, creative.pk])),
        ("post", reverse("ads:creative-edit", args=[campaign.pk, creative.pk])),
    ]


URL_COUNT = 11


@pytest.mark.parametrize("index", range(URL_COUNT))
def test_another_advertiser_gets_404_on_every_page(client, campaign, creative, user_factory, index):
    # given: advertiser B, with a campaign of their own
    other = user_factory(role="ADVERTISER")
    CampaignFactory(advertiser=AdvertiserFactory(user=other))
    client.force_login(other)
    method, url = _campaign_urls(campaign, creative)[index]
    data = campaign_form() if "edit" in url and "creatives" not in url else creative_form()

    response = getattr(client, method)(url, data if method == "post" else None)

    assert response.status_code == 404
    campaign.refresh_from_db()
    creative.refresh_from_db()
    assert (campaign.name, campaign.status) == ("Summer push", CampaignStatus.DRAFT)
    assert (creative.name, creative.moderation_status) == ("Billboard", ModerationStatus.APPROVED)
    assert Creative.objects.count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_creative_is_only_reached_through_its_own_campaign(client, creative, user_factory, method):
    other = user_factory(role="ADVERTISER")
    own = CampaignFactory(advertiser=AdvertiserFactory(user=other))
    client.force_login(other)

    url = reverse("ads:creative-edit", args=[own.pk, creative.pk])
    response = getattr(client, method)(url, creative_form(name="Hijacked") if method == "post" else None)

    assert response.status_code == 404
    creative.refresh_from_db()
    assert creative.name == "Billboard"


def test_the_list_never_shows_another_advertisers_campaigns(client, campaign, user_factory):
    other = user_factory(role="ADVERTISER")
    client.force_login(other)

    response = client.get(reverse("ads:campaign-list"), {"q": "Summer"})

    assert list(response.context["page"]) == []


@pytest.mark.parametrize(
    "name,args", [("campaign-list", []), ("campaign-create", []), ("profile", []), ("campaign-detail", ["pk"])]
)
def test_owners_cannot_use_the_console(client, owner, campaign, name, args):
    client.force_login(owner)
    url = reverse(f"ads:{name}", args=[campaign.pk for _ in args])

    assert client.get(url).status_code == 403
    assert client.post(reverse("ads:campaign-create"), campaign_form()).status_code == 403
    assert client.post(reverse("ads:campaign-archive", args=[campaign.pk])).status_code == 403
    assert not Advertiser.objects.filter(user=owner).exists()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_anonymous_visitors_are_sent_to_log_in(client, campaign):
    response = client.get(reverse("ads:campaign-detail", args=[campaign.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_staff_see_every_campaign_but_create_none(client, staff_user, campaign, creative):
    client.force_login(staff_user)

    listing = client.get(reverse("ads:campaign-list"))
    detail = client.get(reverse("ads:campaign-detail", args=[campaign.pk]))

    assert [c.name for c in listing.context["page"]] == ["Summer push"]
    assert "Fizz Co" in listing.content.decode()
    assert detail.status_code == 200
    assert client.get(reverse("ads:campaign-create")).status_code == 403
    assert not Advertiser.objects.filter(user=staff_user).exists()


def test_csrf_is_enforced(advertiser, profile, campaign):
    client = Client(enforce_csrf_checks=True)
    client.force_login(advertiser)

    create = client.post(reverse("ads:campaign-create"), campaign_form())
    archive = client.post(reverse("ads:campaign-archive", args=[campaign.pk]))
    creative = client.post(reverse("ads:creative-create", args=[campaign.pk]), creative_form())

    assert (create.status_code, archive.status_code, creative.status_code) == (403, 403, 403)
    assert Campaign.objects.count() == 1
    assert not Creative.objects.exists()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_forms_carry_the_csrf_token(adv_client, campaign):
    for url in (reverse("ads:campaign-create"), reverse("ads:campaign-detail", args=[campaign.pk]),
                reverse("ads:creative-create", args=[campaign.pk]), reverse("ads:profile")):  # fmt: skip
        assert 'name="csrfmiddlewaretoken"' in adv_client.get(url).content.decode()


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_list_and_campaign_page_do_not_query_per_row(adv_client, profile, campaign):
    # given: one campaign with one creative, measured; then many more of each
    CreativeFactory(campaign=campaign, asset=AssetFactory(thumbnail_url="https://tr.rbxcdn.com/x/420/420/Image/Png"))
    list_url, detail_url = reverse("ads:campaign-list"), reverse("ads:campaign-detail", args=[campaign.pk])
    few_list, few_detail = _queries(adv_client, list_url), _queries(adv_client, detail_url)
    for _ in range(8):
        CreativeFactory(campaign=CampaignFactory(advertiser=profile), asset=AssetFactory())
        CreativeFactory(campaign=campaign, asset=AssetFactory())

    assert _queries(adv_client, list_url) == few_list
    assert _queries(adv_client, detail_url) == few_detail
