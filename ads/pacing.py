"""EVEN pacing: the plan a campaign's day follows, how its spend compares, and a day simulated to measure it.

The pacer itself is in the decision script (ads/decisions.py): an EVEN campaign may have spent, by a moment of
the day, today's target times the share of today's serving window elapsed (plus a short lookahead). Today's
target is what was left at the start of the day times today's share of the remaining schedule, at most the
daily budget. :func:`day_plan` is the same rule in Python, for the report's chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import ExtractHour

from ads.budget import CHARGE_KINDS
from ads.models import Campaign, LedgerEntry, Pacing

ZERO = Decimal("0")
MICRO = Decimal("0.000001")


@dataclass(frozen=True)
class DayPlan:
    target: Decimal  # what the day should spend in all
    window_start: datetime  # the part of the day the campaign serves
    window_end: datetime

    def by(self, moment: datetime) -> Decimal:
        """What the plan has spent by ``moment`` (linear over the serving window)."""
        if moment <= self.window_start:
            return ZERO
        if moment >= self.window_end:
            return self.target
        span = (self.window_end - self.window_start).total_seconds()
        return (self.target * Decimal((moment - self.window_start).total_seconds() / span)).quantize(MICRO)


def day_plan(campaign: Campaign, day: date) -> DayPlan | None:
    """The linear plan of one UTC day of an EVEN campaign (None for ASAP, or a day it does not serve)."""
    if campaign.pacing != Pacing.EVEN:
        return None
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    start, end = max(day_start, campaign.start_at), min(day_start + timedelta(days=1), campaign.end_at)
    if end <= start:
        return None
    before = (
        LedgerEntry.objects.filter(campaign=campaign, kind__in=CHARGE_KINDS, spend_day__lt=day).aggregate(
            s=Sum("amount")
        )["s"]
        or ZERO
    )
    share = Decimal(
        (end - start).total_seconds() / max((end - start).total_seconds(), (campaign.end_at - start).total_seconds())
    )
    target = (campaign.total_budget - before) * share
    if campaign.daily_budget is not None:
        target = min(target, campaign.daily_budget)
    return DayPlan(target=max(ZERO, target).quantize(MICRO), window_start=start, window_end=end)


def pacing_curve(campaign: Campaign, day: date) -> list[dict]:
    """Cumulative spend counted against ``day``'s budget at the end of each UTC hour, beside the plan.

    ``[{"hour": 0..23, "spent": Decimal, "plan": Decimal | None}]``; hours still to come have ``spent`` None.
    Spend is confirmed spend (the ledger), by the hour it was confirmed; an impression is confirmed seconds
    after its decision.
    """
    rows = dict(
        LedgerEntry.objects.filter(campaign=campaign, kind__in=CHARGE_KINDS, spend_day=day)
        .annotate(h=ExtractHour("created_at", tzinfo=UTC))
        .values_list("h")
        .annotate(s=Sum("amount"))
    )
    plan = day_plan(campaign, day)
    now = datetime.now(UTC)
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    curve, total = [], ZERO
    for hour in range(24):
        total += rows.get(hour, ZERO)
        hour_end = day_start + timedelta(hours=hour + 1)
        curve.append(
            {
                "hour": hour,
                "spent": total if hour_end - timedelta(hours=1) <= now else None,
                "plan": plan.by(hour_end) if plan else None,
            }
        )
    return curve


def simulate_day(
    *, container, day: date, decisions_per_minute: int, player_pool: int = 100_000
) -> dict[int, list[int]]:
    """Run one simulated UTC day of steady traffic through the real decision engine and Redis, on a clock
    injected into the engine; return the micros reserved for each campaign by the end of each hour, per
    campaign id (``{campaign id: [24 cumulative figures]}``, the day's Redis counters).

    The measurement behind the pacing tests and ``bench/pacing.py``: decisions only (reservations are what
    pacing spends), every minute of the day, ``decisions_per_minute`` each.
    """
    from adplatform.core.redis import get_redis
    from ads import budget
    from ads.decisions import Player, ad_decide, engine

    start = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
    clock = {"now": start}
    previous = engine.clock
    engine.clock = lambda: clock["now"]
    ids = sorted(c.id for c in engine.reload_now().containers[container.pk].candidates)
    by_hour: dict[int, list[int]] = {cid: [] for cid in ids}
    player = 0
    try:
        for minute in range(24 * 60):
            for k in range(decisions_per_minute):
                clock["now"] = start + minute * 60 + k * 60 / decisions_per_minute
                player = player % player_pool + 1
                ad_decide(container_id=container.pk, game_id=container.game_id,
                          player=Player(id=player, ads_allowed=True))  # fmt: skip
            if minute % 60 == 59:
                stamp = day.strftime("%Y%m%d")
                for cid in ids:
                    by_hour[cid].append(int(get_redis().get(budget.daily_key(cid, stamp)) or 0))
    finally:
        engine.clock = previous
    return by_hour
