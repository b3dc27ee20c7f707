"""One truth everywhere within a second: a revoked key, a switched-off or deleted container and a paused
campaign stop working in every process of a two-process server within 1 s of the change (measured).

Keys are forgotten through an invalidation message every process listens to; containers and campaigns
through the serving version, which the decision script checks on every decision.
"""

from __future__ import annotations

import http.client
import json
import time
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection

from adplatform.core import invalidation
from adplatform.core.localcache import TTLCache
from adplatform.core.serving import serving_version_bump
from ads import services as ad_services
from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory
from conftest import WsgiServer
from games import services as game_services
from games.tests.factories import AdContainerFactory, make_api_key

pytestmark = pytest.mark.django_db(transaction=True)

PROMISE = 1.0  # seconds


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        process = WsgiServer(workers=2, threads=2).start()
    yield process
    process.stop()


@pytest.fixture
def serving():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        container = AdContainerFactory(floor_price_cpm=Decimal("1"))
    serving_version_bump("container created")
    campaign = CampaignFactory(max_bid=Decimal("5"), advertiser=AdvertiserFactory(), pacing="ASAP")
    CreativeFactory(campaign=campaign, kind=container.type)
    ad_services.campaign_activate(campaign=campaign)
    key, raw, _ = make_api_key(container.game)
    yield container, campaign, key, raw
    connection.close()


class Client:
    """Keep-alive connections, several of them, so both worker processes answer."""

    def __init__(self, server, raw_key: str, n: int = 6):
        self.conns = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=10) for _ in range(n)]
        self.key = raw_key
        self.turn = 0

    def decide(self, container_id: int) -> tuple[int, dict]:
        conn = self.conns[self.turn % len(self.conns)]
        self.turn += 1
        body = json.dumps({"container_id": container_id, "player": {"id": self.turn, "ads_allowed": True}})
        conn.request("POST", "/api/v1/decisions", body, {"Content-Type": "application/json", "X-API-Key": self.key})
        response = conn.getresponse()
        return response.status, json.loads(response.read())

    def until(self, container_id: int, stopped, *, timeout: float = 10.0, streak: int = 24) -> float:
        """Seconds until ``streak`` answers in a row (over every connection) satisfy ``stopped``."""
        started, run = time.monotonic(), 0
        while run < streak:
            answer = self.decide(container_id)
            assert time.monotonic() - started < timeout, f"the change never reached every process: {answer}"
            run = run + 1 if stopped(*answer) else 0
        return time.monotonic() - started


def _warm(client: Client, container_id: int) -> None:
    for _ in range(24):
        status, body = client.decide(container_id)
        assert status == 200 and body.get("source") == "campaign", body


def test_a_revoked_key_stops_in_every_process_within_a_second(server, serving):
    container, _, key, raw = serving
    client = Client(server, raw)
    _warm(client, container.pk)  # both processes hold the key in their caches now
    game_services.api_key_revoke(key=key)
    assert client.until(container.pk, lambda status, body: status == 401) < PROMISE


def test_a_switched_off_container_stops_in_every_process_within_a_second(server, serving):
    container, _, _, raw = serving
    client = Client(server, raw)
    _warm(client, container.pk)
    game_services.container_set_status(container=container, status="INACTIVE")
    took = client.until(container.pk, lambda status, body: body.get("reason") == "container_inactive")
    assert took < PROMISE


def test_a_deleted_container_stops_in_every_process_within_a_second(server, serving):
    container, _, _, raw = serving
    client = Client(server, raw)
    container_id = container.pk
    _warm(client, container_id)
    game_services.container_delete(container=container)
    assert client.until(container_id, lambda status, body: status == 404) < PROMISE


def test_a_paused_campaign_stops_in_every_process_within_a_second(server, serving):
    container, campaign, _, raw = serving
    client = Client(server, raw)
    _warm(client, container.pk)
    ad_services.campaign_pause(campaign=campaign)
    assert client.until(container.pk, lambda status, body: body.get("source") != "campaign") < PROMISE


def test_a_listener_that_lost_redis_forgets_everything_it_may_have_missed():
    cache: TTLCache[str] = TTLCache(ttl=60, name="test-cache")
    cache.get_or_load("k", lambda: "old")
    assert invalidation.wait_connected()
    invalidation._clear_all()  # what a (re)subscription does first
    assert cache.get_or_load("k", lambda: "new") == "new"


def test_an_invalidation_reaches_a_named_cache_and_a_load_in_flight_is_not_kept():
    cache: TTLCache[str] = TTLCache(ttl=60, name="test-cache-2")
    assert cache.get_or_load("k", lambda: "v1") == "v1"
    assert invalidation.wait_connected()
    invalidation.publish("test-cache-2", "k")  # outside a transaction: sent at once
    deadline = time.monotonic() + 5
    while cache.get_or_load("k", lambda: "v2") != "v2":
        assert time.monotonic() < deadline
        time.sleep(0.01)

    def racing_load():
        cache.invalidate("k")  # an invalidation lands while the row is being read
        return "stale"

    cache.invalidate("k")
    assert cache.get_or_load("k", racing_load) == "stale"
    assert cache.get_or_load("k", lambda: "fresh") == "fresh"  # the stale read was not kept
