"""EVEN pacing against its plan over a whole simulated day, and ASAP beside it.

    .venv/bin/python bench/pacing.py [--rate 3]

One UTC day of steady traffic (``--rate`` decisions a minute, every minute) runs through the real decision
engine and Redis on a clock injected into the engine (ads/pacing.py ``simulate_day``). An EVEN and an ASAP
campaign with the same daily budget compete in separate days. Targets (issue "Money that adds up"): EVEN
spends its daily budget within 5 %, and its cumulative spend at every hour stays within 10 % of the linear
plan; ASAP spends its budget first. Writes bench/results/pacing.json and the "Pacing" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

DAILY = Decimal("2.00")


def run(pacing: str, rate: int, offset_days: int) -> list[int]:
    from django.utils import timezone

    from adplatform.accounts.models import User
    from ads import compliance
    from ads import services as ad_services
    from ads.models import Campaign
    from ads.pacing import simulate_day
    from games import services as game_services

    Campaign.objects.filter(status="ACTIVE").update(status="COMPLETED")
    owner, _ = User.objects.get_or_create(username="bench-owner", defaults={"role": "OWNER"})
    staff, _ = User.objects.get_or_create(username="bench-staff", defaults={"role": "STAFF", "is_staff": True})
    game = game_services.game_create(owner=owner, roblox_place_id=2 * 10**12 + User.objects.count() * 10 + offset_days,
                                     name=f"Pacing {pacing}")  # fmt: skip
    container = game_services.container_create(game=game, data={
        "name": "Board", "type": "DISPLAY", "placement": "board", "width_studs": "16", "height_studs": "9",
        "floor_price_cpm": "9.99"})  # fmt: skip
    user = User.objects.create(username=f"pacing-{pacing}-{game.pk}", role="ADVERTISER")
    advertiser = ad_services.advertiser_for_user(user=user)
    ad_services.advertiser_approve(advertiser=advertiser, by=staff)
    campaign = ad_services.campaign_create(advertiser=advertiser, data={
        "name": f"Pacing {pacing}", "roblox_campaign_id": f"bench-{pacing}", "max_bid": "20", "total_budget": "500",
        "daily_budget": str(DAILY),
        "pacing": pacing, "start_at": timezone.now() - timedelta(days=1),
        "end_at": timezone.now() + timedelta(days=30)})  # fmt: skip
    creative = ad_services.creative_create(campaign=campaign, data={
        "name": "b", "kind": "DISPLAY", "roblox_asset_id": 9100, "roblox_placement_id": "bench-placement"})  # fmt: skip
    ad_services.creative_moderate(creative=creative, status="APPROVED", by=staff)
    compliance.creative_roblox_review_record(creative=creative, review="APPROVED", by=staff)
    ad_services.campaign_activate(campaign=campaign)
    day = (timezone.now() + timedelta(days=offset_days)).date()
    return simulate_day(container=container, day=day, decisions_per_minute=rate)[campaign.pk]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=3, help="decisions a minute, every minute of the day")
    args = parser.parse_args()
    common.setup_django()
    from ads.budget import to_micros

    daily = to_micros(DAILY)
    even = run("EVEN", args.rate, 1)
    asap = run("ASAP", args.rate, 2)
    plan = [daily * h / 24 for h in range(1, 25)]
    deviation = [round(100 * (spent - p) / p, 2) for spent, p in zip(even, plan, strict=True)]
    asap_hour = next((h for h, spent in enumerate(asap, start=1) if spent >= daily), None)
    result = {
        "machine": common.machine(),
        "rate_per_minute": args.rate,
        "daily_budget_usd": str(DAILY),
        "even_day_spend_pct": round(100 * even[-1] / daily, 2),
        "even_max_hourly_deviation_pct": max(deviation, key=abs),
        "even_hourly_deviation_pct": deviation,
        "even_cumulative_usd": [str(Decimal(m) / 10**6) for m in even],
        "asap_cumulative_usd": [str(Decimal(m) / 10**6) for m in asap],
        "asap_budget_spent_by_hour": asap_hour,
        "targets": {"even_day_spend_pct": "within 5 % of 100", "even_max_hourly_deviation_pct": "within 10 %"},
    }
    common.write_result("pacing", result)
    ok = abs(result["even_day_spend_pct"] - 100) <= 5 and abs(result["even_max_hourly_deviation_pct"]) <= 10
    hours = " | ".join(str(h) for h in range(1, 25))
    section = "\n".join([
        "## Pacing",
        "",
        f"`.venv/bin/python bench/pacing.py --rate {args.rate}`: one simulated UTC day, {args.rate} decisions a",
        "minute every minute, through the real engine and Redis on an injected clock; daily budget "
        f"{DAILY} USD at 10.00 CPM (200 impressions).",
        "",
        f"- EVEN spent {result['even_day_spend_pct']} % of its daily budget (target: within 5 %); its largest "
        f"deviation from the linear plan at the end of an hour was {result['even_max_hourly_deviation_pct']} % "
        f"(target: within 10 %): {'met' if ok else 'NOT met'}.",
        f"- ASAP spent its whole daily budget by the end of hour {asap_hour}.",
        "",
        f"| hour | {hours} |",
        "|---|" + "---|" * 24,
        "| EVEN, % of plan | " + " | ".join(f"{100 + d:.0f}" for d in deviation) + " |",
        "| EVEN, USD | " + " | ".join(f"{Decimal(m) / 10**6:.2f}" for m in even) + " |",
        "| ASAP, USD | " + " | ".join(f"{Decimal(m) / 10**6:.2f}" for m in asap) + " |",
        "",
    ])  # fmt: skip
    common.replace_section(common.ROOT / "bench" / "RESULTS.md", "Pacing", section)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
