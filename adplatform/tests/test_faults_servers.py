"""Fault tests on real server processes: a web worker killed mid-request, Redis stopped under load and restarted
empty, PostgreSQL restarted. Each asserts no 500, nothing doubled, and how long recovery took.

Only private servers are stopped (own port, own temp folder); the machine's are never touched.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection

from adplatform.tests.private_servers import GranianServer, children
from ads.budget import budget_rebuild
from ads.models import Decision
from ads.streams import drain_decisions
from ads.tests.factories import CampaignFactory, CreativeFactory
from games.tests.factories import AdContainerFactory, make_api_key

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]


def _campaign(budget: str = "5.000"):
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        container = AdContainerFactory(floor_price_cpm=Decimal("0.99"))
        campaign = CampaignFactory(status="ACTIVE", max_bid=Decimal("5"), total_budget=Decimal(budget), pacing="ASAP")
        CreativeFactory(campaign=campaign, kind=container.type)
    budget_rebuild(campaign_ids=[campaign.pk])
    _, key, _ = make_api_key(container.game)
    return container, campaign, key


class Load:
    """Threads asking for decisions in a loop until stopped; every outcome is kept with its time."""

    def __init__(self, url: str, key: str, container_id: int, threads: int = 3, build=None):
        self.url, self.key, self.container_id, self.threads = url, key, container_id, threads
        self.build = build  # another request than a decision: build(player) -> urllib Request
        self.outcomes: list[tuple[float, int | str, dict]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._player = 0

    def _one(self) -> None:
        with self._lock:
            self._player += 1
            player = self._player
        body = json.dumps({"container_id": self.container_id, "player": {"id": player, "ads_allowed": True}})
        request = self.build(player) if self.build else urllib.request.Request(
            f"{self.url}/api/v1/decisions", data=body.encode(), method="POST",
            headers={"Content-Type": "application/json", "X-API-Key": self.key},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                outcome: tuple = (response.status, json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            outcome = (exc.code, json.loads(exc.read() or b"{}"))
        except (OSError, ValueError, http.client.HTTPException) as exc:
            # refused, reset, or cut mid-answer (IncompleteRead: the worker died while writing): no whole answer
            outcome = (f"conn:{type(exc).__name__}", {})
        with self._lock:
            self.outcomes.append((time.monotonic(), *outcome))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._one()

    def start(self) -> Load:
        self._workers = [threading.Thread(target=self._loop, daemon=True) for _ in range(self.threads)]
        for worker in self._workers:
            worker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=15)

    def statuses(self, since: float = 0.0) -> Counter:
        with self._lock:
            return Counter(status for at, status, _ in self.outcomes if at >= since)

    def filled_ids(self) -> list[str]:
        with self._lock:
            return [b["decision_id"] for _, s, b in self.outcomes if s == 200 and b.get("filled") and
                    b.get("source") == "campaign"]  # fmt: skip

    def first_success_after(self, moment: float) -> float | None:
        with self._lock:
            times = [at for at, status, _ in self.outcomes if at > moment and status == 200]
        return min(times) if times else None


def _wait(condition, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def _assert_no_server_error(load: Load) -> None:
    statuses = load.statuses()
    errors = {s: n for s, n in statuses.items() if isinstance(s, int) and s >= 500 and s != 503}
    assert not errors, (statuses, [o for o in load.outcomes if isinstance(o[1], int) and o[1] >= 500][:3])


def _assert_each_answer_stored_once(load: Load, campaign) -> None:
    drain_decisions()
    answered = load.filled_ids()
    assert len(answered) == len(set(answered))  # no decision id answered twice
    stored = set(Decision.objects.filter(campaign=campaign).values_list("id", flat=True))
    assert {str(i) for i in stored} >= set(answered)  # every answered paid decision is in PostgreSQL
    reserved = sum(d.reserved_amount for d in Decision.objects.filter(campaign=campaign))
    assert reserved <= campaign.total_budget  # never more than the budget, whatever died


def test_a_web_worker_killed_mid_request_is_respawned_and_nothing_is_a_500():
    from conftest import _subprocess_env

    container, campaign, key = _campaign()
    server = GranianServer(_subprocess_env(LOG_LEVEL="WARNING")).start()
    load = Load(server.url, key, container.pk).start()
    try:
        assert _wait(lambda: load.statuses()[200] >= 10, 60), load.statuses()
        before = set(children(server.process.pid))
        victim = sorted(before)[0]

        # when: one of the two workers is killed outright while requests are in flight
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()

        # then: granian starts a new worker and keeps serving
        def respawned() -> bool:
            now = set(children(server.process.pid))
            return len(now) >= 2 and victim not in now

        assert _wait(respawned, 30), server.output()[-3000:]
        respawn = time.monotonic() - killed
        back = time.monotonic()
        assert _wait(lambda: load.statuses(since=back)[200] >= 5, 60), load.statuses()  # serving on
        assert server.process.poll() is None
    finally:
        load.stop()
        server.stop()
    _assert_no_server_error(load)
    lost = sum(n for s, n in load.statuses().items() if isinstance(s, str))
    assert load.statuses()[200] >= 15
    _assert_each_answer_stored_once(load, campaign)
    print(f"RELIABILITY granian_worker_kill respawn_s={respawn:.1f} requests={sum(load.statuses().values())} "
          f"connection_errors={lost} http_5xx=0")  # fmt: skip
    connection.close()


def test_redis_stopped_under_load_and_restarted_empty_degrades_then_recovers(settings):
    from adplatform.core.redis import reset_redis_client
    from adplatform.tests.private_servers import PrivateRedis
    from conftest import _subprocess_env

    redis_server = PrivateRedis().start()  # no persistence: it comes back empty
    url = f"redis://127.0.0.1:{redis_server.port}/{settings.TEST_REDIS_DB}"
    settings.REDIS_URL = url
    reset_redis_client()
    try:
        container, campaign, key = _campaign()
        server = GranianServer(_subprocess_env(LOG_LEVEL="WARNING", REDIS_URL=url)).start()
        load = Load(server.url, key, container.pk).start()
        drained = threading.Event()
        drains: list[tuple[float, float]] = []  # (started, finished) of each drain that succeeded

        def drainer() -> None:  # what the worker does every second
            while not drained.is_set():
                started = time.monotonic()
                try:
                    drain_decisions()
                    drains.append((started, time.monotonic()))
                except Exception:  # noqa: BLE001 - Redis is away for a while: retried
                    reset_redis_client()
                drained.wait(0.3)
            connection.close()

        drain_thread = threading.Thread(target=drainer, daemon=True)
        drain_thread.start()
        try:
            assert _wait(lambda: load.statuses()[200] >= 10, 60), load.statuses()
            # when: Redis stops under load for a few seconds, and comes back empty
            redis_server.stop()
            stopped = time.monotonic()
            time.sleep(3)
            redis_server.wipe()
            redis_server.start()
            back = time.monotonic()
            reset_redis_client()

            # then: decisions fill again within seconds (the budget state rebuilt from PostgreSQL)
            def filling() -> bool:
                with load._lock:
                    return any(at > back and st == 200 and b.get("source") == "campaign"
                               for at, st, b in load.outcomes)  # fmt: skip

            assert _wait(filling, 60), load.statuses(since=back)
            recovery = time.monotonic() - back
            during = load.statuses(since=stopped)
        finally:
            load.stop()
            drained.set()
            drain_thread.join(timeout=15)
            server.stop()
        _assert_no_server_error(load)
        assert server.process is None
        # every paid decision answered is in PostgreSQL, except those still waiting in the stream when Redis
        # went away without persistence (the README's documented loss: the last moment before the crash)
        drain_decisions()
        answered = load.filled_ids()
        assert len(answered) == len(set(answered))
        stored = {str(i) for i in Decision.objects.filter(campaign=campaign).values_list("id", flat=True)}
        with load._lock:
            lost_at = [
                at for at, st, b in load.outcomes if st == 200 and b.get("decision_id") in set(answered) - stored
            ]
        # a drain that started at T and finished before the stop stored everything answered before T
        last_safe = max(start for start, end in drains if end < stopped)
        assert all(last_safe <= at <= back for at in lost_at), (len(lost_at), last_safe, stopped, back)
        lost_window = f"{min(lost_at) - stopped:+.1f}..{max(lost_at) - stopped:+.1f} s" if lost_at else "none"
        reserved = sum(d.reserved_amount for d in Decision.objects.filter(campaign=campaign))
        assert reserved <= campaign.total_budget
        print(f"RELIABILITY redis_restart_empty recovery_s={recovery:.1f} during_outage={dict(during)} "
              f"lost_unpersisted={len(lost_at)} (answered {lost_window} around the stop, not yet drained; last "
              f"drain started {stopped - last_safe:.1f} s before) http_5xx_other_than_503=0")  # fmt: skip
    finally:
        reset_redis_client()
        redis_server.close()
        connection.close()


def test_postgresql_restarted_under_load_answers_503_not_500_and_recovers():
    import subprocess
    import sys
    from pathlib import Path

    from adplatform.tests.private_servers import PrivatePostgres
    from conftest import _subprocess_env

    pg = PrivatePostgres().start()
    try:
        subprocess.run([str(pg.bin / "createdb"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "faults"],
                       check=True)  # fmt: skip
        env = _subprocess_env(LOG_LEVEL="WARNING", DATABASE_URL=pg.url("faults"))
        root = Path(__file__).resolve().parents[2]
        # The migrated test database copied over (seconds, where running every migration takes a minute); the
        # migrations themselves when it cannot be (an embedded server of another PostgreSQL version)
        cfg = connection.settings_dict
        dump = subprocess.run(
            [str(pg.bin / "pg_dump"), "--no-owner", "--no-privileges", "-h", cfg["HOST"] or "127.0.0.1",
             "-p", str(cfg["PORT"] or 5432), "-U", cfg["USER"] or "postgres", cfg["NAME"]],
            capture_output=True, timeout=120,
        )  # fmt: skip
        if dump.returncode == 0:
            restored = subprocess.run(
                [str(pg.bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(pg.port),
                 "-U", "postgres", "faults"], input=dump.stdout, capture_output=True, timeout=120,
            )  # fmt: skip
            assert restored.returncode == 0, restored.stderr.decode(errors="replace")[-2000:]
        else:
            subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=root, env=env, check=True, timeout=300)
        seeded = subprocess.run([sys.executable, "manage.py", "seed_demo", "--json"], cwd=root, env=env,
                                check=True, capture_output=True, text=True, timeout=120)  # fmt: skip
        demo = json.loads(seeded.stdout[seeded.stdout.index("{") :])
        server = GranianServer(env).start()

        def manage_request(player: int):  # a page of the management API: PostgreSQL on every request
            return urllib.request.Request(
                f"{server.url}/api/v1/manage/games/", headers={"Authorization": f"Token {demo['owner_token']}"}
            )

        decisions = Load(server.url, demo["api_key"], demo["container_ids"][0], threads=2).start()
        manage = Load(server.url, "", 0, threads=2, build=manage_request).start()
        try:
            assert _wait(lambda: manage.statuses()[200] >= 5 and decisions.statuses()[200] >= 5, 60)
            # when: PostgreSQL restarts (fast shutdown: every connection dropped)
            pg.stop("fast")
            stopped = time.monotonic()
            time.sleep(2)
            pg.start()
            back = time.monotonic()
            # then: the management API answers again within seconds
            assert _wait(lambda: manage.first_success_after(back) is not None, 60), manage.statuses(since=back)
            recovery = manage.first_success_after(back) - back
            during = manage.statuses(since=stopped)
            time.sleep(1)
        finally:
            decisions.stop()
            manage.stop()
            server.stop()
        for load in (decisions, manage):
            _assert_no_server_error(load)
        answered = decisions.filled_ids()
        assert len(answered) == len(set(answered))
        print(f"RELIABILITY postgres_restart recovery_s={recovery:.1f} manage_during={dict(during)} "
              f"decisions={dict(decisions.statuses())}")  # fmt: skip
    finally:
        pg.close()
