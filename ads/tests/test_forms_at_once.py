"""Issue 20, item 4: a form says everything at once. Field, cross-field and service (domain) problems come
back in ONE submit, listed in an error summary linked to the fields, each bad field marked for assistive tech."""

from __future__ import annotations

import re
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ads import services
from ads.models import Campaign, CampaignStatus, Creative
from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory
from ads.tests.test_views import campaign_form, creative_form
from games.models import Asset

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


def summary_links(html: str) -> list[str]:
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert summary, "no error summary on the page"
    return re.findall(r'<a href="#([^"]+)"', summary.group(0))


def test_a_campaign_with_five_bad_fields_reports_all_five_in_one_submit(adv_client):
    # given: form-level (name, frequency cap), cross-field (end before start, daily above total) and
    # service-level (the registered game left out by the targeting) problems at once
    from games.tests.factories import GameFactory

    game = GameFactory()
    data = campaign_form(
        name="",
        max_bid="abc",
        daily_budget="900",
        start_at="2031-03-02T00:00",
        end_at="2031-03-01T00:00",
        frequency_cap_count="3",
        frequency_cap_period="",
        games_included="",
        games_excluded=str(game.pk),
        game=str(game.pk),
    )

    # when
    response = adv_client.post(reverse("ads:campaign-create"), data)

    # then
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"name", "max_bid", "daily_budget", "end_at", "frequency_cap_period"} <= set(errors), errors
    assert "cannot exceed the total budget" in str(errors["daily_budget"])
    assert "The end must come after the start." in str(errors["end_at"])
    assert Campaign.objects.count() == 0
    html = response.content.decode()
    links = summary_links(html)
    for field in ("id_name", "id_max_bid", "id_daily_budget", "id_end_at", "id_frequency_cap_period"):
        assert field in links
        tag = re.search(rf'<input[^>]*id="{field}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in tag
        assert f"{field}_error" in re.search(r'aria-describedby="([^"]*)"', tag).group(1)


def test_the_service_error_does_not_repeat_a_form_error_on_the_same_field(adv_client):
    response = adv_client.post(reverse("ads:campaign-create"), campaign_form(total_budget="", daily_budget="50"))
    errors = response.context["form"].errors
    assert errors["total_budget"] == ["This field is required."]


def test_inputs_carry_their_hints(adv_client):
    html = adv_client.get(reverse("ads:campaign-create")).content.decode()
    max_bid = re.search(r'<input[^>]*id="id_max_bid"[^>]*>', html).group(0)
    assert 'min="' in max_bid and 'step="' in max_bid and "required" in max_bid


def test_campaign_validate_writes_nothing_and_reports_every_field(profile):
    with pytest.raises(ValidationError) as caught:
        services.campaign_validate(
            advertiser=profile,
            required=True,
            data={"max_bid": "0", "total_budget": "10", "daily_budget": "50", "pricing": "BOGUS"},
        )
    found = caught.value.message_dict
    assert {"name", "start_at", "end_at", "max_bid", "pricing"} <= set(found)
    assert Campaign.objects.count() == 0


def test_campaign_create_raises_every_problem_together(profile):
    with pytest.raises(ValidationError) as caught:
        services.campaign_create(advertiser=profile, data={"name": "", "max_bid": "-1", "pricing": "BOGUS"})
    assert {"name", "max_bid", "pricing", "total_budget", "start_at", "end_at"} <= set(caught.value.message_dict)


def test_an_npc_creative_with_four_problems_reports_all_four_in_one_submit(adv_client, profile):
    campaign = CampaignFactory(advertiser=profile)
    data = creative_form(
        name="",
        kind="NPC",
        roblox_asset_id="",
        npc_model_asset_id="",
        npc_dialogue="",
        click_type="teleport",
        teleport_place_id="",
    )

    response = adv_client.post(reverse("ads:creative-create", args=[campaign.pk]), data)

    errors = response.context["form"].errors
    assert {"name", "roblox_asset_id", "npc_model_asset_id", "npc_dialogue", "teleport_place_id"} <= set(errors), errors
    assert Creative.objects.count() == 0
    assert set(summary_links(response.content.decode())) >= {"id_name", "id_npc_model_asset_id", "id_npc_dialogue"}


def test_creative_validate_records_no_asset(profile):
    campaign = CampaignFactory(advertiser=profile)
    with pytest.raises(ValidationError) as caught:
        services.creative_validate(
            campaign=campaign, data={"name": "Poster", "kind": "NPC", "roblox_asset_id": 777, "npc": {}}
        )
    assert set(caught.value.message_dict) == {"npc.model_asset_id", "npc.dialogue"}
    assert not Asset.objects.filter(roblox_asset_id=777).exists()


def test_creative_validate_of_an_edit_checks_the_stored_creative(profile):
    campaign = CampaignFactory(advertiser=profile)
    creative = CreativeFactory(campaign=campaign, name="Board")
    services.creative_validate(campaign=campaign, creative=creative, data={"name": "Renamed"})
    with pytest.raises(ValidationError) as caught:
        services.creative_validate(campaign=campaign, creative=creative, data={"name": " ", "kind": "BOGUS"})
    assert set(caught.value.message_dict) == {"name", "kind"}
    creative.refresh_from_db()
    assert creative.name == "Board"


def test_an_archived_campaign_refuses_a_creative_with_its_other_problems(profile):
    campaign = CampaignFactory(advertiser=profile, status=CampaignStatus.ARCHIVED, max_bid=Decimal("1"))
    with pytest.raises(ValidationError) as caught:
        services.creative_create(campaign=campaign, data={"name": ""})
    assert {"campaign", "name", "roblox_asset_id"} <= set(caught.value.message_dict)


def test_advertiser_validate_reports_company_and_category_together():
    with pytest.raises(ValidationError) as caught:
        services.advertiser_validate(company=" ", category="weapons")
    assert set(caught.value.message_dict) == {"company", "category"}


def test_signup_reports_a_taken_username_a_taken_email_and_a_weak_password_together(client, user_factory):
    user_factory(username="taken", email="taken@example.com")
    data = {"role": "OWNER", "username": "taken", "email": "taken@example.com", "password1": "123",
            "password2": "123"}  # fmt: skip
    response = client.post(reverse("accounts:signup"), data)
    errors = response.context["form"].errors
    assert {"username", "email", "password1"} <= set(errors), errors
    assert 'class="error-summary"' in response.content.decode()


def test_the_upload_page_says_the_missing_game_the_name_and_the_bad_file_together(client, advertiser, profile):
    import io

    from ads.models import CreativeUpload

    campaign = CampaignFactory(advertiser=profile, game=None)
    client.force_login(advertiser)
    bad = io.BytesIO(b"GIF89a nonsense")
    bad.name = "x.gif"
    response = client.post(reverse("ads:creative-upload", args=[campaign.pk]), {"name": "", "image": bad})
    form = response.context["form"]
    assert "name" in form.errors and "image" in form.errors, form.errors
    assert any("Choose the campaign's game first" in e for e in form.non_field_errors())
    assert not CreativeUpload.objects.exists()
