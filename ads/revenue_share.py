"""Roblox's revenue share on ad integrations: qualified visits and what they cost the owner.

From 2027-01-01 Roblox charges ad-integration campaigns that start on or after that date a CPTV
(cost per 1,000 qualified visits) by market tier for the campaign's first 28 days, and a flat CPTV
after that (creator docs, production/promotion/ad-integrations). The table is data
(:class:`~ads.models.RevenueShareSchedule` and its tiers, seeded by a migration, editable in admin).

A *qualified visit* is a player's server session with at least one viewable engagement of the
campaign, counted once per session however many engagements it had: one :class:`QualifiedVisit`
row per (campaign, player, session), the session being the game server's id (a report without one
counts one session per player and UTC day). Rows are collected from the stored engagements by a
periodic job, idempotently (the unique constraint absorbs repeats), and priced when collected.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone

from ads.models import Campaign, QualifiedVisit, RevenueShareSchedule

ZERO = Decimal("0")
COLLECT_WINDOW = timedelta(hours=3)


# --------------------------------------------------------------------------- pricing


@dataclass(frozen=True)
class Pricing:
    schedule_id: int
    effective_from: date
    intro_days: int
    after_intro_cptv: Decimal
    by_country: dict[str, tuple[str, Decimal]]
    default: tuple[str, Decimal]

    def price(self, *, campaign_start: datetime, engaged_at: datetime, country: str) -> tuple[str, Decimal]:
        """``(tier code, cost of this one visit)``; in the intro days by tier, afterwards the flat rate."""
        if engaged_at >= campaign_start + timedelta(days=self.intro_days):
            return "AFTER_INTRO", self.after_intro_cptv / 1000
        code, cptv = self.by_country.get(country, self.default)
        return code, cptv / 1000


def schedule_for(campaign_start: datetime) -> Pricing | None:
    """The schedule a campaign falls under: the latest one in effect when it started (None: no share)."""
    schedule = (
        RevenueShareSchedule.objects.filter(effective_from__lte=campaign_start.astimezone(UTC).date())
        .prefetch_related("tiers")
        .order_by("-effective_from")
        .first()
    )
    if schedule is None:
        return None
    by_country: dict[str, tuple[str, Decimal]] = {}
    default = ("", ZERO)
    for tier in schedule.tiers.all():
        for country in tier.countries:
            by_country[country.upper()] = (tier.code, tier.cptv)
        if tier.is_default:
            default = (tier.code, tier.cptv)
    return Pricing(
        schedule.pk, schedule.effective_from, schedule.intro_days, schedule.after_intro_cptv, by_country, default
    )


# --------------------------------------------------------------------------- collecting


_COLLECT_SQL = """
INSERT INTO ads_qualifiedvisit (campaign_id, game_id, player_id, session, country, engaged_at, tier, cost)
SELECT DISTINCT ON (e.campaign_id, e.player_id, s.session)
       e.campaign_id, e.game_id, e.player_id, s.session, COALESCE(d.country, ''), e.occurred_at, '', 0
FROM ads_adengagement e
LEFT JOIN ads_decision d ON d.id = e.decision_id
CROSS JOIN LATERAL (
    SELECT CASE WHEN e.server_id <> '' THEN e.server_id
                ELSE 'day:' || to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') END AS session
) s
WHERE e.viewable AND e.invalid_reason = '' AND e.campaign_id IS NOT NULL
  AND {where}
ORDER BY e.campaign_id, e.player_id, s.session, e.occurred_at
ON CONFLICT ON CONSTRAINT qualified_visit_once_per_session DO NOTHING
RETURNING id
"""


@transaction.atomic
def qualified_visits_collect(*, since: datetime | None = None, until: datetime | None = None) -> int:
    """Record the qualified visits of engagements that occurred in ``[since, until)`` and price them.

    Defaults to the last few hours (the periodic job); ``since=datetime.min``-like values rebuild
    everything. Idempotent: a session already counted is skipped. Returns how many visits were new.
    """
    until = until or timezone.now()
    since = since or until - COLLECT_WINDOW
    return _collect("e.occurred_at >= %s AND e.occurred_at < %s", [since, until])


def _collect(where: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_COLLECT_SQL.format(where=where), params)
        new_ids = [row[0] for row in cursor.fetchall()]
    if new_ids:
        price_visits(ids=new_ids)
    return len(new_ids)


WATERMARK_KEY = "revenue_share:engagement_watermark"
BATCH = 50_000


def qualified_visits_collect_new() -> int:
    """The periodic job: the engagements stored since the last run (by id, a watermark in Redis).

    Cheap at any event rate (an id range over the primary key, not hours of events a minute). Without
    a watermark (first run, Redis lost) it falls back to the time window, then sets one; a repeat
    is harmless (the unique constraint).
    """
    from adplatform.core.redis import get_redis
    from ads.models import AdEngagement

    client = get_redis()
    top = AdEngagement.objects.order_by("-id").values_list("id", flat=True).first() or 0
    raw = client.get(WATERMARK_KEY)
    if raw is None:
        count = qualified_visits_collect()
        client.set(WATERMARK_KEY, top)
        return count
    low = int(raw)
    count = 0
    while low < top:
        high = min(top, low + BATCH)
        with transaction.atomic():
            count += _collect("e.id > %s AND e.id <= %s", [low, high])
        client.set(WATERMARK_KEY, high)
        low = high
    return count


def price_visits(*, ids: list[int] | None = None, campaign_ids: list[int] | None = None) -> int:
    """(Re)price visits with the schedule in force for their campaign (after an admin edit, for example)."""
    qs = QualifiedVisit.objects.all()
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    if campaign_ids is not None:
        qs = qs.filter(campaign_id__in=campaign_ids)
    visits = list(qs.only("id", "campaign_id", "engaged_at", "country"))
    starts = dict(Campaign.objects.filter(pk__in={v.campaign_id for v in visits}).values_list("pk", "start_at"))
    pricing_by_campaign: dict[int, Pricing | None] = {}
    for visit in visits:
        start = starts.get(visit.campaign_id)
        if visit.campaign_id not in pricing_by_campaign:
            pricing_by_campaign[visit.campaign_id] = schedule_for(start) if start else None
        pricing = pricing_by_campaign[visit.campaign_id]
        if pricing is None or start is None:
            visit.tier, visit.cost = "", ZERO
        else:
            visit.tier, visit.cost = pricing.price(
                campaign_start=start, engaged_at=visit.engaged_at, country=visit.country
            )
    QualifiedVisit.objects.bulk_update(visits, ["tier", "cost"], batch_size=1000)
    _apply_caps(set(pricing_by_campaign))
    return len(visits)


def _apply_caps(campaign_ids: set[int]) -> None:
    """Roblox charges a campaign at most its schedule's cap: the visits past it cost nothing."""
    for campaign_id in campaign_ids:
        start = Campaign.objects.filter(pk=campaign_id).values_list("start_at", flat=True).first()
        schedule = (
            RevenueShareSchedule.objects.filter(effective_from__lte=start.astimezone(UTC).date())
            .order_by("-effective_from")
            .first()
            if start
            else None
        )
        if schedule is None or schedule.campaign_cap is None:
            continue
        total = QualifiedVisit.objects.filter(campaign_id=campaign_id).aggregate(s=Sum("cost"))["s"] or ZERO
        if total <= schedule.campaign_cap:
            continue
        # Walk the visits in order and zero the ones beyond the cap (rare: the cap is $400,000).
        running = ZERO
        over = []
        for visit in QualifiedVisit.objects.filter(campaign_id=campaign_id).order_by("engaged_at", "id"):
            running += visit.cost
            if running > schedule.campaign_cap:
                visit.cost = max(ZERO, schedule.campaign_cap - (running - visit.cost))
                running = schedule.campaign_cap
                over.append(visit)
        QualifiedVisit.objects.bulk_update(over, ["cost"], batch_size=1000)


# --------------------------------------------------------------------------- reading (reports)


@dataclass(frozen=True)
class ShareFigures:
    qualified_visits: int = 0
    revenue_share: Decimal = ZERO

    def __add__(self, other: ShareFigures) -> ShareFigures:
        return ShareFigures(self.qualified_visits + other.qualified_visits, self.revenue_share + other.revenue_share)


def _visits(game_ids, start: datetime, end: datetime):
    return QualifiedVisit.objects.filter(game_id__in=list(game_ids), engaged_at__gte=start, engaged_at__lt=end)


def share_by_game(game_ids, start: datetime, end: datetime) -> dict[int, ShareFigures]:
    rows = _visits(game_ids, start, end).values("game_id").annotate(n=Count("id"), s=Sum("cost")).order_by()
    return {row["game_id"]: ShareFigures(row["n"], row["s"] or ZERO) for row in rows}


def share_by_period(game_ids, start: datetime, end: datetime, granularity: str) -> dict[datetime, ShareFigures]:
    from django.db.models.functions import TruncHour

    period = TruncHour("engaged_at", tzinfo=UTC) if granularity == "hour" else TruncDay("engaged_at", tzinfo=UTC)
    rows = _visits(game_ids, start, end).annotate(p=period).values("p").annotate(n=Count("id"), s=Sum("cost"))
    out: dict[datetime, ShareFigures] = defaultdict(ShareFigures)
    for row in rows.order_by():
        out[row["p"].astimezone(UTC)] = ShareFigures(row["n"], row["s"] or ZERO)
    return out


def share_total(game_ids, start: datetime, end: datetime) -> ShareFigures:
    row = _visits(game_ids, start, end).aggregate(n=Count("id"), s=Sum("cost"))
    return ShareFigures(row["n"] or 0, row["s"] or ZERO)


def schedules_in_force() -> list[RevenueShareSchedule]:
    """Every schedule, newest first, with its tiers (the earnings pages explain the share with them)."""
    return list(RevenueShareSchedule.objects.prefetch_related("tiers").order_by("-effective_from"))


def earnings_columns(gross: Decimal, share: ShareFigures) -> dict[str, Any]:
    """Gross (what advertisers spent), Roblox's revenue share and net, as the CSV and API spell them."""
    fee = share.revenue_share.quantize(Decimal("0.000001"))
    return {
        "qualified_visits": share.qualified_visits,
        "gross": f"{gross:.6f}",
        "roblox_revenue_share": f"{fee:.6f}",
        "net": f"{gross - fee:.6f}",
    }


EARNINGS_COLUMNS = list(earnings_columns(ZERO, ShareFigures()).keys())
