"""Stream drains take over a stopped drainer's entries at once, and leave a live one's alone."""

from __future__ import annotations

import time
from typing import Any, cast

import pytest

from adplatform.core.redis import get_redis
from ads.events import EVENT_STREAM, events_drain
from ads.models import AdEngagement, Decision
from ads.streams import DECISION_STREAM, GROUP, alive_key, drain_decisions, ensure_group
from ads.tasks import _exclusive
from ads.tests.test_events import decision, event, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    """A campaign that fills the container, and the game's key (as in test_events)."""
    from decimal import Decimal
    from unittest import mock

    from ads.budget import budget_rebuild
    from ads.decisions import engine
    from ads.tests.factories import CampaignFactory, CreativeFactory
    from games.tests.factories import AdContainerFactory, make_api_key

    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        container = AdContainerFactory(floor_price_cpm=Decimal("1.99"))
        campaign = CampaignFactory(status="ACTIVE", max_bid=Decimal("5"), pacing="ASAP", total_budget=Decimal("10"))
        CreativeFactory(campaign=campaign, kind=container.type)
    budget_rebuild(campaign_ids=[campaign.pk])
    _, raw, _ = make_api_key(container.game)
    engine.reset()
    return container, campaign, raw


def _read_as(consumer: str, stream: str) -> list:
    """What a drainer that then died had read: entries pending under its name."""
    client = get_redis()
    ensure_group(client, stream)
    response = client.xreadgroup(GROUP, consumer, {stream: ">"}, count=100)
    return cast(list[list[Any]], response)[0][1] if response else []  # RESP2: [[stream, entries]]


def test_a_dead_drainers_decisions_are_taken_over_at_once(setup):
    container, _, _ = setup
    bodies = [decision(container, player_id=2000 + i) for i in range(3)]
    assert len(_read_as("gone-host-1-1", DECISION_STREAM)) == 3  # read, never acknowledged; no alive key

    drain_decisions()  # no idle timeout to wait for

    assert Decision.objects.filter(id__in=[b["decision_id"] for b in bodies]).count() == 3
    assert get_redis().xpending(DECISION_STREAM, GROUP)["pending"] == 0


def test_a_live_drainers_entries_are_left_to_it(setup):
    container, _, _ = setup
    bodies = [decision(container, player_id=3000 + i) for i in range(2)]
    client = get_redis()
    client.set(alive_key(DECISION_STREAM, "busy-host-2-2"), "1", px=5000)  # renewing: alive
    assert len(_read_as("busy-host-2-2", DECISION_STREAM)) == 2

    drain_decisions()

    assert Decision.objects.filter(id__in=[b["decision_id"] for b in bodies]).count() == 0
    assert client.xpending(DECISION_STREAM, GROUP)["pending"] == 2
    client.delete(alive_key(DECISION_STREAM, "busy-host-2-2"))  # it died
    drain_decisions()
    assert Decision.objects.filter(id__in=[b["decision_id"] for b in bodies]).count() == 2


def test_a_dead_drainers_events_are_stored_and_billed_once(api_client, setup):
    container, _, key = setup
    bodies = [decision(container, player_id=4000 + i) for i in range(4)]
    assert post(api_client, key, [event(b, player_id=4000 + i) for i, b in enumerate(bodies)]).json()["accepted"] == 4
    drain_decisions()
    assert len(_read_as("gone-host-3-3", EVENT_STREAM)) == 4

    events_drain()

    assert AdEngagement.objects.count() == 4
    assert get_redis().xpending(EVENT_STREAM, GROUP)["pending"] == 0


def test_a_task_lock_is_a_short_lease_renewed_while_the_task_runs():
    client = get_redis()
    with _exclusive("lease-test", seconds=2) as mine:
        assert mine
        with _exclusive("lease-test", seconds=2) as again:
            assert not again  # held
        time.sleep(2.5)  # longer than the lease: renewed meanwhile
        assert client.exists("lock:lease-test")
        assert 0 < client.pttl("lock:lease-test") <= 2000
    assert not client.exists("lock:lease-test")  # released at the end
