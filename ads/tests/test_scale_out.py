"""Scale-out: two web processes serving decisions for one campaign share its budget exactly."""

import json
import threading
import time
import urllib.request
import uuid
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection

from ads.budget import budget_rebuild
from ads.models import Decision
from ads.streams import drain_decisions
from ads.tests.factories import CampaignFactory, CreativeFactory
from games.tests.factories import AdContainerFactory, make_api_key

pytestmark = pytest.mark.django_db(transaction=True)


def _post(base: str, path: str, key: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base}{path}", data=json.dumps(payload).encode(), method="POST",
        headers={"Content-Type": "application/json", "X-API-Key": key},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_budgets_hold_across_two_web_processes(asgi_server_factory):
    # given: one campaign whose budget covers exactly 40 decisions (1.00 CPM -> 0.001 each)
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        container = AdContainerFactory(floor_price_cpm=Decimal("0.99"))
        campaign = CampaignFactory(status="ACTIVE", max_bid=Decimal("5"), total_budget=Decimal("0.040"), pacing="ASAP")
        CreativeFactory(campaign=campaign, kind=container.type)
    budget_rebuild(campaign_ids=[campaign.pk])
    _, key, _ = make_api_key(container.game)
    servers = [asgi_server_factory(), asgi_server_factory()]
    filled: list[bool] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        base = servers[n % 2].url
        for i in range(25):
            ask = {"container_id": container.pk, "player": {"id": n * 100 + i + 1, "ads_allowed": True}}
            try:
                _, answer = _post(base, "/api/v1/decisions", key, ask)
            except Exception as exc:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(repr(exc) + (exc.read().decode()[:300] if hasattr(exc, "read") else ""))
                return
            with lock:
                filled.append(answer["filled"] and answer.get("source") == "campaign")

    # when: 8 clients spread over both processes ask for 200 decisions at once
    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then: exactly the budget was reserved, whichever process served
    assert errors == []
    assert len(filled) == 200
    assert filled.count(True) == 40
    drain_decisions()
    reserved = Decision.objects.filter(campaign=campaign, state="RESERVED")
    assert reserved.count() == 40
    assert sum(d.reserved_amount for d in reserved) == campaign.total_budget
    connection.close()


VIEWABLE = {"duration_ms": 1500, "screen_coverage": 0.04, "visible_fraction": 0.9, "angle_deg": 20}


def test_two_web_processes_and_two_celery_workers_bill_every_impression_once(
    asgi_server_factory, celery_worker_factory
):
    """The whole money path scaled out: decisions on two processes, events posted to both (a game server
    retrying on the other process after a lost answer), drained and billed by two Celery workers."""
    from django.utils import timezone

    from ads.models import AdEngagement, Campaign, LedgerEntry
    from ads.tasks import drain_events

    # given: a campaign whose budget covers exactly 40 impressions (1.00 CPM -> 0.001 each)
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        container = AdContainerFactory(floor_price_cpm=Decimal("0.99"))
        campaign = CampaignFactory(status="ACTIVE", max_bid=Decimal("5"), total_budget=Decimal("0.040"), pacing="ASAP")
        CreativeFactory(campaign=campaign, kind=container.type)
    budget_rebuild(campaign_ids=[campaign.pk])
    _, key, _ = make_api_key(container.game)
    servers = [asgi_server_factory(), asgi_server_factory()]
    workers = [celery_worker_factory("w1"), celery_worker_factory("w2")]
    for worker in workers:  # both consuming before the load starts, so both take drain tasks
        worker.wait_ready()
    answers: list[tuple[int, dict]] = []
    errors: list[str] = []
    lock = threading.Lock()
    clients_done = threading.Event()

    def client(n: int) -> None:
        for i in range(25):
            player = n * 100 + i + 1
            try:
                ask = {"container_id": container.pk, "player": {"id": player, "ads_allowed": True}}
                _, body = _post(servers[(n + i) % 2].url, "/api/v1/decisions", key, ask)
                if not (body["filled"] and body.get("source") == "campaign"):
                    continue
                batch = {"server_id": f"sim-{n}", "events": [{
                    "event_id": str(uuid.uuid4()), "type": "impression", "decision_id": body["decision_id"],
                    "tracking_token": body["tracking_token"], "player_id": player,
                    "occurred_at": timezone.now().isoformat(), "viewability": VIEWABLE,
                }]}  # fmt: skip
                for server in servers:  # the same batch to both processes
                    answer = _post(server.url, "/api/v1/events", key, batch)
                    with lock:
                        answers.append(answer)
            except Exception as exc:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(repr(exc) + (exc.read().decode()[:300] if hasattr(exc, "read") else ""))
                return

    def beat() -> None:  # what beat does every second, faster: drain tasks through the broker
        while not clients_done.is_set():
            drain_events.delay()
            time.sleep(0.05)

    # when: 8 clients ask for 200 decisions over both processes while drain tasks keep flowing
    ticker = threading.Thread(target=beat)
    ticker.start()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    clients_done.set()
    ticker.join()
    assert errors == []
    deadline = time.monotonic() + 60
    while AdEngagement.objects.filter(campaign_id=campaign.pk).count() < 40 and time.monotonic() < deadline:
        drain_events.delay()
        for worker in workers:
            worker.assert_alive()
        time.sleep(0.3)

    # then: each impression was accepted once and stored once, and billed once, within the budget
    assert all(status == 202 for status, _ in answers)
    assert sum(body["accepted"] for _, body in answers) == 40
    assert sum(body["duplicates"] for _, body in answers) == 40
    assert AdEngagement.objects.filter(campaign_id=campaign.pk).count() == 40
    charges = LedgerEntry.objects.filter(campaign=campaign, kind="IMPRESSION_CHARGE")
    assert charges.count() == 40
    assert charges.values("decision_id").distinct().count() == 40
    assert sum(c.amount for c in charges) == campaign.total_budget
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.spent == campaign.total_budget
    assert Decision.objects.filter(campaign=campaign, state="CONFIRMED").count() == 40
    # and both workers took drain tasks from the one broker (more are sent until both have, as beat would)
    deadline = time.monotonic() + 30
    while not all("ads.tasks.drain_events" in w.output() for w in workers) and time.monotonic() < deadline:
        drain_events.delay()
        time.sleep(0.2)
    for worker in workers:
        assert "ads.tasks.drain_events" in worker.output(), worker.output()[-2000:]
    assert LedgerEntry.objects.filter(campaign=campaign).count() == 40  # still once each
    connection.close()
