"""Event ingestion: events/s accepted in batches of 100, and the lag until all are durable in PostgreSQL.

    .venv/bin/python bench/events.py [--duration 10] [--batch 100] [--rate 5000]

A drain worker (the same code the Celery task runs) works in the background during the load, as in
production. Two phases: as many batches as 4 clients can send (the most the endpoint accepts), then,
once that backlog is stored, the target's 5,000 events/s offered on schedule, and the time from its
last response until every event of it is in PostgreSQL. Baseline in the same run: the same endpoint
with an empty batch (auth, parsing, response: everything but the events). Target (DESIGN.md):
>= 5,000 events/s, all durable within 5 s.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

VIEWABLE = {"duration_ms": 1500, "screen_coverage": 0.04, "visible_fraction": 0.9, "angle_deg": 20}


@dataclass
class EventBatch:
    key: str
    decisions: list[dict]
    size: int

    def __call__(self, n: int):
        now = datetime.now(UTC).isoformat()
        events = []
        for i in range(self.size):
            d = self.decisions[(n * self.size + i) % len(self.decisions)]
            events.append({
                "event_id": str(uuid.uuid4()), "type": "impression" if i % 4 else "interaction",
                "decision_id": d["decision_id"], "tracking_token": d["tracking_token"], "player_id": d["player"],
                "occurred_at": now, "viewability": VIEWABLE,
            })  # fmt: skip
        body = json.dumps({"events": events, "server_id": f"bench-{n % 8}"}).encode()
        return "POST", "/api/v1/events", body, {"Content-Type": "application/json", "X-API-Key": self.key}


@dataclass
class EmptyBatch:
    key: str

    def __call__(self, n: int):
        return "POST", "/api/v1/events", b'{"events": []}', {"Content-Type": "application/json", "X-API-Key": self.key}


def make_decisions(key_game_id: int, containers: list[int], count: int) -> list[dict]:
    from ads.decisions import Player, ad_decide

    out = []
    for i in range(count):
        body = ad_decide(
            container_id=containers[i % len(containers)], game_id=key_game_id,
            player=Player(id=500_000 + i, country="US", device="mobile", ads_allowed=True),
        ).body  # fmt: skip
        if body.get("tracking_token"):
            out.append({"decision_id": body["decision_id"], "tracking_token": body["tracking_token"],
                        "player": 500_000 + i})  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rate", type=float, default=5000, help="events/s offered in the durability phase")
    args = parser.parse_args()

    env = common.setup_django()
    from decisions import seed

    from ads.events import events_drain
    from ads.models import AdEngagement
    from games.models import AdContainer

    key, containers, _ = seed(10, 4)
    game_id = AdContainer.objects.get(pk=containers[0]).game_id
    decisions = make_decisions(game_id, containers, 3000)

    def drain_loop(stop) -> None:
        """The drain in its own process, started as Celery beat starts the task: on a 1-second tick
        (settings.CELERY_BEAT_SCHEDULE), a tick that comes while a drain still runs is skipped (the task's
        lock), and each drain runs until the stream is empty."""
        from django.db import connection

        tick = time.monotonic()
        while not stop.is_set():
            events_drain(batch=2000)
            now = time.monotonic()
            while tick <= now:
                tick += 1.0
            stop.wait(tick - now)
        connection.close()

    def stored_by(expected: int, limit: float) -> float:
        """Seconds until PostgreSQL holds ``expected`` engagements (gives up after ``limit``)."""
        started = time.perf_counter()
        while AdEngagement.objects.count() < expected and time.perf_counter() - started < limit:
            time.sleep(0.1)
        return time.perf_counter() - started

    before = AdEngagement.objects.count()
    with common.server(env, workers=2, threads=4) as (host, port):
        common.closed_loop(host, port, EmptyBatch(key), concurrency=2, duration=1)
        base = common.closed_loop(host, port, EmptyBatch(key), concurrency=args.concurrency, duration=args.duration)
        from django.db import connections

        connections.close_all()  # the drain process opens its own connection
        context = multiprocessing.get_context("fork")
        stop = context.Event()
        worker = context.Process(target=drain_loop, args=(stop,), daemon=True)
        worker.start()
        load = common.closed_loop(host, port, EventBatch(key, decisions, args.batch), concurrency=args.concurrency,
                                  duration=args.duration)  # fmt: skip
        backlog = stored_by(before + (load.requests - load.errors) * args.batch, 120)
        drain_rate = (AdEngagement.objects.count() - before) / (args.duration + backlog)
        steady_before = AdEngagement.objects.count()
        steady = common.open_loop(host, port, EventBatch(key, decisions, args.batch), rate=args.rate / args.batch,
                                  duration=args.duration)  # fmt: skip
        lag = stored_by(steady_before + (steady.requests - steady.errors) * args.batch, 60)
        stop.set()
        worker.join(timeout=30)
    stored = AdEngagement.objects.count() - before
    sent = (load.requests + steady.requests) * args.batch
    result = {
        "machine": common.machine(),
        "batch_size": args.batch,
        "events_per_second": round(load.rps * args.batch, 1),
        "batch_requests_per_second": round(load.rps, 1),
        "baseline_empty_batch_rps": round(base.rps, 1),
        "request_cost_ratio": round(load.rps / base.rps, 3),
        "batch_p50_ms": round(load.percentile(50), 2),
        "batch_p99_ms": round(load.percentile(99), 2),
        "drain_events_per_second": round(drain_rate, 1),
        "backlog_stored_after_seconds": round(backlog, 2),
        "offered_events_per_second": args.rate,
        "achieved_events_per_second": round(steady.rps * args.batch, 1),
        "offered_batch_p99_ms": round(steady.percentile(99), 2),
        "events_sent": sent,
        "events_stored": stored,
        "durable_lag_seconds": round(lag, 2),
        "errors": load.errors + steady.errors,
        "targets": {"events_per_second": ">= 5000", "durable_lag_seconds": "<= 5 at 5,000 events/s"},
    }
    common.write_result("events", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
