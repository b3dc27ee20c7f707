"""Performance reports: the read side of ``AdPerformance`` (the hourly roll-up writes it, :mod:`ads.rollups`).

Report selectors return plain figures (``Figures``) per period, per breakdown key or in total;
pages, CSV and the management API all read them, scoped by ``campaigns_visible_to`` and
``games_visible_to`` at their boundary.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone

from ads.models import AdPerformance, Campaign, Creative
from ads.report_display import FiguresText, advertiser_figures

logger = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
CTR_WINDOW = timedelta(days=30)

MAX_RANGE_DAYS = 366
MAX_HOURLY_DAYS = 31
GRANULARITIES = ("hour", "day")


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floored = floor_hour(moment)
    return floored if floored == moment else floored + HOUR


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
class Figures(FiguresText):
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
    def from_row(cls, row: Mapping[str, Any]) -> Figures:
        values: dict[str, Any] = {f.name: row.get(f.name) or 0 for f in fields(cls)}
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
