import json
import os
import signal
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from adplatform.core.redis import get_redis, reset_redis_client
from ads.budget import Charge, budget_rebuild, charges_apply
from ads.decisions import Player, ad_decide, engine
from ads.events import events_drain
from ads.models import AdEngagement, Decision, LedgerEntry
from ads.tests.factories import CampaignFactory, CreativeFactory
from games.tests.factories import AdContainerFactory, make_api_key

pytestmark = pytest.mark.django_db

VIEWABLE = {"duration_ms": 1400, "screen_coverage": 0.031, "visible_fraction": 0.8, "angle_deg": 30}


@pytest.fixture(autouse=True)
def _no_worker():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        yield


@pytest.fixture
def setup():
    container = AdContainerFactory(floor_price_cpm=Decimal("1.99"))
    campaign = CampaignFactory(status="ACTIVE", max_bid=Decimal("5"), pacing="ASAP", total_budget=Decimal("10"))
    CreativeFactory(campaign=campaign, kind=container.type)
    budget_rebuild(campaign_ids=[campaign.pk])
    _, raw, _ = make_api_key(container.game)
    engine.reset()
    return container, campaign, raw


def decision(container, player_id=1001):
    body = ad_decide(
        container_id=container.pk, game_id=container.game_id,
        player=Player(id=player_id, country="US", device="mobile", ads_allowed=True),
    ).body  # fmt: skip
    assert body["filled"] and body["source"] == "campaign"
    return body


def event(body, kind="impression", *, at=None, player_id=1001, **extra):
    data = {
        "event_id": str(uuid.uuid4()),
        "type": kind,
        "decision_id": body["decision_id"],
        "tracking_token": body["tracking_token"],
        "player_id": player_id,
        "occurred_at": (at or timezone.now()).isoformat(),
    }
    if kind == "impression":
        data["viewability"] = VIEWABLE
    data.update(extra)
    return data


def post(api_client, key, events, **kwargs):
    return api_client.post("/api/v1/events", {"events": events, **kwargs}, format="json", HTTP_X_API_KEY=key)


def test_a_viewable_impression_is_stored_and_billed_once(api_client, setup):
    container, campaign, key = setup
    body = decision(container)
    impression = event(body)

    response = post(api_client, key, [impression])
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    events_drain()

    row = AdEngagement.objects.get()
    assert row.viewable and row.charged and not row.invalid_reason
    entry = LedgerEntry.objects.get(kind="IMPRESSION_CHARGE")
    assert entry.amount == Decimal(body["price_cpm"]) / 1000 == Decimal("0.00200")
    campaign.refresh_from_db()
    assert campaign.spent == entry.amount
    assert Decision.objects.get(id=body["decision_id"]).state == "CONFIRMED"


@pytest.mark.parametrize(
    "viewability",
    [
        {**VIEWABLE, "duration_ms": 999},
        {**VIEWABLE, "screen_coverage": 0.0149},
        {**VIEWABLE, "visible_fraction": 0.49},
        {**VIEWABLE, "angle_deg": 55.1},
        [],  # Roblox's encoding of an empty object
    ],
)
def test_a_non_viewable_impression_is_stored_but_not_billed(api_client, setup, viewability):
    container, _, key = setup
    response = post(api_client, key, [event(decision(container), viewability=viewability)])
    assert response.json()["accepted"] == 1
    events_drain()
    row = AdEngagement.objects.get()
    assert not row.viewable and not row.charged
    assert not LedgerEntry.objects.exists()


def test_the_viewability_thresholds_are_inclusive(api_client, setup):
    container, _, key = setup
    edge = {"duration_ms": 1000, "screen_coverage": 0.015, "visible_fraction": 0.5, "angle_deg": 55}
    post(api_client, key, [event(decision(container), viewability=edge)])
    events_drain()
    assert AdEngagement.objects.get().viewable


def test_a_batch_of_501_is_413(api_client, setup):
    _, _, key = setup
    response = post(api_client, key, [{}] * 501)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "batch_too_large"


def test_a_body_that_is_not_json_is_400(api_client, setup):
    _, _, key = setup
    response = api_client.generic("POST", "/api/v1/events", "{oops", content_type="application/json",
                                  HTTP_X_API_KEY=key)  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_without_a_key_is_401(api_client):
    assert api_client.post("/api/v1/events", {"events": []}, format="json").status_code == 401


def test_one_bad_event_never_fails_the_others(api_client, setup):
    container, _, key = setup
    body = decision(container)
    other = AdContainerFactory(floor_price_cpm=Decimal("1.99"))
    CreativeFactory(campaign=CampaignFactory(status="ACTIVE", pacing="ASAP"), kind=other.type)
    budget_rebuild()
    engine.reset()
    foreign = decision(other)  # a real token, for another game
    forged = event(body, tracking_token=body["tracking_token"][:-4] + "AAAA")
    batch = [
        event(body),
        forged,
        event(foreign),
        event(body, tracking_token=body["tracking_token"], decision_id=str(uuid.uuid4())),
        event(body, player_id=999),
        event(body, at=timezone.now() - timedelta(hours=25)),
        event(body, at=timezone.now() + timedelta(hours=1)),
        event(body, event_id="not-a-uuid"),
        event(body, kind="purchase"),
        event(body, viewability={"duration_ms": "long"}),
        "not an object",
    ]
    response = post(api_client, key, batch)
    assert response.status_code == 202
    data = response.json()
    assert data["accepted"] == 1
    codes = {r["index"]: r["code"] for r in data["rejected"]}
    assert codes == {1: "token_invalid", 2: "token_invalid", 3: "token_invalid", 4: "player_mismatch",
                     5: "event_too_old", 6: "event_in_future", 7: "validation_error", 8: "validation_error",
                     9: "validation_error", 10: "validation_error"}  # fmt: skip
    events_drain()
    assert AdEngagement.objects.count() == 1


def test_the_same_batch_twice_is_counted_once(api_client, setup):
    container, _, key = setup
    body = decision(container)
    batch = [event(body), event(body, kind="interaction"), event(body, kind="conversion")]
    assert post(api_client, key, batch).json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    events_drain()
    assert post(api_client, key, batch).json() == {"accepted": 0, "duplicates": 3, "rejected": []}
    events_drain()
    assert AdEngagement.objects.count() == 3
    assert LedgerEntry.objects.count() == 1


def test_duplicates_inside_one_batch(api_client, setup):
    container, _, key = setup
    impression = event(decision(container))
    assert post(api_client, key, [impression, impression]).json()["duplicates"] == 1


def test_a_second_billable_impression_of_a_decision_is_invalid(api_client, setup):
    container, _campaign, key = setup
    body = decision(container)
    post(api_client, key, [event(body)])
    events_drain()
    post(api_client, key, [event(body)])
    events_drain()
    rows = list(AdEngagement.objects.order_by("received_at", "id"))
    assert [r.invalid_reason for r in rows] == ["", "duplicate_impression"]
    assert LedgerEntry.objects.count() == 1


def test_a_click_without_an_impression_is_invalid(api_client, setup):
    container, _, key = setup
    post(api_client, key, [event(decision(container), kind="click")])
    events_drain()
    assert AdEngagement.objects.get().invalid_reason == "click_without_impression"


def test_clicks_faster_than_a_person_are_invalid(api_client, setup):
    container, _, key = setup
    body = decision(container)
    shown = timezone.now() - timedelta(seconds=5)
    post(api_client, key, [event(body, at=shown), event(body, kind="click", at=shown + timedelta(milliseconds=50))])
    events_drain()
    click = AdEngagement.objects.get(type="click")
    assert click.invalid_reason == "click_too_fast"


def test_an_implausible_event_rate_from_one_player_is_invalid(api_client, setup, settings):
    settings.EVENTS_MAX_PER_PLAYER_MINUTE = 3
    container, _, key = setup
    body = decision(container)
    post(api_client, key, [event(body, kind="interaction") for _ in range(5)])
    events_drain()
    reasons = sorted(AdEngagement.objects.values_list("invalid_reason", flat=True))
    assert reasons == ["", "", "", "rate_player", "rate_player"]


@pytest.fixture
def cpc_setup():
    container = AdContainerFactory(floor_price_cpm=Decimal("0.5"))
    campaign = CampaignFactory(status="ACTIVE", pricing="CPC", max_bid=Decimal("0.40"), pacing="ASAP")
    CreativeFactory(campaign=campaign, kind=container.type)
    budget_rebuild(campaign_ids=[campaign.pk])
    _, raw, _ = make_api_key(container.game)
    engine.reset()
    return container, campaign, raw


def test_cpc_is_charged_on_the_first_valid_click_only(api_client, cpc_setup):
    container, _campaign, key = cpc_setup
    body = decision(container)
    shown = timezone.now() - timedelta(seconds=10)
    post(api_client, key, [event(body, at=shown)])
    events_drain()
    assert not LedgerEntry.objects.exists()  # CPC pays nothing for the impression
    post(api_client, key, [event(body, kind="click", at=shown + timedelta(seconds=2)),
                           event(body, kind="click", at=shown + timedelta(seconds=4))])  # fmt: skip
    events_drain()
    entry = LedgerEntry.objects.get()
    assert entry.kind == "CLICK_CHARGE"
    # 0.5 floor + 0.01 = 0.51 eCPM at the 1% prior CTR is 0.051 a click
    assert entry.amount == Decimal("0.051000")
    assert AdEngagement.objects.filter(type="click", charged=True).count() == 1


def test_confirmed_spend_never_exceeds_the_budget():
    campaign = CampaignFactory(status="ACTIVE", total_budget=Decimal("0.010"), daily_budget=Decimal("0.008"))
    charges = [Charge(uuid.uuid4(), campaign.pk, Decimal("0.003"), "IMPRESSION_CHARGE") for _ in range(5)]
    outcomes = charges_apply(charges)
    assert list(outcomes.values()) == ["charged", "charged", "budget_exhausted", "budget_exhausted",
                                       "budget_exhausted"]  # fmt: skip
    campaign.refresh_from_db()
    assert campaign.spent == Decimal("0.006") <= campaign.daily_budget
    assert charges_apply(charges[:1]) == {charges[0].decision_id: "already_charged"}


def test_a_drain_killed_between_commit_and_acknowledge_loses_and_doubles_nothing(api_client, setup):
    container, _, key = setup
    bodies = [decision(container, player_id=1001 + i) for i in range(5)]
    batch = [event(b, player_id=1001 + i) for i, b in enumerate(bodies)]
    assert post(api_client, key, batch).json()["accepted"] == 5

    with pytest.raises(SystemExit):
        events_drain(crash_after_commit=True)
    assert AdEngagement.objects.count() == 5  # committed, not acknowledged

    events_drain()  # the restarted worker reads the unacknowledged entries again
    assert AdEngagement.objects.count() == 5
    assert LedgerEntry.objects.count() == 5
    assert get_redis().xlen("{ev}:events") == 0


def test_decisions_missing_from_postgresql_are_rebuilt_from_the_token(api_client, setup):
    container, _campaign, key = setup
    body = decision(container)
    get_redis().delete("{ads}:decisions")  # the decision record was lost with Redis
    post(api_client, key, [event(body)])
    events_drain()
    assert Decision.objects.get(id=body["decision_id"]).state == "CONFIRMED"
    assert LedgerEntry.objects.filter(kind="IMPRESSION_CHARGE").count() == 1


def test_today_counters_are_kept_live(api_client, setup):
    from ads.events import today_counters

    container, campaign, key = setup
    body = decision(container)
    post(api_client, key, [event(body), event(body, kind="click", at=timezone.now() + timedelta(seconds=2))])
    events_drain()
    counters = today_counters("campaign", campaign.pk)
    assert counters["impressions"] == 1 and counters["viewable_impressions"] == 1 and counters["clicks"] == 1
    assert counters["spend_micros"] == 2000


def test_accepted_events_survive_a_redis_crash(api_client, setup, settings, tmp_path):
    """The embedded Redis keeps an append-only file fsynced every second: a kill -9 after that loses nothing."""
    from adplatform.core.embedded import EmbeddedRedis

    container, _, key = setup
    body = decision(container)
    server = EmbeddedRedis(tmp_path / "redis")
    settings.REDIS_URL = server.start()
    reset_redis_client()
    try:
        response = post(api_client, key, [event(body), event(body, kind="interaction")])
        assert response.json()["accepted"] == 2
        time.sleep(1.5)  # appendfsync everysec: past the one-second window
        os.kill(server._server_pid(), signal.SIGKILL)  # then Redis crashes
        server.handles.remove(os.getpid())
        reset_redis_client()
        settings.REDIS_URL = server.start()  # restart from its append-only file
        reset_redis_client()
        events_drain()
        assert AdEngagement.objects.count() == 2
    finally:
        server.release()
        settings.REDIS_URL = settings.REDIS_URL


def test_events_from_another_games_key_are_refused(api_client, setup):
    container, _, _ = setup
    body = decision(container)
    _, other_key, _ = make_api_key(AdContainerFactory().game)
    data = post(api_client, other_key, [event(body)]).json()
    assert data["rejected"][0]["code"] == "token_invalid"


def test_the_response_lists_rejections_with_index_code_and_message(api_client, setup):
    _, _, key = setup
    data = post(api_client, key, [{"type": "impression"}]).json()
    assert data["accepted"] == 0
    assert set(data["rejected"][0]) == {"index", "code", "message"}
    assert json.dumps(data)  # serialisable as the contract says


def test_the_drains_rows_have_exactly_the_engagement_columns():
    from dataclasses import fields

    from ads.events import ENGAGEMENT_COLUMNS, EngagementRow

    assert {f.name for f in fields(EngagementRow)} == set(ENGAGEMENT_COLUMNS)
