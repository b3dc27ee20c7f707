"""Scale-out: two web processes serving decisions for one campaign share its budget exactly."""

import json
import threading
import urllib.request
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
            body = json.dumps({"container_id": container.pk, "player": {"id": n * 100 + i + 1, "ads_allowed": True}})
            request = urllib.request.Request(
                f"{base}/api/v1/decisions", data=body.encode(), method="POST",
                headers={"Content-Type": "application/json", "X-API-Key": key},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    answer = json.loads(response.read())
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
