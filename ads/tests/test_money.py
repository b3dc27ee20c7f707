"""Money that adds up, tested the way production breaks it.

A real granian server with two worker processes (the README's deployment) on the test database and Redis
takes concurrent decisions for fresh campaigns, activated through the service a moment before. Every
scenario asserts the exact number of fills the budget allows and zero free impressions: reserved +
confirmed never goes beyond a budget, in Redis or in PostgreSQL, including right after activation,
after a budget change and after Redis loses its data.
"""

from __future__ import annotations

import http.client
import json
import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from adplatform.core.redis import get_redis
from adplatform.core.serving import serving_version_bump
from ads import budget, services
from ads.models import Campaign, Decision, DecisionState
from ads.streams import drain_decisions
from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory
from conftest import WsgiServer
from games.tests.factories import AdContainerFactory, make_api_key

pytestmark = pytest.mark.django_db(transaction=True)

PRICE = Decimal("0.01")  # one bidder over a 9.99 floor clears at 10.00 CPM: 0.01 a decision


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    """One two-process granian for the module (each test's data is committed, so its processes see it)."""
    with django_db_blocker.unblock():
        process = WsgiServer(workers=2, threads=4).start()
    yield process
    process.stop()


@pytest.fixture
def game_setup():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        container = AdContainerFactory(floor_price_cpm=Decimal("9.99"))
    serving_version_bump("container created")  # as games.services.container_create does
    _, key, _ = make_api_key(container.game)
    return container, key


def live_campaign(container, *, bid="20", **fields) -> Campaign:
    """A fresh campaign made live the way users do it: through the activation service, no manual rebuild."""
    campaign = CampaignFactory(max_bid=Decimal(bid), advertiser=AdvertiserFactory(), pacing="ASAP", **fields)
    CreativeFactory(campaign=campaign, kind=container.type)
    return services.campaign_activate(campaign=campaign)


def storm(server, key, container, *, requests: int, threads: int, players: int | None = None) -> list[dict]:
    """``requests`` decisions from ``threads`` keep-alive clients at once; every answer, in no order."""
    answers: list[dict] = []
    errors: list[str] = []
    lock = threading.Lock()
    per_thread = requests // threads

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            for i in range(per_thread):
                player = (n * per_thread + i) % players + 1 if players else n * 100_000 + i + 1
                body = json.dumps({"container_id": container.pk, "player": {"id": player, "ads_allowed": True}})
                conn.request("POST", "/api/v1/decisions", body, {"Content-Type": "application/json", "X-API-Key": key})
                response = conn.getresponse()
                payload = response.read()
                with lock:
                    if response.status != 200:
                        errors.append(f"{response.status} {payload[:300]!r}")
                    else:
                        answers.append(json.loads(payload))
        except Exception as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(repr(exc))
        finally:
            conn.close()

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert not errors, errors[:5]
    assert len(answers) == per_thread * threads
    return answers


def fills(answers: list[dict], campaign: Campaign) -> int:
    return sum(1 for a in answers if a.get("source") == "campaign" and a["campaign_id"] == campaign.pk)


def free_impressions(campaign: Campaign) -> Decimal:
    """What was reserved beyond the budget, in Redis and in PostgreSQL (after draining): never above 0."""
    drain_decisions()
    campaign.refresh_from_db()
    open_and_confirmed = Decision.objects.filter(
        campaign=campaign, state__in=[DecisionState.RESERVED, DecisionState.CONFIRMED]
    )
    in_postgres = sum((d.reserved_amount for d in open_and_confirmed), Decimal("0"))
    in_redis = budget.from_micros(budget.committed_micros(campaign.pk))
    assert in_redis == in_postgres, (in_redis, in_postgres)  # both stores agree, to the micro-dollar
    return max(Decimal("0"), in_postgres - campaign.total_budget)


def test_a_fresh_campaign_fills_its_total_budget_exactly_across_two_processes(server, game_setup):
    # given: the server's processes already serve (their index predates the campaign)
    container, key = game_setup
    assert storm(server, key, container, requests=4, threads=2)[0]["filled"] is False
    campaign = live_campaign(container, total_budget=Decimal("0.50"))  # room for exactly 50 decisions

    # when: the very first decision after activation, then 400 more from 40 clients at once
    first = storm(server, key, container, requests=1, threads=1)
    answers = first + storm(server, key, container, requests=400, threads=40)

    # then: the first one filled, and exactly 50 filled in all; nothing reserved beyond the budget
    assert first[0]["source"] == "campaign", first
    assert fills(answers, campaign) == 50
    assert free_impressions(campaign) == 0
    refusals = {a["reason"] for a in answers if not a["filled"]}
    assert refusals == {"budget_exhausted"}  # truthful: not "budget_or_cap", never "budget_state_missing"


def test_a_daily_budget_fills_exactly(server, game_setup):
    container, key = game_setup
    campaign = live_campaign(container, total_budget=Decimal("100"), daily_budget=Decimal("0.30"))
    answers = storm(server, key, container, requests=300, threads=30)
    assert fills(answers, campaign) == 30
    assert budget.budget_state(campaign.pk)["today"] == budget.to_micros(Decimal("0.30"))
    assert {a["reason"] for a in answers if not a["filled"]} == {"daily_budget_exhausted"}
    assert free_impressions(campaign) == 0


def test_a_frequency_cap_holds_for_every_player(server, game_setup):
    container, key = game_setup
    campaign = live_campaign(
        container, total_budget=Decimal("100"), frequency_cap_count=3, frequency_cap_period_seconds=3600
    )
    answers = storm(server, key, container, requests=300, threads=30, players=10)
    assert fills(answers, campaign) == 30  # 10 players x 3
    assert {a["reason"] for a in answers if not a["filled"]} == {"frequency_capped"}


def test_competing_campaigns_each_stop_at_their_budget(server, game_setup):
    container, key = game_setup
    campaigns = [live_campaign(container, bid=bid, total_budget=Decimal("0.20")) for bid in ("20", "15", "12")]
    answers = storm(server, key, container, requests=400, threads=40)
    for campaign in campaigns:
        assert free_impressions(campaign) == 0
        # and each was filled up to what its budget allows: less than the cheapest price left
        assert campaign.total_budget - budget.from_micros(budget.committed_micros(campaign.pk)) < PRICE
    assert sum(fills(answers, c) for c in campaigns) == sum(
        Decision.objects.filter(campaign=c).count() for c in campaigns
    )


def test_after_redis_loses_its_data_the_budget_still_holds(server, game_setup):
    # given: 20 of 50 decisions served and drained to PostgreSQL (the worker drains every second)
    container, key = game_setup
    campaign = live_campaign(container, total_budget=Decimal("0.50"))
    before = storm(server, key, container, requests=20, threads=1)
    assert fills(before, campaign) == 20
    drain_decisions()

    # when: Redis restarts empty, and 400 decisions arrive at once from both processes
    get_redis().flushdb()
    after = storm(server, key, container, requests=400, threads=40)

    # then: exactly the 30 left, the first of them without waiting for a person or a job
    assert fills(after, campaign) == 30
    assert free_impressions(campaign) == 0


def test_budget_changes_take_effect_at_once_in_every_process(server, game_setup):
    container, key = game_setup
    campaign = live_campaign(container, total_budget=Decimal("0.30"))
    assert fills(storm(server, key, container, requests=100, threads=10), campaign) == 30

    # a raise lets exactly the difference through, in both processes, with no reload to wait for
    services.campaign_update(campaign=campaign, data={"total_budget": "0.50"})
    assert fills(storm(server, key, container, requests=100, threads=10), campaign) == 20

    # a cut below what is already committed is refused, and changes nothing
    with pytest.raises(ValidationError) as refused:
        services.campaign_update(campaign=campaign, data={"total_budget": "0.40"})
    assert "total_budget" in refused.value.message_dict
    campaign.refresh_from_db()
    assert campaign.total_budget == Decimal("0.50")
    assert budget.budget_state(campaign.pk)["total"] == budget.to_micros(Decimal("0.50"))
    assert free_impressions(campaign) == 0


@pytest.mark.parametrize("drained", [True, False], ids=["reservations-in-postgresql", "reservations-still-streamed"])
def test_a_cut_with_no_budget_state_in_redis_is_judged_by_what_is_committed(server, game_setup, drained):
    """Cold state: Redis lost the campaign's budget state (a restart, a flush). A cut below what PostgreSQL
    and the decision stream hold is refused; a cut that leaves room passes and is in force at once."""
    container, key = game_setup
    campaign = live_campaign(container, total_budget=Decimal("0.30"))
    assert fills(storm(server, key, container, requests=20, threads=4), campaign) == 20  # 0.20 reserved
    if drained:
        drain_decisions()
    client = get_redis()
    client.delete(budget.state_key(campaign.pk))  # the state is gone; the stream may still hold reservations
    assert budget.budget_state(campaign.pk) is None

    with pytest.raises(ValidationError) as refused:
        services.campaign_update(campaign=campaign, data={"total_budget": "0.15"})
    assert "total_budget" in refused.value.message_dict
    campaign.refresh_from_db()
    assert campaign.total_budget == Decimal("0.30")

    services.campaign_update(campaign=campaign, data={"total_budget": "0.25"})  # 0.05 of room left
    assert fills(storm(server, key, container, requests=40, threads=4), campaign) == 5
    assert free_impressions(campaign) == 0


@pytest.fixture(autouse=True)
def _close_connections():
    yield
    connection.close()
