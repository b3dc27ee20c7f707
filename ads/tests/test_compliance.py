"""Roblox's ad-integration rules by construction (ads.compliance): serving, asset ownership, uploads."""

import io
import json
from decimal import Decimal
from unittest import mock

import pytest
import responses
from django.core.exceptions import ValidationError
from django.urls import reverse
from PIL import Image

from ads import compliance, services, uploads
from ads.budget import budget_rebuild
from ads.decisions import Player, ad_decide, engine
from ads.models import Creative, CreativeUpload, RobloxReview, UploadState
from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory
from games.tests.factories import AdContainerFactory, AssetFactory, GameFactory, PlaylistFactory

pytestmark = pytest.mark.django_db

ADULT = Player(id=1001, country="US", device="mobile", age_bracket="13+", ads_allowed=True)
OWNER_KEY = "owner-open-cloud-key"
OWNER_ROBLOX_ID = 7001
CLOUD = "https://apis.roblox.com"
GAMES = "https://games.roblox.com"


def _worker_answers(game_id, asset_id):
    """Stands in for a Celery worker that takes the verdict task at once (the request waits for it)."""
    compliance.asset_verdict_record(game_id=game_id, roblox_asset_id=asset_id)


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    from integrations.roblox import http

    monkeypatch.setattr(http, "sleep", lambda seconds: None)
    with (
        mock.patch("ads.tasks.asset_verdict_task.delay", side_effect=_worker_answers),
        mock.patch("games.tasks.asset_sync.delay"),
        mock.patch("games.tasks.game_sync.delay"),
        mock.patch("ads.tasks.creative_roblox_check_task.delay"),
        mock.patch("ads.tasks.creative_roblox_check_task.apply_async"),
        mock.patch("ads.tasks.creative_upload_process_task.apply_async") as queued,
    ):
        yield queued


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


@pytest.fixture
def game():
    game = GameFactory(open_cloud_api_key=OWNER_KEY)
    return game


def roblox_game(rsps, game, *, creator_type="User", creator_id=OWNER_ROBLOX_ID):
    rsps.get(
        f"{GAMES}/v1/games",
        json={
            "data": [
                {
                    "id": game.roblox_universe_id,
                    "rootPlaceId": game.roblox_place_id,
                    "name": game.name,
                    "description": "",
                    "creator": {"id": creator_id, "name": "Studio", "type": creator_type, "hasVerifiedBadge": False},
                    "price": None,
                    "playing": 3,
                    "visits": 100,
                    "maxPlayers": 20,
                    "created": "2025-01-01T00:00:00Z",
                    "updated": "2026-11-01T00:00:00Z",
                    "genre": "All",
                    "favoritedCount": 5,
                }
            ]
        },
    )


def cloud_asset(rsps, asset_id, *, creator=None, state="MODERATION_STATE_APPROVED", status=200):
    creator = creator or {"userId": str(OWNER_ROBLOX_ID)}
    body = {
        "assetId": str(asset_id),
        "assetType": "ASSET_TYPE_IMAGE",
        "displayName": "Poster",
        "creationContext": {"creator": creator},
        "moderationResult": {"moderationState": state},
    }
    if status != 200:
        body = {"code": "NOT_FOUND", "message": "Asset not found."}
    rsps.get(f"{CLOUD}/assets/v1/assets/{asset_id}", json=body, status=status)


def running(container, **campaign_fields):
    campaign = CampaignFactory(status="ACTIVE", advertiser=AdvertiserFactory(), **campaign_fields)
    CreativeFactory(campaign=campaign, kind=container.type)
    budget_rebuild(campaign_ids=[campaign.pk])
    engine.reset()
    return campaign


def decide(container, player=ADULT):
    return ad_decide(container_id=container.pk, game_id=container.game_id, player=player).body


def png(width=320, height=180, fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


# ----------------------------------------------------------------------------- serving


def test_a_campaign_fill_carries_the_roblox_ids_the_game_needs():
    container = AdContainerFactory()
    campaign = running(container, roblox_campaign_id="adint-77")
    placement = campaign.creatives.get().roblox_placement_id
    body = decide(container)
    assert body["source"] == "campaign"
    assert body["roblox_ad_campaign_id"] == "adint-77"
    assert body["creative"]["placement_id"] == placement


def test_a_house_fill_carries_no_roblox_ids():
    playlist = PlaylistFactory()
    container = AdContainerFactory(game=playlist.game, playlist=playlist)
    playlist.items.create(position=1, asset=AssetFactory(), display_seconds=10)
    engine.reset()
    body = decide(container)
    assert body["source"] == "house"
    assert "roblox_ad_campaign_id" not in body
    assert "placement_id" not in body["creative"]


def test_a_campaign_without_its_ad_integration_id_never_serves():
    container = AdContainerFactory()
    running(container, roblox_campaign_id="")
    assert decide(container)["filled"] is False


@pytest.mark.parametrize(
    "creative_fields",
    [
        {"roblox_placement_id": ""},
        {"roblox_review": RobloxReview.IN_REVIEW},
        {"roblox_review": RobloxReview.NOT_OWNED},
        {"roblox_review": RobloxReview.UNCHECKED},
    ],
)
def test_a_creative_serves_only_with_its_placement_id_once_roblox_approved_it(creative_fields):
    container = AdContainerFactory()
    campaign = running(container)
    campaign.creatives.update(**creative_fields)
    engine.reset()
    assert decide(container)["filled"] is False


def test_a_campaign_registered_for_a_game_serves_only_in_that_game():
    here = AdContainerFactory()
    elsewhere = AdContainerFactory()
    running(here, game=here.game)
    assert decide(here)["source"] == "campaign"
    assert decide(elsewhere)["filled"] is False


def test_the_decision_schema_documents_both_ids(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    decision = schema["components"]["schemas"]["Decision"]["properties"]
    creative = schema["components"]["schemas"]["DecisionCreative"]["properties"]
    assert "roblox_ad_campaign_id" in decision
    assert "placement_id" in creative


# ----------------------------------------------------------------------------- the checklist


def test_the_checklist_names_everything_missing_until_nothing_is(game):
    campaign = CampaignFactory(roblox_campaign_id="", game=None)
    creative = CreativeFactory(campaign=campaign, roblox_placement_id="", roblox_review=RobloxReview.IN_REVIEW)
    problems = compliance.serving_problems(campaign)
    assert any(p.startswith("Registered for a game") for p in problems)
    assert any(p.startswith("Roblox ad-integration campaign id") for p in problems)
    assert any(creative.name in p and "Placement id" in p for p in problems)
    assert any(creative.name in p and "Roblox approved" in p for p in problems)

    campaign.game, campaign.roblox_campaign_id = game, "adint-1"
    campaign.save()
    Creative.objects.filter(pk=creative.pk).update(roblox_placement_id="pl-1", roblox_review=RobloxReview.APPROVED)
    assert compliance.serving_problems(campaign) == []


def test_a_campaign_may_not_exclude_its_own_game(game):
    campaign = CampaignFactory()
    with pytest.raises(ValidationError) as exc:
        services.campaign_update(campaign=campaign, data={"game": game.pk, "targeting": {"games_excluded": [game.pk]}})
    assert "game" in exc.value.message_dict
    campaign.refresh_from_db()
    assert campaign.game_id is None


# ----------------------------------------------------------------------------- typed asset ids


def test_an_asset_of_the_games_owner_is_accepted_with_roblox_moderation(rsps, game):
    campaign = CampaignFactory(game=game)
    roblox_game(rsps, game)
    cloud_asset(rsps, 4242, state="MODERATION_STATE_REVIEWING")
    creative = services.creative_create(campaign=campaign, data={"name": "Poster", "roblox_asset_id": 4242})
    assert creative.roblox_review == RobloxReview.IN_REVIEW
    asset_call = next(c for c in rsps.calls if "/assets/v1/assets/4242" in c.request.url)
    assert asset_call.request.headers["x-api-key"] == OWNER_KEY

    rsps.replace(responses.GET, f"{CLOUD}/assets/v1/assets/4242", json={
        "assetId": "4242", "creationContext": {"creator": {"userId": str(OWNER_ROBLOX_ID)}},
        "moderationResult": {"moderationState": "MODERATION_STATE_APPROVED"}})  # fmt: skip
    compliance.roblox_reviews_refresh(older_than=__import__("datetime").timedelta(0))
    creative.refresh_from_db()
    assert creative.roblox_review == RobloxReview.APPROVED


def test_an_asset_of_the_games_group_is_accepted(rsps, game):
    campaign = CampaignFactory(game=game)
    roblox_game(rsps, game, creator_type="Group", creator_id=55)
    cloud_asset(rsps, 4343, creator={"groupId": "55"})
    creative = services.creative_create(campaign=campaign, data={"name": "Poster", "roblox_asset_id": 4343})
    assert creative.roblox_review == RobloxReview.APPROVED


@pytest.mark.parametrize("creator", [{"userId": "999"}, {"groupId": str(OWNER_ROBLOX_ID)}])
def test_an_asset_of_someone_else_is_refused_and_nothing_is_stored(rsps, game, creator):
    campaign = CampaignFactory(game=game)
    roblox_game(rsps, game)
    cloud_asset(rsps, 4444, creator=creator)
    with pytest.raises(ValidationError) as exc:
        services.creative_create(campaign=campaign, data={"name": "Poster", "roblox_asset_id": 4444})
    assert "not to the game's owner" in exc.value.message_dict["roblox_asset_id"][0]
    assert not Creative.objects.filter(campaign=campaign).exists()


def test_an_asset_the_owners_key_cannot_see_is_refused(rsps, game):
    campaign = CampaignFactory(game=game)
    roblox_game(rsps, game)
    cloud_asset(rsps, 4545, status=404)
    with pytest.raises(ValidationError):
        services.creative_create(campaign=campaign, data={"name": "Poster", "roblox_asset_id": 4545})


def test_roblox_down_leaves_the_creative_unchecked_and_not_serving(rsps, game, _quiet):
    campaign = CampaignFactory(game=game)
    roblox_game(rsps, game)
    rsps.get(f"{CLOUD}/assets/v1/assets/4646", status=503, json={"message": "down"})
    creative = services.creative_create(campaign=campaign, data={"name": "Poster", "roblox_asset_id": 4646})
    assert creative.roblox_review == RobloxReview.UNAVAILABLE
    assert not creative.roblox_ready


def test_the_management_api_refuses_an_asset_of_someone_else(rsps, game, token_client):
    advertiser = AdvertiserFactory()
    campaign = CampaignFactory(advertiser=advertiser, game=game)
    roblox_game(rsps, game)
    cloud_asset(rsps, 4747, creator={"userId": "31337"})
    client = token_client(advertiser.user)
    response = client.post(
        f"/api/v1/manage/campaigns/{campaign.pk}/creatives/", {"roblox_asset_id": 4747}, format="json"
    )
    assert response.status_code == 400
    assert "roblox_asset_id" in response.json()["error"]["details"]
    assert not Creative.objects.filter(campaign=campaign).exists()


def test_the_management_api_sets_the_game_and_the_placement_id(token_client, game):
    advertiser = AdvertiserFactory()
    campaign = CampaignFactory(advertiser=advertiser, game=None)
    creative = CreativeFactory(campaign=campaign, roblox_placement_id="")
    client = token_client(advertiser.user)
    response = client.patch(f"/api/v1/manage/campaigns/{campaign.pk}/", {"game": game.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["game"] == game.pk
    assert any("Placement id" in p for p in response.json()["serving_problems"])
    response = client.patch(f"/api/v1/manage/creatives/{creative.pk}/", {"roblox_placement_id": "pl-9"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["roblox_placement_id"] == "pl-9"
    # The game changed: the creative is checked again against the new owner.
    assert response.json()["roblox_review"]["status"] == RobloxReview.UNCHECKED


# ----------------------------------------------------------------------------- uploads


@pytest.mark.parametrize(
    "data,message",
    [
        (b"not an image at all", "Not an image"),
        (png(fmt="GIF"), "not accepted"),
        (png(20, 20), "each side must be"),
        (b"", "Choose an image"),
    ],
)
def test_bad_artwork_is_refused_with_a_reason(game, data, message):
    campaign = CampaignFactory(game=game)
    with pytest.raises(ValidationError) as exc:
        compliance.creative_upload_create(campaign=campaign, name="Poster", data=data)
    assert message in exc.value.message_dict["image"][0]
    assert not CreativeUpload.objects.exists()


def test_artwork_over_the_size_limit_is_refused(game, settings):
    settings.CREATIVE_UPLOAD_MAX_BYTES = 1000
    campaign = CampaignFactory(game=game)
    with pytest.raises(ValidationError) as exc:
        compliance.creative_upload_create(campaign=campaign, name="Poster", data=png(800, 800))
    assert "at most" in exc.value.message_dict["image"][0]


def test_artwork_needs_the_campaigns_game_and_its_owners_key():
    with pytest.raises(ValidationError) as exc:
        compliance.creative_upload_create(campaign=CampaignFactory(game=None), name="Poster", data=png())
    assert "game" in exc.value.message_dict
    keyless = GameFactory(open_cloud_api_key="")
    with pytest.raises(ValidationError):
        compliance.creative_upload_create(campaign=CampaignFactory(game=keyless), name="Poster", data=png())


def test_artwork_is_uploaded_as_the_owners_asset_polled_and_becomes_a_creative(
    rsps, game, django_capture_on_commit_callbacks, _quiet
):
    # given an accepted upload
    campaign = CampaignFactory(game=game, roblox_campaign_id="adint-5")
    with django_capture_on_commit_callbacks(execute=True):
        upload = compliance.creative_upload_create(campaign=campaign, name="Summer poster", data=png())
    _quiet.assert_called_once_with(args=(upload.pk,), countdown=0)
    assert (upload.width, upload.height, upload.content_type) == (320, 180, "image/png")

    # when Roblox takes it (operation not done yet)
    roblox_game(rsps, game)
    rsps.post(f"{CLOUD}/assets/v1/assets", json={"path": "operations/op-1", "done": False})
    upload, again = uploads.creative_upload_process(upload_id=upload.pk)
    assert again and upload.state == UploadState.PROCESSING and upload.operation_id == "op-1"
    sent = next(c.request for c in rsps.calls if c.request.method == "POST")
    assert sent.headers["x-api-key"] == OWNER_KEY
    assert b'"userId": "7001"' in sent.body and b'"assetType": "Image"' in sent.body
    assert b'name="fileContent"' in sent.body and b"image/png" in sent.body

    # then it is polled until done, and becomes a creative checked like a typed one
    rsps.get(f"{CLOUD}/assets/v1/operations/op-1", json={"path": "operations/op-1", "done": False})
    upload, again = uploads.creative_upload_process(upload_id=upload.pk)
    assert again and upload.polls == 1
    rsps.replace(
        responses.GET,
        f"{CLOUD}/assets/v1/operations/op-1",
        json={"path": "operations/op-1", "done": True, "response": {"assetId": "90001", "assetType": "Image"}},
    )
    cloud_asset(rsps, 90001, state="MODERATION_STATE_REVIEWING")
    upload, again = uploads.creative_upload_process(upload_id=upload.pk)
    assert not again and upload.state == UploadState.DONE
    creative = upload.creative
    assert creative.roblox_asset_id == 90001 and creative.campaign_id == campaign.pk
    assert creative.roblox_review == RobloxReview.IN_REVIEW
    assert bytes(upload.content) == b""


def test_an_upload_roblox_refuses_is_marked_failed(rsps, game):
    campaign = CampaignFactory(game=game)
    upload = compliance.creative_upload_create(campaign=campaign, name="Poster", data=png())
    roblox_game(rsps, game)
    rsps.post(f"{CLOUD}/assets/v1/assets", status=400, json={"code": "INVALID_ARGUMENT", "message": "InvalidImage"})
    upload, again = uploads.creative_upload_process(upload_id=upload.pk)
    assert not again and upload.state == UploadState.FAILED and "InvalidImage" in upload.error
    assert not Creative.objects.filter(campaign=campaign).exists()


def test_an_upload_waits_out_roblox_being_down(rsps, game):
    from integrations.roblox.errors import RobloxUnavailable

    campaign = CampaignFactory(game=game)
    upload = compliance.creative_upload_create(campaign=campaign, name="Poster", data=png())
    roblox_game(rsps, game)
    rsps.post(f"{CLOUD}/assets/v1/assets", status=503, json={"message": "down"})
    with pytest.raises(RobloxUnavailable):
        uploads.creative_upload_process(upload_id=upload.pk)
    upload.refresh_from_db()
    assert upload.state == UploadState.PENDING


# ----------------------------------------------------------------------------- console pages


def test_the_campaign_page_shows_the_checklist(client):
    advertiser = AdvertiserFactory()
    campaign = CampaignFactory(advertiser=advertiser, roblox_campaign_id="", game=None)
    client.force_login(advertiser.user)
    page = client.get(reverse("ads:campaign-detail", args=[campaign.pk])).content.decode()
    assert 'id="compliance"' in page
    assert "Roblox ad-integration campaign id" in page and "check-missing" in page


def test_the_upload_page_accepts_artwork_and_shows_it_on_the_campaign(client, game, _quiet):
    advertiser = AdvertiserFactory()
    campaign = CampaignFactory(advertiser=advertiser, game=game)
    client.force_login(advertiser.user)
    url = reverse("ads:creative-upload", args=[campaign.pk])
    assert client.get(url).status_code == 200
    image = io.BytesIO(png())
    image.name = "poster.png"
    response = client.post(url, {"name": "Poster", "image": image})
    assert response.status_code == 302
    upload = CreativeUpload.objects.get(campaign=campaign)
    assert upload.state == UploadState.PENDING and upload.uploaded_by == advertiser.user
    page = client.get(reverse("ads:campaign-detail", args=[campaign.pk])).content.decode()
    assert "Poster" in page and "320 x 180" in page


def test_the_upload_page_says_what_is_wrong(client, game):
    advertiser = AdvertiserFactory()
    campaign = CampaignFactory(advertiser=advertiser, game=game)
    client.force_login(advertiser.user)
    bad = io.BytesIO(b"GIF89a nonsense")
    bad.name = "x.gif"
    response = client.post(reverse("ads:creative-upload", args=[campaign.pk]), {"name": "Poster", "image": bad})
    assert response.status_code == 200
    assert "Not an image we can read" in response.content.decode()
    assert not CreativeUpload.objects.exists()


def test_another_advertisers_campaign_takes_no_upload(client, game):
    campaign = CampaignFactory(game=game)
    intruder = AdvertiserFactory()
    client.force_login(intruder.user)
    image = io.BytesIO(png())
    image.name = "poster.png"
    response = client.post(reverse("ads:creative-upload", args=[campaign.pk]), {"name": "P", "image": image})
    assert response.status_code == 404
    assert not CreativeUpload.objects.exists()


def test_the_campaign_form_sets_the_game_and_the_creative_form_the_placement_id(client, game):
    advertiser = AdvertiserFactory()
    campaign = CampaignFactory(advertiser=advertiser, game=None)
    creative = CreativeFactory(campaign=campaign, roblox_placement_id="")
    client.force_login(advertiser.user)
    from ads.forms import CampaignForm, CreativeForm

    data = {k: v for k, v in CampaignForm.initial_for(campaign).items() if v not in (None, [])}
    data.update(game=game.pk, start_at=campaign.start_at.strftime("%Y-%m-%dT%H:%M"),
                end_at=campaign.end_at.strftime("%Y-%m-%dT%H:%M"), frequency_cap_unit=86400)  # fmt: skip
    response = client.post(reverse("ads:campaign-edit", args=[campaign.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    campaign.refresh_from_db()
    assert campaign.game_id == game.pk

    data = {k: v for k, v in CreativeForm.initial_for(creative).items() if v not in (None, [])}
    data.update(roblox_placement_id="pl-form", click_type="none", minigame_duration=60, reward_type="none",
                product_type="gamepass")  # fmt: skip
    response = client.post(reverse("ads:creative-edit", args=[campaign.pk, creative.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    creative.refresh_from_db()
    assert creative.roblox_placement_id == "pl-form"


# ----------------------------------------------------------------------------- admin


def test_the_admin_records_roblox_approval_and_rechecks_through_the_services(client, staff_user, rsps, game):
    campaign = CampaignFactory(game=game)
    creative = CreativeFactory(campaign=campaign, roblox_review=RobloxReview.UNCHECKED)
    client.force_login(staff_user)
    changelist = reverse("admin:ads_creative_changelist")
    client.post(changelist, {"action": "roblox_record_approved", "_selected_action": [creative.pk]})
    creative.refresh_from_db()
    assert creative.roblox_review == RobloxReview.APPROVED and "Ads Manager" in creative.roblox_review_note

    # "Check again" hands the check to a worker (never Roblox on the request path); the worker records it.
    from ads.tasks import creative_roblox_check_task

    client.post(changelist, {"action": "roblox_check", "_selected_action": [creative.pk]})
    creative_roblox_check_task.delay.assert_called_with(creative.pk)
    roblox_game(rsps, game)
    cloud_asset(rsps, creative.roblox_asset_id, creator={"userId": "1"})
    creative_roblox_check_task(creative.pk)
    creative.refresh_from_db()
    assert creative.roblox_review == RobloxReview.NOT_OWNED


def test_only_staff_record_roblox_verdicts(advertiser):
    from django.core.exceptions import PermissionDenied

    creative = CreativeFactory(roblox_review=RobloxReview.UNCHECKED)
    with pytest.raises(PermissionDenied):
        compliance.creative_roblox_review_record(creative=creative, review=RobloxReview.APPROVED, by=advertiser)


def test_the_revenue_share_schedule_is_seeded_from_the_published_table():
    from ads.models import RevenueShareSchedule

    schedule = RevenueShareSchedule.objects.get(effective_from="2027-01-01")
    tiers = {t.code: t for t in schedule.tiers.all()}
    published = {"US": "1.50", "TIER1": "0.75", "TIER2": "0.20", "TIER3": "0.05"}
    assert {code: t.cptv for code, t in tiers.items()} == {code: Decimal(v) for code, v in published.items()}
    assert "GB" in tiers["TIER1"].countries and "JP" in tiers["TIER2"].countries and tiers["TIER3"].is_default
    assert (schedule.intro_days, schedule.after_intro_cptv, schedule.campaign_cap) == (
        28, Decimal("0.10"), Decimal("400000"))  # fmt: skip
    assert json.dumps(schedule.source_url).count("ad-integrations") == 1


# ----------------------------------------------------------------------------- the owner's Open Cloud key


def test_the_owner_connects_the_open_cloud_key_and_it_is_never_shown(client):
    game = GameFactory(open_cloud_api_key="")
    client.force_login(game.owner)
    url = reverse("games:open-cloud", args=[game.slug])
    assert "No key is connected yet" in client.get(url).content.decode()
    response = client.post(url, {"open_cloud_api_key": "secret-key-123"})
    assert response.status_code == 302
    game.refresh_from_db()
    assert game.open_cloud_api_key == "secret-key-123"
    page = client.get(url).content.decode()
    assert "A key is connected" in page and "secret-key-123" not in page
    assert client.post(url, {"open_cloud_api_key": "has spaces in it"}).status_code == 200
    game.refresh_from_db()
    assert game.open_cloud_api_key == "secret-key-123"


def test_another_owner_cannot_set_the_key(client):
    game = GameFactory(open_cloud_api_key="")
    stranger = GameFactory().owner
    client.force_login(stranger)
    assert client.post(reverse("games:open-cloud", args=[game.slug]), {"open_cloud_api_key": "x"}).status_code == 404
    game.refresh_from_db()
    assert game.open_cloud_api_key == ""


# ----------------------------------------------------------------------------- the owner enters the Ads Manager ids


def test_the_owner_enters_the_ads_manager_ids_of_campaigns_registered_for_the_game(client, game):
    campaign = CampaignFactory(game=game, roblox_campaign_id="")
    creative = CreativeFactory(campaign=campaign, roblox_placement_id="")
    elsewhere = CampaignFactory(game=GameFactory(), name="Not for this game")
    client.force_login(game.owner)
    url = reverse("ads:game-integrations", args=[game.slug])
    page = client.get(url).content.decode()
    assert campaign.name in page and str(creative.roblox_asset_id) in page and elsewhere.name not in page
    response = client.post(
        url, {"campaign": campaign.pk, "roblox_campaign_id": "adint-owner", f"placement-{creative.pk}": "pl-owner"}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    creative.refresh_from_db()
    assert (campaign.roblox_campaign_id, creative.roblox_placement_id) == ("adint-owner", "pl-owner")
    # A campaign of another game cannot be reached through this page.
    assert client.post(url, {"campaign": elsewhere.pk, "roblox_campaign_id": "x"}).status_code == 404
    elsewhere.refresh_from_db()
    assert elsewhere.roblox_campaign_id != "x"


def test_another_owner_cannot_open_a_games_integrations(client, game):
    client.force_login(GameFactory().owner)
    assert client.get(reverse("ads:game-integrations", args=[game.slug])).status_code == 404


def test_an_npc_model_of_someone_else_is_refused_too(rsps, game):
    campaign = CampaignFactory(game=game)
    roblox_game(rsps, game)
    cloud_asset(rsps, 5151)
    cloud_asset(rsps, 5152, creator={"userId": "999"})
    data = {"name": "Shopkeeper", "kind": "NPC", "roblox_asset_id": 5151,
            "npc": {"model_asset_id": 5152, "dialogue": ["Hi!"]}}  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        services.creative_create(campaign=campaign, data=data)
    assert "npc.model_asset_id" in exc.value.message_dict
    assert not Creative.objects.filter(campaign=campaign).exists()


def test_a_creative_is_as_far_as_its_least_approved_asset(rsps, game):
    campaign = CampaignFactory(game=game)
    roblox_game(rsps, game)
    cloud_asset(rsps, 5251)
    cloud_asset(rsps, 5252, state="MODERATION_STATE_REVIEWING")
    data = {"name": "Shopkeeper", "kind": "NPC", "roblox_asset_id": 5251,
            "npc": {"model_asset_id": 5252, "dialogue": ["Hi!"]}}  # fmt: skip
    creative = services.creative_create(campaign=campaign, data=data)
    assert creative.roblox_review == RobloxReview.IN_REVIEW


def test_a_game_not_synced_yet_leaves_the_asset_unchecked_not_refused(rsps):
    game = GameFactory(open_cloud_api_key=OWNER_KEY, roblox_universe_id=None)
    campaign = CampaignFactory(game=game)
    creative = services.creative_create(campaign=campaign, data={"name": "Poster", "roblox_asset_id": 5353})
    assert creative.roblox_review == RobloxReview.UNAVAILABLE and "not synced" in creative.roblox_review_note


# ----------------------------------------------------------------------------- the tasks


def test_the_upload_task_polls_again_until_roblox_finished_and_retries_when_down(game, _quiet):
    from celery.exceptions import Retry

    from ads.tasks import creative_upload_process_task
    from integrations.roblox.errors import RobloxUnavailable

    upload = compliance.creative_upload_create(campaign=CampaignFactory(game=game), name="Poster", data=png())
    with mock.patch("ads.uploads.creative_upload_process", return_value=(upload, True)):
        creative_upload_process_task(upload.pk)
    _quiet.assert_called_with(args=(upload.pk,), countdown=30)
    # Roblox down: retried with backoff (run eagerly here, so at once), and given up after 8 retries.
    with mock.patch("ads.uploads.creative_upload_process", side_effect=RobloxUnavailable("down")) as process:
        result = creative_upload_process_task.apply(args=[upload.pk])
    assert isinstance(result.result, RobloxUnavailable | Retry)
    assert process.call_count == 9


def test_the_check_task_records_the_verdict(rsps, game):
    from ads.tasks import creative_roblox_check_task

    creative = CreativeFactory(campaign=CampaignFactory(game=game), roblox_review=RobloxReview.UNCHECKED)
    roblox_game(rsps, game)
    cloud_asset(rsps, creative.roblox_asset_id)
    assert creative_roblox_check_task(creative.pk) == RobloxReview.APPROVED
    creative.refresh_from_db()
    assert creative.roblox_review == RobloxReview.APPROVED and creative.roblox_checked_at is not None


# ----------------------------------------------------------------------------- the management API's uploads


def test_the_management_api_takes_artwork_and_lists_uploads(token_client, game, _quiet):
    advertiser = AdvertiserFactory()
    campaign = CampaignFactory(advertiser=advertiser, game=game)
    client = token_client(advertiser.user)
    url = f"/api/v1/manage/campaigns/{campaign.pk}/uploads/"
    image = io.BytesIO(png(640, 360))
    image.name = "poster.png"
    response = client.post(url, {"name": "Poster", "image": image}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["state"], body["width"], body["height"], body["game"]) == ("PENDING", 640, 360, game.pk)
    assert [u["id"] for u in client.get(url).json()["results"]] == [body["id"]]


def test_the_management_api_refuses_bad_artwork_in_the_error_format(token_client, game):
    advertiser = AdvertiserFactory()
    campaign = CampaignFactory(advertiser=advertiser, game=game)
    client = token_client(advertiser.user)
    bad = io.BytesIO(b"%PDF-1.4 not an image")
    bad.name = "x.pdf"
    response = client.post(
        f"/api/v1/manage/campaigns/{campaign.pk}/uploads/", {"name": "P", "image": bad}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "image" in response.json()["error"]["details"]
    assert not CreativeUpload.objects.exists()


def test_the_management_api_hides_another_advertisers_uploads(token_client, game):
    campaign = CampaignFactory(game=game)
    client = token_client(AdvertiserFactory().user)
    assert client.get(f"/api/v1/manage/campaigns/{campaign.pk}/uploads/").status_code == 404


def test_a_late_worker_leaves_the_creative_unchecked_and_its_check_refuses_it_later(
    rsps, game, settings, django_capture_on_commit_callbacks
):
    from ads.tasks import creative_roblox_check_task

    settings.ROBLOX_DATA_API_WAIT_MS = 50
    campaign = CampaignFactory(game=game)
    # No worker takes the verdict task in time.
    with mock.patch("ads.tasks.asset_verdict_task.delay") as queued, django_capture_on_commit_callbacks(execute=True):
        creative = services.creative_create(campaign=campaign, data={"name": "Poster", "roblox_asset_id": 5454})
    queued.assert_called_once_with(game.pk, 5454)
    assert not rsps.calls  # the web request never called Roblox
    assert creative.roblox_review == RobloxReview.UNCHECKED and not creative.roblox_ready
    creative_roblox_check_task.delay.assert_called_with(creative.pk)
    roblox_game(rsps, game)
    cloud_asset(rsps, 5454, creator={"userId": "999"})
    creative_roblox_check_task(creative.pk)
    creative.refresh_from_db()
    assert creative.roblox_review == RobloxReview.NOT_OWNED and "not to the game's owner" in creative.roblox_review_note


def test_a_verdict_a_worker_found_answers_the_next_request_without_asking_again(rsps, game):
    campaign = CampaignFactory(game=game)
    roblox_game(rsps, game)
    cloud_asset(rsps, 5555)
    services.creative_create(campaign=campaign, data={"name": "A", "roblox_asset_id": 5555})
    calls = len(rsps.calls)
    second = services.creative_create(campaign=campaign, data={"name": "B", "roblox_asset_id": 5555})
    assert second.roblox_review == RobloxReview.APPROVED
    assert len(rsps.calls) == calls
