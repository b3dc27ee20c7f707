import json
from io import StringIO

import pytest
from django.core.management import call_command

from adplatform.accounts.models import PersonalAccessToken, User


def _seed() -> dict:
    out = StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_seed_demo_prints_the_contract_keys_and_working_tokens(api_client):
    data = _seed()
    for key in ["owner_token", "advertiser_token", "staff_token", "game_slug", "api_key", "signing_secret",
                "container_ids", "campaign_id"]:  # fmt: skip
        assert key in data
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {data['owner_token']}")
    me = api_client.get("/api/v1/me").json()
    assert me["username"] == "demo-owner"
    assert me["role"] == "OWNER"


@pytest.mark.django_db
def test_seed_demo_is_idempotent(api_client):
    first = _seed()
    users_before = User.objects.count()
    second = _seed()
    assert User.objects.count() == users_before == 3
    # Re-running rotates the demo tokens: one live token per demo user, the old one refused.
    assert PersonalAccessToken.objects.filter(name="seed_demo", revoked_at__isnull=True).count() == 3
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {first['staff_token']}")
    assert api_client.get("/api/v1/me").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {second['staff_token']}")
    assert api_client.get("/api/v1/me").json()["is_staff"] is True


@pytest.mark.django_db
def test_seed_demo_builds_a_game_and_a_running_campaign(api_client):
    from ads.models import Campaign, Creative
    from games.models import AdContainer, Game, GameApiKey

    data = _seed()
    game = Game.objects.get(slug=data["game_slug"])
    assert sorted(AdContainer.objects.filter(game=game).values_list("type", flat=True)) == [
        "DISPLAY",
        "MINIGAME",
        "NPC",
    ]
    assert data["container_ids"] == sorted(data["container_ids"]) and len(data["container_ids"]) == 3
    assert GameApiKey.objects.filter(game=game, revoked_at__isnull=True).count() == 1
    assert data["api_key"].startswith("gk_") and data["signing_secret"].startswith("gs_")
    campaign = Campaign.objects.get(pk=data["campaign_id"])
    assert campaign.status == "ACTIVE"
    kinds = set(Creative.objects.filter(campaign=campaign, moderation_status="APPROVED").values_list("kind", flat=True))
    assert kinds == {"DISPLAY", "NPC", "MINIGAME"}
    # idempotent: a second run adds nothing but a rotated key
    _seed()
    assert AdContainer.objects.count() == 3 and Campaign.objects.count() == 1 and Creative.objects.count() == 3
    assert GameApiKey.objects.filter(game=game, revoked_at__isnull=True).count() == 1
