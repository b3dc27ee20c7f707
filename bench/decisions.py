"""Ad decisions at full fill: throughput against a bare JSON view on the same server, and latency at a fixed rate.

    .venv/bin/python bench/decisions.py [--campaigns 1000] [--containers 20] [--duration 20] [--rate 1000]

Every campaign has a budget that cannot run out during the run, so every decision in the measured window
fills; each response is checked (wrk counts the filled ones) and a run below 99 % fill is reported as not a
result. Throughput comes from wrk (one thread, 8 keep-alive connections: an independent client), in rounds
alternating with the baseline on the same server. Latency comes from an open-loop generator offering a fixed
rate (each request timed from its scheduled moment). Free impressions (reserved beyond a budget) and
errors are counted for every run. Targets (issue 21): ratio >= 0.8, p99 <= 25 ms at 1,000 requests/s, fill
>= 99 %, 0 free impressions, 0 errors.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

COUNTRIES = ("US", "GB", "DE", "BR", "FR", "CA")
DEVICES = ("mobile", "desktop", "console", "tablet")


@dataclass
class DecisionRequest:
    """The open-loop generator's requests (the same bodies as the wrk script's)."""

    key: str
    container_ids: list[int]

    def __call__(self, n: int):
        body = {
            "container_id": self.container_ids[n % len(self.container_ids)],
            "player": {"id": 10_000 + n % 50_000, "country": COUNTRIES[n % len(COUNTRIES)],
                       "device": DEVICES[n % len(DEVICES)], "age_bracket": "13+", "ads_allowed": True},
            "server_id": f"bench-{n % 16}",
        }  # fmt: skip
        return "POST", "/api/v1/decisions", json.dumps(body).encode(), {
            "Content-Type": "application/json", "X-API-Key": self.key}  # fmt: skip


@dataclass
class Baseline:
    path: str
    key: str

    def __call__(self, n: int):
        if self.path == "/healthz":
            return "GET", self.path, None, {}
        return "POST", self.path, b"{}", {"Content-Type": "application/json", "X-API-Key": self.key}


def decision_lua(key: str, containers: list[int]) -> str:
    countries = ",".join(common.lua_string(c) for c in COUNTRIES)
    devices = ",".join(common.lua_string(d) for d in DEVICES)
    return f"""
local containers = {{{",".join(map(str, containers))}}}
local countries = {{{countries}}}
local devices = {{{devices}}}
local n = 0
wrk.method = "POST"
wrk.path = "/api/v1/decisions"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = {common.lua_string(key)}
function request()
  n = n + 1
  local body = string.format('{{"container_id":%d,"player":{{"id":%d,"country":"%s","device":"%s",'
    .. '"age_bracket":"13+","ads_allowed":true}},"server_id":"bench-%d"}}',
    containers[n % #containers + 1], 10000 + (n * 7919) % 50000, countries[n % #countries + 1],
    devices[n % #devices + 1], n % 16)
  return wrk.format(nil, nil, nil, body)
end
function classify(status, body)
  if status >= 400 then return "error_" .. status end
  if string.find(body, '"filled":true', 1, true) then
    if string.find(body, '"source":"campaign"', 1, true) then return "filled" end
    return "house"
  end
  return "unfilled"
end
"""


def baseline_lua(path: str, key: str) -> str:
    if path == "/healthz":
        return f"""
wrk.method = "GET"
wrk.path = "{path}"
function request() return wrk.format(nil, nil, nil, nil) end
function classify(status, body) if status >= 400 then return "error_" .. status end return "ok" end
"""
    return f"""
wrk.method = "POST"
wrk.path = "{path}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = {common.lua_string(key)}
function request() return wrk.format(nil, nil, nil, "{{}}") end
function classify(status, body) if status >= 400 then return "error_" .. status end return "ok" end
"""


def seed(campaigns: int, containers: int) -> tuple[str, list[int], list[int]]:
    """One game with ``containers`` display containers and ``campaigns`` active campaigns of mixed targeting.

    Budgets cannot run out (1,000,000 USD each, ASAP or EVEN over a year); one campaign in five has no
    targeting, so every request has eligible campaigns; the rest target countries, devices, excluded
    countries, frequency caps or the game, as advertisers do. 100 advertisers share the campaigns (the
    second price looks for another advertiser's bid).
    """
    from datetime import timedelta

    from django.utils import timezone

    from adplatform.accounts.models import User
    from ads import compliance
    from ads import services as ad_services
    from ads.models import Campaign
    from games import services as game_services

    # The scratch database outlives runs: earlier runs' campaigns stop serving.
    Campaign.objects.filter(name__startswith="Bench ", status="ACTIVE").update(status="COMPLETED")
    owner, _ = User.objects.get_or_create(username="bench-owner", defaults={"role": "OWNER"})
    staff, _ = User.objects.get_or_create(username="bench-staff", defaults={"role": "STAFF", "is_staff": True})
    run = int(time.time())
    game = game_services.game_create(owner=owner, roblox_place_id=10**12 + run, name="Bench")
    container_ids = [
        game_services.container_create(
            game=game,
            data={"name": f"Board {i}", "type": "DISPLAY", "placement": f"board-{i}", "width_studs": "16",
                  "height_studs": "9", "floor_price_cpm": "0.5"},
        ).pk
        for i in range(containers)
    ]  # fmt: skip
    advertisers = []
    for a in range(min(100, campaigns)):
        user = User.objects.create(username=f"bench-adv-{run}-{a}", role="ADVERTISER")
        advertiser = ad_services.advertiser_for_user(user=user)
        ad_services.advertiser_approve(advertiser=advertiser, by=staff)
        advertisers.append(advertiser)
    rng = random.Random(run)
    targetings = [
        {},
        {"countries_included": ["US", "GB", "CA"]},
        {"devices": ["mobile", "tablet"]},
        {"countries_excluded": ["BR"]},
        {"games_included": [game.pk], "devices": ["desktop", "console"]},
    ]
    campaign_ids = []
    started = time.monotonic()
    for i in range(campaigns):
        data = {
            "name": f"Bench {i}", "roblox_campaign_id": f"bench-{run}-{i}",
            "max_bid": f"{rng.uniform(1.0, 12.0):.2f}", "total_budget": "1000000",
            "pacing": "ASAP" if i % 3 else "EVEN",
            "start_at": timezone.now() - timedelta(hours=1), "end_at": timezone.now() + timedelta(days=365),
            "targeting": targetings[i % len(targetings)],
        }  # fmt: skip
        if i % 7 == 3:
            data["frequency_cap"] = {"count": 1000, "period_seconds": 3600}
        campaign = ad_services.campaign_create(advertiser=advertisers[i % len(advertisers)], data=data)
        creative = ad_services.creative_create(
            campaign=campaign,
            data={"name": "b", "kind": "DISPLAY", "roblox_asset_id": 9000 + i,
                  "roblox_placement_id": f"bench-placement-{run}-{i}"},
        )  # fmt: skip
        ad_services.creative_moderate(creative=creative, status="APPROVED", by=staff)
        compliance.creative_roblox_review_record(creative=creative, review="APPROVED", by=staff)
        ad_services.campaign_activate(campaign=campaign)
        campaign_ids.append(campaign.pk)
        if (i + 1) % 200 == 0:
            print(f"seeded {i + 1}/{campaigns} campaigns ({time.monotonic() - started:.0f}s)", file=sys.stderr)
    _, key, _ = game_services.api_key_create(game=game, name="bench")
    return key, container_ids, campaign_ids


def money(campaign_ids: list[int], since) -> dict:
    """What the run did with the money: fill rate, and reservations beyond each budget (free impressions).

    A free impression is a decision reserved after its campaign's reservations already reached the budget,
    in the order PostgreSQL holds them (drained from the stream), counted in one query; Redis's own spend
    beyond a budget is checked beside it. Both must be 0.
    """
    from decimal import Decimal

    from django.db import connection

    from adplatform.core.redis import get_redis
    from ads import budget
    from ads.models import Campaign, Decision
    from ads.streams import drain_decisions

    while drain_decisions():
        pass
    run = Decision.objects.filter(created_at__gte=since)
    decisions, filled = run.count(), run.filter(campaign_id__isnull=False).count()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*), coalesce(sum(reserved_amount), 0) FROM (
                SELECT d.reserved_amount, c.total_budget,
                       sum(d.reserved_amount) OVER (PARTITION BY d.campaign_id ORDER BY d.created_at, d.id) AS held
                FROM {Decision._meta.db_table} d JOIN {Campaign._meta.db_table} c ON c.id = d.campaign_id
                WHERE d.campaign_id = ANY(%s)
            ) t WHERE held > total_budget
            """,  # noqa: S608 - table names from the models, values as parameters
            [campaign_ids],
        )
        free, free_usd = cursor.fetchone()
    client = get_redis()
    pipe = client.pipeline(transaction=False)
    for pk in campaign_ids:
        pipe.hget(budget.state_key(pk), "spent")
    spent = pipe.execute()
    totals = dict(Campaign.objects.filter(pk__in=campaign_ids).values_list("pk", "total_budget"))
    redis_over = sum(
        (
            max(Decimal("0"), budget.from_micros(int(s or 0)) - totals[pk])
            for pk, s in zip(campaign_ids, spent, strict=True)
        ),
        Decimal("0"),
    )
    return {
        "decisions": decisions,
        "fill_rate_stored": round(filled / decisions, 4) if decisions else None,
        "free_impressions": free,
        "free_usd": str(free_usd),
        "redis_beyond_budget_usd": str(redis_over),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--containers", type=int, default=20)
    parser.add_argument("--duration", type=float, default=20, help="seconds of wrk load on each side, in rounds")
    parser.add_argument("--rounds", type=int, default=4, help="alternating throughput rounds sharing --duration")
    parser.add_argument("--rate", type=float, default=1000, help="requests/s offered in the latency run")
    parser.add_argument("--latency-duration", type=float, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--workers", type=int, default=2, help="granian worker processes (two or more: money is shared)"
    )
    parser.add_argument("--threads", type=int, default=4, help="blocking threads per granian worker")
    parser.add_argument(
        "--baseline",
        default="/api/v1/bench/baseline",
        help="the bare view measured beside decisions: bench/baseline_urls.py (on the fast lane) or /healthz",
    )
    parser.add_argument("--quick", action="store_true", help="CI: tiny sizes, checks each figure is produced")
    args = parser.parse_args()
    if args.quick:
        args.campaigns, args.containers, args.duration, args.rounds = 20, 4, 4, 2
        args.rate, args.latency_duration = 100, 2

    env = common.setup_django()
    from django.utils import timezone

    key, containers, campaigns = seed(args.campaigns, args.containers)
    load_before = common.load_average()
    decision_script = decision_lua(key, containers)
    base_script = baseline_lua(args.baseline, key)

    def measured(script: str, seconds: float):
        cpu = common.server_cpu_seconds()
        result = common.wrk(host, port, script, duration=seconds, connections=args.connections)
        return result, 1000 * (common.server_cpu_seconds() - cpu) / max(1, result.requests)

    env = {**env, "DJANGO_SETTINGS_MODULE": "bench.baseline_settings"}  # production settings + the baseline's path
    with common.server(env, workers=args.workers, threads=args.threads) as (host, port):
        # warm both paths (index, connections, budget state) before anything is measured
        common.wrk(host, port, decision_script, duration=2, connections=args.connections)
        common.wrk(host, port, base_script, duration=1, connections=args.connections)
        started = timezone.now()
        rounds = []
        each = args.duration / args.rounds
        for _ in range(args.rounds):
            base, base_cpu = measured(base_script, each)
            dec, dec_cpu = measured(decision_script, each)
            rounds.append({"base": base, "base_cpu": base_cpu, "dec": dec, "dec_cpu": dec_cpu})
        fixed = common.open_loop(host, port, DecisionRequest(key, containers), rate=args.rate,
                                 duration=args.latency_duration)  # fmt: skip
        base_fixed = common.open_loop(host, port, Baseline(args.baseline, key), rate=args.rate,
                                      duration=args.latency_duration)  # fmt: skip
    spent = money(campaigns, started)
    counts: dict[str, int] = {}
    for r in rounds:
        for name, value in r["dec"].counts.items():
            counts[name] = counts.get(name, 0) + value
    answered = sum(counts.values())
    fill = counts.get("filled", 0) / answered if answered else 0.0
    errors = sum(v for k, v in counts.items() if k.startswith("error")) + sum(r["dec"].socket_errors for r in rounds)
    errors += fixed.errors
    ratios = [r["dec"].rps / r["base"].rps for r in rounds]
    result = {
        "machine": common.machine(),
        "server": f"granian, {args.workers} workers x {args.threads} blocking threads (keep-alive)",
        "client": f"wrk, 1 thread, {args.connections} connections; open loop: bench/common.py open_loop",
        "campaigns": args.campaigns,
        "containers": args.containers,
        "baseline_path": args.baseline,
        "load_average_before": load_before,
        "rounds": args.rounds,
        "baseline_rps": round(median(r["base"].rps for r in rounds), 1),
        "decision_rps": round(median(r["dec"].rps for r in rounds), 1),
        "throughput_ratio": round(median(ratios), 3),
        "throughput_ratio_by_round": [round(r, 3) for r in ratios],
        "baseline_cpu_ms_per_request": round(median(r["base_cpu"] for r in rounds), 3),
        "decision_cpu_ms_per_request": round(median(r["dec_cpu"] for r in rounds), 3),
        "wrk_p99_ms": round(median(r["dec"].p99_ms for r in rounds), 2),
        "offered_rate": args.rate,
        "achieved_rate": round(fixed.rps, 1),
        "p50_ms": round(fixed.percentile(50), 2),
        "p99_ms": round(fixed.percentile(99), 2),
        "baseline_p50_ms": round(base_fixed.percentile(50), 2),
        "baseline_p99_ms": round(base_fixed.percentile(99), 2),
        "answers": counts,
        "fill_rate": round(fill, 4),
        "errors": errors,
        **spent,
        "is_result": fill >= 0.99 and errors == 0,
        "targets": {"throughput_ratio": ">= 0.8", "p99_ms": f"<= 25 at {args.rate:.0f} req/s", "fill_rate": ">= 0.99",
                    "free_impressions": "0", "errors": "0"},
    }  # fmt: skip
    common.write_result("decisions", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
