"""``POST /api/v1/decisions`` over HTTP: the contract of shared/API.md, good and bad input.

The view answers well-formed requests on a lean path and hands everything else to DRF's full
dispatch; these tests hold both to the same contract, and check that a refused request reserves
and streams nothing.
"""

import json
from decimal import Decimal
from unittest import mock

import pytest

from adplatform.core.api.errors import ERROR_CODES
from adplatform.core.redis import get_redis
from ads.api.decisions import DecisionView
from ads.budget import budget_rebuild, committed_micros
from ads.streams import DECISION_STREAM
from ads.tests.factories import CampaignFactory, CreativeFactory
from games import services as game_services
from games.tests.factories import AdContainerFactory, GameFactory, make_api_key

pytestmark = pytest.mark.django_db

URL = "/api/v1/decisions"


@pytest.fixture(autouse=True)
def _no_worker():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        yield


@pytest.fixture
def setup():
    container = AdContainerFactory(floor_price_cpm=Decimal("1"))
    campaign = CampaignFactory(status="ACTIVE", max_bid=Decimal("4"), pacing="ASAP", total_budget=Decimal("10"))
    CreativeFactory(campaign=campaign, kind=container.type)
    budget_rebuild(campaign_ids=[campaign.pk])
    key, raw, _ = make_api_key(container.game)
    return container, campaign, key, raw


def ask(client, raw_key, body, content_type="application/json"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    headers = {"HTTP_X_API_KEY": raw_key} if raw_key is not None else {}
    return client.generic("POST", URL, data, content_type=content_type, **headers)


def player(**overrides):
    return {"id": 4242, "country": "US", "device": "mobile", "age_bracket": "13+", "ads_allowed": True, **overrides}


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code and code in ERROR_CODES
    return body["error"]


def nothing_happened(campaign):
    client = get_redis()
    assert client.xlen(DECISION_STREAM) == 0
    assert committed_micros(campaign.pk) == 0


def test_a_paid_fill_over_http(client, setup):
    container, campaign, _, raw = setup
    response = ask(client, raw, {"container_id": container.pk, "player": player(), "server_id": "job-1"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["X-Request-ID"]
    body = response.json()
    assert body["filled"] is True and body["source"] == "campaign" and body["campaign_id"] == campaign.pk
    assert body["price_cpm"] == "1.010000"
    assert {"decision_id", "expires_at", "creative", "tracking_token"} <= set(body)
    assert get_redis().xlen(DECISION_STREAM) == 1


def test_the_lean_path_and_drf_answer_alike(client, setup):
    container, _, _, raw = setup
    request = {"container_id": container.pk, "player": player()}
    lean = ask(client, raw, request).json()
    with mock.patch.object(DecisionView, "fast_path", return_value=None):
        full = ask(client, raw, request).json()
    assert set(lean) == set(full)
    for field in ("filled", "source", "campaign_id", "price_cpm", "pricing", "creative"):
        assert lean[field] == full[field], field


def test_the_access_log_names_the_game_key(client, setup, caplog):
    container, _, key, raw = setup
    with caplog.at_level("INFO", logger="adplatform.access"):
        ask(client, raw, {"container_id": container.pk, "player": player()})
    record = next(r for r in caplog.records if r.name == "adplatform.access")
    assert record.status == 200 and str(key.pk) in str(record.user_id)


def test_an_unknown_container_is_404_and_reserves_nothing(client, setup):
    _, campaign, _, raw = setup
    assert_error(ask(client, raw, {"container_id": 999_999, "player": player()}), 404, "not_found")
    nothing_happened(campaign)


def test_another_games_container_is_404(client, setup):
    container, campaign, _, _ = setup
    _, other_raw, _ = make_api_key(GameFactory())
    assert_error(ask(client, other_raw, {"container_id": container.pk, "player": player()}), 404, "not_found")
    nothing_happened(campaign)


def test_keys_missing_unknown_or_revoked_are_401(client, setup):
    container, campaign, key, raw = setup
    body = {"container_id": container.pk, "player": player()}
    assert_error(ask(client, None, body), 401, "not_authenticated")
    assert_error(ask(client, raw + "x", body), 401, "api_key_invalid")
    game_services.api_key_revoke(key=key)
    assert_error(ask(client, raw, body), 401, "api_key_invalid")
    nothing_happened(campaign)


@pytest.mark.parametrize(
    ("content_type", "data", "status", "code"),
    [
        ("application/json", "{not json", 400, "malformed_json"),
        ("application/json", "[1, 2]", 400, "validation_error"),
        ("text/plain", "{}", 415, "unsupported_media_type"),
    ],
)
def test_bodies_that_are_not_a_json_object(client, setup, content_type, data, status, code):
    _, campaign, _, raw = setup
    assert_error(ask(client, raw, data, content_type=content_type), status, code)
    nothing_happened(campaign)


@pytest.mark.parametrize(
    ("request_body", "fields"),
    [
        ({"player": {"id": 1}}, {"container_id"}),
        ({"container_id": "12", "player": {"id": 1}}, {"container_id"}),
        ({"container_id": 0, "player": {"id": 1}}, {"container_id"}),
        ({"container_id": 2**63, "player": {"id": 1}}, {"container_id"}),
        ({"container_id": 1}, {"player"}),
        ({"container_id": 1, "player": "4242"}, {"player"}),
        ({"container_id": 1, "player": {"id": -5}}, {"player"}),
        ({"container_id": 1, "player": {"id": 1, "country": "USA"}}, {"player"}),
        ({"container_id": 1, "player": {"id": 1, "device": "toaster"}}, {"player"}),
        ({"container_id": 1, "player": {"id": 1, "age_bracket": "12"}}, {"player"}),
        ({"container_id": 1, "player": {"id": 1, "ads_allowed": "yes"}}, {"player"}),
        ({"container_id": 1, "player": {"id": 1, "segments": ["x"] * 51}}, {"player"}),
        ({"container_id": 1, "player": {"id": 1}, "server_id": "s" * 101}, {"server_id"}),
        ({"container_id": "x", "player": {"id": "y", "country": 7}}, {"container_id", "player"}),
    ],
)
def test_malformed_fields_are_400_with_field_errors(client, setup, request_body, fields):
    _, campaign, _, raw = setup
    error = assert_error(ask(client, raw, request_body), 400, "validation_error")
    assert set(error["details"]) == fields
    nothing_happened(campaign)


def test_player_field_errors_name_each_field(client, setup):
    container, _, _, raw = setup
    bad = {"id": 0, "country": "USA", "device": "toaster", "age_bracket": "12", "ads_allowed": 1}
    error = assert_error(ask(client, raw, {"container_id": container.pk, "player": bad}), 400, "validation_error")
    assert set(error["details"]["player"]) == {"id", "country", "device", "age_bracket", "ads_allowed"}


def test_get_is_405(client, setup):
    _, _, _, raw = setup
    assert_error(client.get(URL, HTTP_X_API_KEY=raw), 405, "method_not_allowed")


def test_an_inactive_container_answers_unfilled(client, setup):
    container, campaign, _, raw = setup
    container.status = "MAINTENANCE"
    container.save(update_fields=["status"])
    from ads.decisions import engine

    engine.reset()
    response = ask(client, raw, {"container_id": container.pk, "player": player()})
    assert response.status_code == 200
    assert response.json()["filled"] is False and response.json()["reason"] == "container_inactive"
    assert committed_micros(campaign.pk) == 0


def test_an_answer_is_written_by_its_declaration_and_a_mismatch_is_logged_not_lost(caplog, settings):
    """The lean and the DRF paths encode through ``Decision``: a body it refuses (a bug) is still served as it
    is, since the decision behind it is made, and the mismatch is logged with the declaration's name."""
    import json
    import logging

    from adplatform.core.api.contract import respond as answer
    from ads.api.contract import Decision

    settings.API_STRICT_ANSWERS = False  # as in production
    good = answer({"filled": False, "reason": "no_eligible_campaign"}, Decision)
    assert json.loads(good.content) == {"filled": False, "reason": "no_eligible_campaign"}
    with caplog.at_level(logging.ERROR, logger="adplatform.core.api.contract"):
        bad = answer({"filled": "yes"}, Decision)
    assert json.loads(bad.content) == {"filled": "yes"}
    assert any(r.getMessage() == "answer does not match its declaration" and r.declaration == "Decision"
               for r in caplog.records)  # fmt: skip
