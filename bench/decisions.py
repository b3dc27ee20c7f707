"""Ad decisions: throughput against a bare JSON view on the same server, and latency at 500 requests/s.

    .venv/bin/python bench/decisions.py [--duration 10] [--rate 500]

Targets (DESIGN.md): throughput >= 0.5 x the bare view; p99 <= 25 ms at 500 requests/s; zero overspend.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common


@dataclass
class Healthz:
    def __call__(self, n: int):
        return "GET", "/healthz", None, {}


@dataclass
class DecisionRequest:
    key: str
    container_ids: list[int]

    def __call__(self, n: int):
        body = {
            "container_id": self.container_ids[n % len(self.container_ids)],
            "player": {"id": 10_000 + n % 50_000, "country": "US", "device": "mobile", "age_bracket": "13+",
                       "ads_allowed": True},
            "server_id": f"bench-{n % 16}",
        }  # fmt: skip
        return "POST", "/api/v1/decisions", json.dumps(body).encode(), {
            "Content-Type": "application/json", "X-API-Key": self.key}  # fmt: skip


def seed() -> tuple[str, list[int], list[int]]:
    from datetime import timedelta

    from django.utils import timezone

    from adplatform.accounts.models import User
    from ads import compliance
    from ads import services as ad_services
    from ads.models import Campaign
    from games import services as game_services

    # The scratch database outlives runs: earlier runs' campaigns stop serving, so every run
    # auctions exactly the ten campaigns it creates.
    Campaign.objects.filter(name__startswith="Bench ", status="ACTIVE").update(status="COMPLETED")
    owner, _ = User.objects.get_or_create(username="bench-owner", defaults={"role": "OWNER"})
    staff, _ = User.objects.get_or_create(username="bench-staff", defaults={"role": "STAFF", "is_staff": True})
    game = game_services.game_create(
        owner=owner, roblox_place_id=10**12 + User.objects.count() * 1000 + int(time.time()) % 1000, name="Bench"
    )
    containers = [
        game_services.container_create(
            game=game,
            data={
                "name": f"Board {i}",
                "type": "DISPLAY",
                "placement": f"board-{i}",
                "width_studs": "16",
                "height_studs": "9",
                "floor_price_cpm": "0.5",
            },
        )
        for i in range(4)
    ]
    campaigns = []
    for i in range(10):
        user = User.objects.create(username=f"bench-adv-{game.pk}-{i}", role="ADVERTISER")
        advertiser = ad_services.advertiser_for_user(user=user)
        ad_services.advertiser_approve(advertiser=advertiser, by=staff)
        campaign = ad_services.campaign_create(
            advertiser=advertiser,
            data={"name": f"Bench {i}", "roblox_campaign_id": f"bench-{i}", "max_bid": str(2 + i * 0.25),
                  "total_budget": "5", "pacing": "ASAP",
                  "start_at": timezone.now() - timedelta(hours=1), "end_at": timezone.now() + timedelta(days=1),
                  "targeting": {"countries_included": ["US", "GB"]} if i % 2 else {}},
        )  # fmt: skip
        creative = ad_services.creative_create(
            campaign=campaign,
            data={
                "name": "b",
                "kind": "DISPLAY",
                "roblox_asset_id": 9000 + i,
                "roblox_placement_id": f"bench-placement-{i}",
            },
        )
        ad_services.creative_moderate(creative=creative, status="APPROVED", by=staff)
        compliance.creative_roblox_review_record(creative=creative, review="APPROVED", by=staff)
        ad_services.campaign_activate(campaign=campaign)
        campaigns.append(campaign.pk)
    _, key, _ = game_services.api_key_create(game=game, name="bench")
    return key, [c.pk for c in containers], campaigns


def money(campaign_ids: list[int], since) -> dict:
    """What the run did with the money: fill rate, and reservations beyond each budget (free impressions).

    A free impression is a decision reserved after its campaign's reservations already reached the budget,
    in the order PostgreSQL holds them (drained from the stream); Redis's own count beyond the budget is
    reported beside it. Both must be 0.
    """
    from adplatform.core.redis import get_redis
    from ads import budget
    from ads.models import Campaign, Decision
    from ads.streams import drain_decisions

    while drain_decisions():
        pass
    run = Decision.objects.filter(created_at__gte=since)
    decisions, filled = run.count(), run.filter(campaign_id__isnull=False).count()
    free, free_usd, redis_over = 0, Decimal("0"), Decimal("0")
    for campaign in Campaign.objects.filter(pk__in=campaign_ids):
        held = Decimal("0")
        for amount in (
            Decision.objects.filter(campaign=campaign).order_by("created_at").values_list("reserved_amount", flat=True)
        ):
            held += amount
            if held > campaign.total_budget:
                free += 1
                free_usd += amount
        committed = budget.from_micros(int(get_redis().hget(budget.state_key(campaign.pk), "spent") or 0))
        redis_over += max(Decimal("0"), committed - campaign.total_budget)
    return {
        "decisions": decisions,
        "fill_rate": round(filled / decisions, 4) if decisions else None,
        "free_impressions": free,
        "free_usd": str(free_usd),
        "redis_beyond_budget_usd": str(redis_over),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4, help="alternating throughput rounds sharing --duration")
    parser.add_argument(
        "--workers", type=int, default=2, help="granian worker processes (two or more: money is shared)"
    )
    parser.add_argument("--threads", type=int, default=1, help="blocking threads per granian worker")
    args = parser.parse_args()

    env = common.setup_django()
    from django.utils import timezone

    started = timezone.now()
    key, containers, campaigns = seed()
    load_before = common.load_average()

    def measured(load):
        """A load run and the server CPU it cost per request (ms)."""
        cpu = common.server_cpu_seconds()
        result = load()
        return result, 1000 * (common.server_cpu_seconds() - cpu) / max(1, result.requests)

    decision = DecisionRequest(key, containers)
    with common.server(env, workers=args.workers, threads=args.threads) as (host, port):
        # warm both paths (index load, connections)
        common.closed_loop(host, port, decision, concurrency=2, duration=2)
        common.closed_loop(host, port, Healthz(), concurrency=2, duration=1)
        # Throughput in alternating rounds (baseline, decisions, baseline, ...): a slow spell of the machine
        # then lands on both sides of a round instead of on one whole measurement. The figures are the
        # medians over the rounds; every round's ratio is kept in the result.
        closed = {"concurrency": args.concurrency, "duration": args.duration / args.rounds}
        rounds = []
        for _ in range(args.rounds):
            base, base_cpu = measured(lambda: common.closed_loop(host, port, Healthz(), **closed))
            dec, dec_cpu = measured(lambda: common.closed_loop(host, port, decision, **closed))
            rounds.append({"base": base, "base_cpu": base_cpu, "dec": dec, "dec_cpu": dec_cpu})
        fixed = common.open_loop(host, port, decision, rate=args.rate, duration=args.duration)
        base_fixed = common.open_loop(host, port, Healthz(), rate=args.rate, duration=args.duration)
    spent = money(campaigns, started)
    ratios = [r["dec"].rps / r["base"].rps for r in rounds]
    base_rps, dec_rps = median(r["base"].rps for r in rounds), median(r["dec"].rps for r in rounds)
    base_cpu, dec_cpu = median(r["base_cpu"] for r in rounds), median(r["dec_cpu"] for r in rounds)
    result = {
        "machine": common.machine(),
        "server": f"granian, {args.workers} workers x {args.threads} threads (keep-alive)",
        "load_average_before": load_before,
        "rounds": args.rounds,
        "baseline_rps": round(base_rps, 1),
        "decision_rps": round(dec_rps, 1),
        "throughput_ratio": round(median(ratios), 3),
        "throughput_ratio_by_round": [round(r, 3) for r in ratios],
        "baseline_cpu_ms_per_request": round(base_cpu, 3),
        "decision_cpu_ms_per_request": round(dec_cpu, 3),
        "cpu_ratio": round(base_cpu / dec_cpu, 3) if dec_cpu else None,
        "offered_rate": args.rate,
        "achieved_rate": round(fixed.rps, 1),
        "p50_ms": round(fixed.percentile(50), 2),
        "p99_ms": round(fixed.percentile(99), 2),
        "baseline_p50_ms": round(base_fixed.percentile(50), 2),
        "baseline_p99_ms": round(base_fixed.percentile(99), 2),
        "errors": sum(r["dec"].errors for r in rounds) + fixed.errors,
        **spent,
        "overspend_usd": spent["free_usd"],
        "targets": {"throughput_ratio": ">= 0.5", "p99_ms": "<= 25 at 500 req/s", "free_impressions": "0"},
    }
    common.write_result("decisions", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
