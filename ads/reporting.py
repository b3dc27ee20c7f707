"""Performance analytics: the hourly roll-up into ``AdPerformance`` and the report selectors.

Roll-up (``performance_rollup``): the hours of a window are recomputed as a whole from the raw
rows with one ``INSERT ... SELECT ... GROUP BY`` over decisions (by ``created_at``), engagement
events (by ``occurred_at``, so a late event lands in its own hour) and the ledger's spend
(charges and adjustments, as budgets count them; releases are not spend) by the entry's
``created_at``, the moment money moved, as the daily budgets count it, after deleting
those hours' rows, in one transaction. Re-running any window therefore gives the same rows.

The beat job (``performance_rollup_recent``, every minute) recomputes the current and the
previous hour, plus every hour touched by rows stored since its last run: engagement events and
ledger entries are found by their id watermark (one drainer at a time writes events, so their
ids commit in order). Every ten minutes it also compares the last day's hourly decision count,
event count and spend with the roll-up and recomputes any hour out of step: that catches late
decisions (a drainer that was down for over an hour: decisions carry the time they were made,
not stored) and any row committed out of id order. Its state lives in Redis; when it is lost the
job rebuilds the last two days, further than any late row can reach.

Report selectors return plain figures (``Figures``) per period, per breakdown key or in total;
pages, CSV and the management API all read them, scoped by ``campaigns_visible_to`` and
``games_visible_to`` at their boundary.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Max, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from adplatform.core.redis import get_redis
from ads.budget import CHARGE_KINDS
from ads.models import (
    AdEngagement,
    AdPerformance,
    Campaign,
    Creative,
    Decision,
    DecisionState,
    EngagementType,
    LedgerEntry,
)

logger = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
ROLLUP_LOCK_ID = 7_420_001  # pg_advisory_xact_lock key: one roll-up at a time
STATE_KEY = "{rep}:rollup:state"
CHECK_KEY = "{rep}:rollup:check"
REBUILD_WINDOW = timedelta(hours=48)  # events older than 24 h are refused at ingestion
CHECK_WINDOW = timedelta(hours=26)
CHECK_EVERY = 600  # seconds
CTR_WINDOW = timedelta(days=30)

MAX_RANGE_DAYS = 366
MAX_HOURLY_DAYS = 31
GRANULARITIES = ("hour", "day")


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floored = floor_hour(moment)
    return floored if floored == moment else floored + HOUR


# --------------------------------------------------------------------------- roll-up

_ROLLUP_SQL = """
INSERT INTO {perf} (hour, campaign_id, creative_id, container_id, game_id, country, device,
                    decisions, fills_paid, fills_house, impressions, viewable_impressions, clicks,
                    interactions, conversions, invalid_events, spend, updated_at)
SELECT hour, campaign_id, creative_id, container_id, game_id, country, device,
       SUM(decisions), SUM(fills_paid), SUM(fills_house), SUM(impressions), SUM(viewable_impressions),
       SUM(clicks), SUM(interactions), SUM(conversions), SUM(invalid_events), SUM(spend), %(now)s
FROM (
    SELECT date_trunc('hour', d.created_at, 'UTC') AS hour, d.campaign_id, d.creative_id, d.container_id,
           d.game_id, d.country, d.device,
           COUNT(*) AS decisions,
           COUNT(*) FILTER (WHERE d.campaign_id IS NOT NULL) AS fills_paid,
           COUNT(*) FILTER (WHERE d.state = %(house)s) AS fills_house,
           0 AS impressions, 0 AS viewable_impressions, 0 AS clicks, 0 AS interactions, 0 AS conversions,
           0 AS invalid_events, 0::numeric AS spend
    FROM {decision} d
    WHERE d.created_at >= %(start)s AND d.created_at < %(end)s
    GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
    SELECT date_trunc('hour', e.occurred_at, 'UTC'), e.campaign_id, e.creative_id, e.container_id,
           e.game_id, COALESCE(d.country, ''), COALESCE(d.device, ''),
           0, 0, 0,
           COUNT(*) FILTER (WHERE e.type = %(impression)s AND e.invalid_reason = ''),
           COUNT(*) FILTER (WHERE e.type = %(impression)s AND e.invalid_reason = '' AND e.viewable),
           COUNT(*) FILTER (WHERE e.type = %(click)s AND e.invalid_reason = ''),
           COUNT(*) FILTER (WHERE e.type = %(interaction)s AND e.invalid_reason = ''),
           COUNT(*) FILTER (WHERE e.type = %(conversion)s AND e.invalid_reason = ''),
           COUNT(*) FILTER (WHERE e.invalid_reason <> ''),
           0
    FROM {engagement} e LEFT JOIN {decision} d ON d.id = e.decision_id
    WHERE e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
    GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
    SELECT date_trunc('hour', l.created_at, 'UTC'), l.campaign_id, d.creative_id, d.container_id,
           d.game_id, COALESCE(d.country, ''), COALESCE(d.device, ''),
           0, 0, 0, 0, 0, 0, 0, 0, 0, SUM(l.amount)
    FROM {ledger} l LEFT JOIN {decision} d ON d.id = l.decision_id
    WHERE l.kind = ANY(%(charge_kinds)s) AND l.created_at >= %(start)s AND l.created_at < %(end)s
    GROUP BY 1, 2, 3, 4, 5, 6, 7
) AS raw
GROUP BY 1, 2, 3, 4, 5, 6, 7
"""


def performance_rollup(*, start: datetime, end: datetime) -> int:
    """Recompute the ``AdPerformance`` rows of every hour in ``[start, end)`` from the raw rows.

    The window is widened to whole hours. The hours' rows are deleted and rebuilt in one
    transaction (serialised by an advisory lock), so running any window twice gives the same
    rows. Returns the number of rows written.
    """
    start, end = floor_hour(start), ceil_hour(end)
    if end <= start:
        return 0
    sql = _ROLLUP_SQL.format(
        perf=AdPerformance._meta.db_table,
        decision=Decision._meta.db_table,
        engagement=AdEngagement._meta.db_table,
        ledger=LedgerEntry._meta.db_table,
    )
    params = {
        "start": start,
        "end": end,
        "now": timezone.now(),
        "house": DecisionState.HOUSE,
        "impression": EngagementType.IMPRESSION,
        "click": EngagementType.CLICK,
        "interaction": EngagementType.INTERACTION,
        "conversion": EngagementType.CONVERSION,
        "charge_kinds": [str(kind) for kind in CHARGE_KINDS],
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK_ID])
        AdPerformance.objects.filter(hour__gte=start, hour__lt=end).delete()
        cursor.execute(sql, params)
        written = cursor.rowcount
    return written


def _ranges(hours: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Sorted hours as contiguous ``[start, end)`` windows."""
    out: list[tuple[datetime, datetime]] = []
    for hour in sorted(set(hours)):
        if out and out[-1][1] == hour:
            out[-1] = (out[-1][0], hour + HOUR)
        else:
            out.append((hour, hour + HOUR))
    return out


def _touched_hours(model, time_field: str, *, after_id: int) -> tuple[set[datetime], int]:
    """Hours of the rows stored after the watermark ``after_id``, and the new watermark."""
    rows = (
        model.objects.filter(id__gt=after_id)
        .annotate(h=TruncHour(time_field))
        .values("h")
        .annotate(top=Max("id"))
        .order_by()
    )
    hours, top = set(), after_id
    for row in rows:
        hours.add(row["h"])
        top = max(top, row["top"])
    return hours, top


def _hourly(qs, time_field: str, value) -> dict[datetime, Any]:
    return dict(qs.annotate(h=TruncHour(time_field)).values("h").annotate(v=value).order_by().values_list("h", "v"))


def _hours_out_of_step(*, since: datetime, until: datetime) -> set[datetime]:
    """Hours whose raw decision count, event count or spend differs from the roll-up's.

    The safety net under the watermarks: it finds decisions drained late (they carry the time
    they were made, not stored) and rows a concurrent writer committed out of id order.
    """
    rolled = {
        row["hour"]: row
        for row in AdPerformance.objects.filter(hour__gte=since, hour__lt=until)
        .values("hour")
        .annotate(
            decisions=Sum("decisions"),
            events=Sum(F("impressions") + F("clicks") + F("interactions") + F("conversions") + F("invalid_events")),
            spend=Sum("spend"),
        )
        .order_by()
    }
    raw = {
        "decisions": _hourly(
            Decision.objects.filter(created_at__gte=since, created_at__lt=until), "created_at", Count("id")
        ),
        "events": _hourly(
            AdEngagement.objects.filter(occurred_at__gte=since, occurred_at__lt=until), "occurred_at", Count("id")
        ),
        "spend": _hourly(
            LedgerEntry.objects.filter(kind__in=CHARGE_KINDS, created_at__gte=since, created_at__lt=until),
            "created_at",
            Sum("amount"),
        ),
    }
    out: set[datetime] = set()
    for name, counts in raw.items():
        for hour in counts.keys() | rolled.keys():
            if (counts.get(hour) or 0) != (rolled.get(hour, {}).get(name) or 0):
                out.add(hour)
    return out


def performance_rollup_recent(*, now: datetime | None = None, check: bool | None = None) -> dict[str, Any]:
    """The beat job's work: roll up the current and previous hour and every hour late rows touched.

    ``check`` forces (or skips) the comparison of the last day's hourly counts with the roll-up
    (``_hours_out_of_step``); by default it runs at most every ``CHECK_EVERY`` seconds.
    Returns what was done (also logged).
    """
    now = now or timezone.now()
    current = floor_hour(now)
    client = get_redis()
    state = {k.decode(): v.decode() for k, v in client.hgetall(STATE_KEY).items()}
    hours = {current - HOUR, current}
    late: set[datetime] = set()
    rebuilt = not state
    if rebuilt:
        # First run, or Redis lost the watermarks: rebuild as far back as a late row can reach.
        hours |= {current - HOUR * i for i in range(int(REBUILD_WINDOW / HOUR) + 1)}
        event_top = AdEngagement.objects.aggregate(top=Max("id"))["top"] or 0
        ledger_top = LedgerEntry.objects.aggregate(top=Max("id"))["top"] or 0
    else:
        event_hours, event_top = _touched_hours(AdEngagement, "occurred_at", after_id=int(state["engagements"]))
        ledger_hours, ledger_top = _touched_hours(LedgerEntry, "created_at", after_id=int(state["ledger"]))
        late = event_hours | ledger_hours
        if check is None:
            check = bool(client.set(CHECK_KEY, "1", nx=True, ex=CHECK_EVERY))
        if check:
            late |= _hours_out_of_step(since=current - CHECK_WINDOW, until=current - HOUR)
        late -= hours
    hours |= late

    written = 0
    windows = _ranges(hours)
    for start, end in windows:
        written += performance_rollup(start=start, end=end)
    client.hset(STATE_KEY, mapping={"engagements": event_top, "ledger": ledger_top, "at": now.isoformat()})
    result = {
        "hours": len(hours),
        "windows": [f"{start:%Y-%m-%dT%H}:00Z/{end:%Y-%m-%dT%H}:00Z" for start, end in windows],
        "late_hours": sorted(f"{hour:%Y-%m-%dT%H}:00Z" for hour in late),
        "rows": written,
        "rebuilt": rebuilt,
    }
    logger.info("performance rolled up", extra=result)
    return result


def campaign_ctr_counts() -> dict[int, tuple[int, int]]:
    """``campaign id -> (impressions, clicks)`` over the last 30 days, for the auction's CTR estimates."""
    rows = (
        AdPerformance.objects.filter(campaign__isnull=False, hour__gte=floor_hour(timezone.now()) - CTR_WINDOW)
        .values("campaign_id")
        .annotate(i=Sum("impressions"), c=Sum("clicks"))
        .order_by()
        .values_list("campaign_id", "i", "c")
    )
    return {campaign_id: (int(i or 0), int(c or 0)) for campaign_id, i, c in rows}


# --------------------------------------------------------------------------- figures


def _ratio(part: int | Decimal, whole: int) -> float | None:
    return float(part) / whole if whole else None


@dataclass(frozen=True)
class Figures:
    """Summed counters of some rows of ``AdPerformance`` and the rates derived from them.

    Rates are ``None`` when their denominator is zero (no impressions, no decisions).
    """

    decisions: int = 0
    fills_paid: int = 0
    fills_house: int = 0
    impressions: int = 0
    viewable_impressions: int = 0
    clicks: int = 0
    interactions: int = 0
    conversions: int = 0
    invalid_events: int = 0
    spend: Decimal = Decimal("0")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Figures:
        values = {f.name: row.get(f.name) or 0 for f in fields(cls)}
        values["spend"] = Decimal(values["spend"] or 0)
        return cls(**values)

    def __add__(self, other: Figures) -> Figures:
        return Figures(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @property
    def revenue(self) -> Decimal:
        """What the advertisers spent in these containers: the owner's figure."""
        return self.spend

    @property
    def ctr(self) -> float | None:
        return _ratio(self.clicks, self.impressions)

    @property
    def viewable_rate(self) -> float | None:
        return _ratio(self.viewable_impressions, self.impressions)

    @property
    def ecpm(self) -> Decimal | None:
        if not self.impressions:
            return None
        return (self.spend * 1000 / self.impressions).quantize(Decimal("0.000001"))

    @property
    def fill_rate(self) -> float | None:
        """Paid fills over decisions (house content fills a slot but earns nothing)."""
        return _ratio(self.fills_paid, self.decisions)

    @property
    def house_fill_rate(self) -> float | None:
        return _ratio(self.fills_house, self.decisions)

    @property
    def events(self) -> int:
        return self.impressions + self.clicks + self.interactions + self.conversions + self.invalid_events

    @property
    def invalid_rate(self) -> float | None:
        return _ratio(self.invalid_events, self.events)

    @property
    def is_empty(self) -> bool:
        return self == Figures()

    # As the pages show them: "$0.0125", "1.2%", "—" for a rate without a denominator.
    @property
    def spend_text(self) -> str:
        return _money_text(self.spend)

    @property
    def revenue_text(self) -> str:
        return _money_text(self.revenue)

    @property
    def ecpm_text(self) -> str:
        return _money_text(self.ecpm)

    @property
    def ctr_text(self) -> str:
        return _percent_text(self.ctr, 2)

    @property
    def viewable_text(self) -> str:
        return _percent_text(self.viewable_rate)

    @property
    def fill_text(self) -> str:
        return _percent_text(self.fill_rate)

    @property
    def house_fill_text(self) -> str:
        return _percent_text(self.house_fill_rate)

    @property
    def invalid_text(self) -> str:
        return _percent_text(self.invalid_rate, 2)


def _money_text(value: Decimal | None) -> str:
    from ads.charts import money

    return "—" if value is None else money(value)


def _percent_text(ratio: float | None, places: int = 1) -> str:
    return "—" if ratio is None else f"{ratio * 100:.{places}f}%"


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.6f}"


def advertiser_figures(f: Figures) -> dict[str, Any]:
    """An advertiser's figures as the API, the CSV and the live panel spell them (money as strings)."""
    return {
        "impressions": f.impressions,
        "viewable_impressions": f.viewable_impressions,
        "viewable_rate": _rate(f.viewable_rate),
        "clicks": f.clicks,
        "ctr": _rate(f.ctr),
        "interactions": f.interactions,
        "conversions": f.conversions,
        "invalid": f.invalid_events,
        "spend": _money(f.spend),
        "ecpm": _money(f.ecpm),
    }


def owner_figures(f: Figures) -> dict[str, Any]:
    """An owner's figures: revenue (what advertisers spent in their containers) and fill rate."""
    return {
        "decisions": f.decisions,
        "fills_paid": f.fills_paid,
        "fills_house": f.fills_house,
        "fill_rate": _rate(f.fill_rate),
        "impressions": f.impressions,
        "viewable_impressions": f.viewable_impressions,
        "viewable_rate": _rate(f.viewable_rate),
        "clicks": f.clicks,
        "ctr": _rate(f.ctr),
        "interactions": f.interactions,
        "conversions": f.conversions,
        "invalid": f.invalid_events,
        "revenue": _money(f.revenue),
        "ecpm": _money(f.ecpm),
    }


def _sums() -> dict[str, Sum]:
    return {f.name: Sum(f.name) for f in fields(Figures)}


# --------------------------------------------------------------------------- ranges


@dataclass(frozen=True)
class ReportRange:
    """``[start, end)`` aligned to whole periods of ``granularity`` (UTC)."""

    start: datetime
    end: datetime
    granularity: str = "day"

    @classmethod
    def from_bounds(cls, start: datetime, end: datetime, granularity: str) -> ReportRange:
        start, end = floor_hour(start), ceil_hour(end)
        if granularity == "day":
            start = start.replace(hour=0)
            if end.hour:
                end = end.replace(hour=0) + DAY
        return cls(start, end, granularity)

    @classmethod
    def from_dates(cls, first: date, last: date, granularity: str = "day") -> ReportRange:
        """From the first to the last day, both included."""
        start = datetime.combine(first, time(), tzinfo=UTC)
        return cls(start, datetime.combine(last, time(), tzinfo=UTC) + DAY, granularity)

    @classmethod
    def default(cls, *, days: int = 7, granularity: str = "day") -> ReportRange:
        today = timezone.now().astimezone(UTC).date()
        return cls.from_dates(today - timedelta(days=days - 1), today, granularity)

    @property
    def step(self) -> timedelta:
        return HOUR if self.granularity == "hour" else DAY

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).date()

    def periods(self) -> list[datetime]:
        out, moment = [], self.start
        while moment < self.end:
            out.append(moment)
            moment += self.step
        return out

    def label(self, period: datetime) -> str:
        return period.strftime("%Y-%m-%d %H:00") if self.granularity == "hour" else period.strftime("%Y-%m-%d")

    def iso(self, period: datetime) -> str:
        """The API's ``period``: the hour as an ISO time in UTC, or the day as a date."""
        return period.strftime("%Y-%m-%dT%H:00:00Z") if self.granularity == "hour" else period.strftime("%Y-%m-%d")


def range_errors(start: datetime | None, end: datetime | None, granularity: str | None) -> dict[str, list[str]]:
    """What is wrong with a requested range (empty when nothing): shared by the pages' form and the API."""
    errors: dict[str, list[str]] = {}
    if granularity is not None and granularity not in GRANULARITIES:
        errors["granularity"] = ["Choose hour or day."]
    if start is None or end is None:
        return errors
    if end <= start:
        errors["to"] = ["The end of the range must not be before its start."]
    elif end - start > timedelta(days=MAX_RANGE_DAYS):
        errors["to"] = [f"A report covers at most {MAX_RANGE_DAYS} days."]
    elif granularity == "hour" and end - start > timedelta(days=MAX_HOURLY_DAYS):
        errors["granularity"] = [f"Hourly figures cover at most {MAX_HOURLY_DAYS} days; choose day."]
    return errors


# --------------------------------------------------------------------------- scopes


def performance_of_campaign(campaign: Campaign) -> QuerySet[AdPerformance]:
    return AdPerformance.objects.filter(campaign_id=campaign.pk)


def performance_of_campaigns(campaigns: QuerySet[Campaign]) -> QuerySet[AdPerformance]:
    return AdPerformance.objects.filter(campaign_id__in=campaigns.values("id"))


def performance_of_game(game) -> QuerySet[AdPerformance]:
    return AdPerformance.objects.filter(game_id=game.pk)


def performance_of_games(games) -> QuerySet[AdPerformance]:
    return AdPerformance.objects.filter(game_id__in=games.values("id"))


def performance_all() -> QuerySet[AdPerformance]:
    return AdPerformance.objects.all()


# --------------------------------------------------------------------------- report selectors


@dataclass(frozen=True)
class SeriesRow:
    period: datetime
    label: str
    iso: str
    figures: Figures


@dataclass(frozen=True)
class BreakdownRow:
    key: Any
    label: str
    figures: Figures
    detail: str = ""


def _within(qs: QuerySet[AdPerformance], rng: ReportRange) -> QuerySet[AdPerformance]:
    return qs.filter(hour__gte=rng.start, hour__lt=rng.end)


def report_totals(qs: QuerySet[AdPerformance], rng: ReportRange | None = None) -> Figures:
    """The figures of every row in the range (all time without one)."""
    if rng is not None:
        qs = _within(qs, rng)
    return Figures.from_row(qs.aggregate(**_sums()))


def report_series(qs: QuerySet[AdPerformance], rng: ReportRange) -> list[SeriesRow]:
    """One row per hour or day of the range, periods without data included as zeros."""
    period = F("hour") if rng.granularity == "hour" else TruncDay("hour", tzinfo=UTC)
    rows = _within(qs, rng).annotate(period=period).values("period").annotate(**_sums()).order_by("period")
    found = {row["period"].astimezone(UTC): Figures.from_row(row) for row in rows}
    return [SeriesRow(p, rng.label(p), rng.iso(p), found.get(p, Figures())) for p in rng.periods()]


BREAKDOWNS = {
    "game": "game_id",
    "container": "container_id",
    "country": "country",
    "device": "device",
    "creative": "creative_id",
    "campaign": "campaign_id",
}
BREAKDOWN_TITLES = {
    "game": "Game",
    "container": "Container",
    "country": "Country",
    "device": "Device",
    "creative": "Creative",
    "campaign": "Campaign",
}
DEVICE_LABELS = {"desktop": "Desktop", "mobile": "Phone", "tablet": "Tablet", "console": "Console", "vr": "VR"}


def _labels(by: str, keys: list[Any]) -> dict[Any, tuple[str, str]]:
    """``key -> (label, detail)`` for a breakdown, in one query per breakdown at most."""
    from games.models import AdContainer, Game

    present = [k for k in keys if k not in (None, "")]
    if by == "game":
        return {g.pk: (g.name, "") for g in Game.objects.filter(pk__in=present).only("name")}
    if by == "container":
        return {c.pk: (c.name, c.game.name) for c in AdContainer.objects.filter(pk__in=present).select_related("game")}
    if by == "creative":
        return {c.pk: (c.name, c.get_kind_display()) for c in Creative.objects.filter(pk__in=present)}
    if by == "campaign":
        campaigns = Campaign.objects.filter(pk__in=present).select_related("advertiser")
        return {c.pk: (c.name, c.advertiser.company) for c in campaigns}
    if by == "device":
        return {k: (DEVICE_LABELS.get(k, k), "") for k in present}
    return {k: (k, "") for k in present}


UNKNOWN_LABELS = {
    "game": "Unknown game",
    "container": "Deleted container",
    "country": "Unknown",
    "device": "Unknown",
    "creative": "House content and unfilled",
    "campaign": "House content and unfilled",
}


def report_breakdown(
    qs: QuerySet[AdPerformance], rng: ReportRange, by: str, *, order: str = "spend", limit: int | None = None
) -> list[BreakdownRow]:
    """The range's figures per game, container, country, device, creative or campaign, biggest first."""
    column = BREAKDOWNS[by]
    rows = list(_within(qs, rng).values(column).annotate(**_sums()).order_by())
    labels = _labels(by, [row[column] for row in rows])
    out = []
    for row in rows:
        key = row[column]
        label, detail = labels.get(key, (UNKNOWN_LABELS[by] if key in (None, "") else f"#{key}", ""))
        out.append(BreakdownRow(key, label, Figures.from_row(row), detail))
    out.sort(key=lambda r: (getattr(r.figures, order), r.figures.impressions, r.figures.decisions), reverse=True)
    return out[:limit] if limit else out


@dataclass(frozen=True)
class CampaignSummary:
    campaign: Campaign
    figures: Figures


def delivery_by(column: str, ids: list[int], days: int) -> dict[int, Figures]:
    """The last ``days`` days' figures of games (``game_id``) or containers (``container_id``), from the hourly
    roll-up, in one query (what game pages show, through ``games.delivery``)."""
    if not ids:
        return {}
    rng = ReportRange.default(days=days)
    rows = (
        AdPerformance.objects.filter(**{f"{column}__in": ids}, hour__gte=rng.start, hour__lt=rng.end)
        .values(column)
        .annotate(**{f.name: Sum(f.name) for f in fields(Figures)})
        .order_by()
    )
    return {row[column]: Figures.from_row(row) for row in rows}


def campaign_summaries(campaigns: QuerySet[Campaign], rng: ReportRange) -> list[CampaignSummary]:
    """Each campaign with its figures in the range (campaigns without any included)."""
    rows = _within(performance_of_campaigns(campaigns), rng).values("campaign_id").annotate(**_sums()).order_by()
    by_id = {row["campaign_id"]: Figures.from_row(row) for row in rows}
    return [CampaignSummary(c, by_id.get(c.pk, Figures())) for c in campaigns]


@dataclass(frozen=True)
class GameSummary:
    game: Any
    figures: Figures


def game_summaries(games, rng: ReportRange) -> list[GameSummary]:
    """Each game with its figures in the range (games without any included)."""
    rows = _within(performance_of_games(games), rng).values("game_id").annotate(**_sums()).order_by()
    by_id = {row["game_id"]: Figures.from_row(row) for row in rows}
    return [GameSummary(g, by_id.get(g.pk, Figures())) for g in games]


# --------------------------------------------------------------------------- live figures


def live_today(kind: str, object_id: int) -> dict[str, Any]:
    """Today's figures (UTC) from the events worker's Redis counters, for the pages' live panel."""
    from ads.events import spend_from_micros, today_counters

    day = timezone.now().astimezone(UTC)
    counters = today_counters(kind, object_id, day.strftime("%Y%m%d"))
    figures = Figures(
        impressions=counters.get("impressions", 0),
        viewable_impressions=counters.get("viewable_impressions", 0),
        clicks=counters.get("clicks", 0),
        interactions=counters.get("interactions", 0),
        conversions=counters.get("conversions", 0),
        invalid_events=counters.get("invalid", 0),
        spend=spend_from_micros(counters.get("spend_micros", 0)),
    )
    body = advertiser_figures(figures)
    body["revenue"] = body["spend"]
    return {"day": day.date().isoformat(), "updated_at": day.isoformat().replace("+00:00", "Z"), **body}
