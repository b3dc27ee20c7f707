"""Report pages: advertisers' campaigns, owners' earnings and the staff platform overview.

Every page looks its campaign up through ``campaigns_visible_to`` and its game through
``games_visible_to``, so another advertiser's campaign or another owner's game is a 404 on
the page, its CSV and its live figures alike. The figures come from ``ads.reporting``; the
charts are server-rendered SVG (``ads.charts``); ``static/js/reports.js`` refreshes the live
"today" panel from the JSON views without a reload.
"""

from __future__ import annotations

import csv
from datetime import UTC, timedelta
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Sum
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ads import charts, reporting, revenue_share, selectors
from ads.pacing import pacing_curve
from ads.report_display import advertiser_figures, owner_figures
from ads.reporting import (
    BREAKDOWN_TITLES,
    Figures,
    ReportRange,
    range_errors,
    report_breakdown,
    report_series,
    report_totals,
)
from ads.revenue_share import ShareFigures
from games.selectors import games_visible_to

ADVERTISER = "ADVERTISER"
OWNER = "OWNER"
CAMPAIGN_BREAKDOWNS = ("game", "container", "country", "device", "creative")
GAME_BREAKDOWNS = ("container", "country", "device")
TOP = 10


# --------------------------------------------------------------------------- access


def _role_required(role: str):
    """Logged in, and of ``role`` (or staff, who may read every report)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not (request.user.is_staff or getattr(request.user, "role", None) == role):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


advertiser_required = _role_required(ADVERTISER)
owner_required = _role_required(OWNER)


def staff_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _campaign(request, pk: int):
    return get_object_or_404(selectors.campaigns_visible_to(request.user), pk=pk)


def _game(request, pk: int):
    return get_object_or_404(games_visible_to(request.user), pk=pk)


# --------------------------------------------------------------------------- the range form


class ReportRangeForm(forms.Form):
    """``from``/``to`` (days, both included, UTC) and ``granularity``; the last 7 days by day without them."""

    granularity = forms.ChoiceField(
        choices=[("day", "By day"), ("hour", "By hour")], initial="day", required=False, label="Granularity"
    )

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        default = ReportRange.default()
        date_input = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields["from"] = forms.DateField(label="From", initial=default.first_day, widget=date_input)
        self.fields["to"] = forms.DateField(label="To", initial=default.last_day, widget=date_input)
        self.order_fields(["from", "to", "granularity"])

    def clean(self):
        super().clean()
        data = self.cleaned_data
        data["granularity"] = data.get("granularity") or "day"
        first, last = data.get("from"), data.get("to")
        if first and last:
            if last < first:
                self.add_error("to", "The last day must not be before the first.")
                return data
            rng = ReportRange.from_dates(first, last, data["granularity"])
            for field, messages in range_errors(rng.start, rng.end, rng.granularity).items():
                for message in messages:
                    self.add_error(field, message)
        return data

    def report_range(self) -> ReportRange:
        data = self.cleaned_data
        return ReportRange.from_dates(data["from"], data["to"], data["granularity"])


def _range(request) -> tuple[ReportRangeForm, ReportRange | None]:
    """The bound form and its range; ``None`` when the query is invalid (the form carries the errors)."""
    if not any(key in request.GET for key in ("from", "to", "granularity")):
        default = ReportRange.default()
        form = ReportRangeForm(
            {"from": default.first_day.isoformat(), "to": default.last_day.isoformat(), "granularity": "day"}
        )
        form.is_valid()
        return form, default
    form = ReportRangeForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, form.report_range()


def _query(rng: ReportRange) -> str:
    return f"from={rng.first_day:%Y-%m-%d}&to={rng.last_day:%Y-%m-%d}&granularity={rng.granularity}"


# --------------------------------------------------------------------------- charts


def _short_label(rng: ReportRange, period) -> str:
    if rng.granularity == "day":
        return period.strftime("%b %d").replace(" 0", " ")
    if rng.end - rng.start <= reporting.DAY:
        return period.strftime("%H:00")
    return period.strftime("%d %Hh")


def _chart_series(qs, rng: ReportRange):
    """The chart's periods: a one-day range is drawn by hour (one bar for a day says nothing)."""
    if rng.granularity == "day" and rng.end - rng.start <= reporting.DAY:
        rng = ReportRange(rng.start, rng.end, "hour")
    return rng, report_series(qs, rng)


def _rollup_marker(rng: ReportRange, series) -> int | None:
    """The period where the figures still grow: the current hour (or today), where live counters run ahead."""
    now = timezone.now()
    current = reporting.floor_hour(now) if rng.granularity == "hour" else reporting.floor_hour(now).replace(hour=0)
    for index, row in enumerate(series):
        if row.period == current:
            return index
    return None


ROLLUP_NOTE = "The dashed orange line marks the period still being rolled up: live figures run ahead of it."


def _multiples(qs, rng: ReportRange, measures) -> str:
    chart_rng, series = _chart_series(qs, rng)
    labels = [_short_label(chart_rng, row.period) for row in series]
    marker = _rollup_marker(chart_rng, series)
    # the money measure first, as bars (an amount per period); counts and rates as lines
    panels = [
        charts.Panel(name, [getter(row.figures) for row in series], fmt, colour, "bar" if i == 0 else "line", whole)
        for i, (name, getter, fmt, colour, whole) in enumerate(measures)
    ]
    note = "Each measure has its own axis; hover or tap a period for its figure."
    return charts.small_multiples(
        labels=labels,
        panels=panels,
        title="Delivery by period",
        marker=marker,
        note=note + (" " + ROLLUP_NOTE if marker is not None else ""),
    )


def _advertiser_chart(qs, rng: ReportRange) -> str:
    return _multiples(qs, rng, [
        ("Spend", lambda f: f.spend, charts.money_axis, "#1f6feb", False),
        ("Impressions", lambda f: f.impressions, charts.compact, "#1a7f37", True),
        ("Clicks", lambda f: f.clicks, charts.compact, "#b35900", True),
        ("CTR", lambda f: f.ctr or 0, charts.percent, "#8250df", False),
    ])  # fmt: skip


def _owner_chart(qs, rng: ReportRange) -> str:
    return _multiples(qs, rng, [
        ("Revenue", lambda f: f.revenue, charts.money_axis, "#1f6feb", False),
        ("Impressions", lambda f: f.impressions, charts.compact, "#1a7f37", True),
        ("Ad requests", lambda f: f.decisions, charts.compact, "#b35900", True),
        ("Fill rate", lambda f: f.fill_rate or 0, charts.percent, "#8250df", False),
    ])  # fmt: skip


def _platform_chart(qs, rng: ReportRange) -> str:
    return _multiples(qs, rng, [
        ("Spend", lambda f: f.spend, charts.money_axis, "#1f6feb", False),
        ("Decisions", lambda f: f.decisions, charts.compact, "#1a7f37", True),
        ("Invalid events", lambda f: f.invalid_events, charts.compact, "#c9372c", True),
    ])  # fmt: skip


# --------------------------------------------------------------------------- pacing


def _pacing_chart(campaign) -> str:
    """Spend vs plan today (UTC), for EVEN pacing: cumulative spend by hour and the linear plan, one axis."""
    from ads.models import Pacing

    if campaign.pacing != Pacing.EVEN:
        return ""
    now = timezone.now().astimezone(UTC)
    curve = pacing_curve(campaign, now.date())
    shown = [point for point in curve if point["hour"] <= now.hour]
    if not shown or (campaign.status != "ACTIVE" and not any(point["spent"] for point in shown)):
        return ""  # nothing serves today: no curve to compare
    return charts.small_multiples(
        labels=[f"{point['hour']:02d}:00" for point in shown],
        panels=[
            charts.Panel(
                "Spent today",
                [point["spent"] for point in shown],
                charts.money_axis,
                "#1f6feb",
                whole=False,
                reference=[point["plan"] for point in shown],
                reference_name="Plan (even pacing)",
            )
        ],
        title="Spend against the even-pacing plan, today (UTC)",
        note="Cumulative confirmed spend by hour (UTC) against the plan: today's target (the daily budget, or "
        "what is left spread over the days left) on a straight line across the day.",
    )


# --------------------------------------------------------------------------- CSV


def _cell(value) -> str:
    """A CSV cell that a spreadsheet never runs as a formula (names come from other accounts)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_response(filename: str, header: list[str], rows: list[list]) -> HttpResponse:
    # RFC 4180's header=present: the first row names the columns. Values stay machine-readable: amounts
    # in USD with 6 decimals, rates as fractions (0.04 is 4 %), periods as UTC dates or ISO 8601 hours.
    response = HttpResponse(content_type="text/csv; charset=utf-8; header=present")
    response["Content-Language"] = "en"
    response["X-CSV-Units"] = "money=USD 6 decimals; rates=fractions 0..1; periods=UTC ISO 8601"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return response


def _csv_bad_range(form: ReportRangeForm) -> HttpResponse:
    messages = [f"{field}: {error}" for field, errors in form.errors.items() for error in errors]
    return HttpResponse("\n".join(messages), status=400, content_type="text/plain; charset=utf-8")


def _bad_breakdown(choices) -> HttpResponse:
    return HttpResponse("by: choose one of " + ", ".join(choices), status=400, content_type="text/plain; charset=utf-8")


def _figures_csv(filename, rng, qs, shape, by: str | None) -> HttpResponse:
    columns = list(shape(Figures()).keys())
    if by:
        rows = [[row.key, row.label, *shape(row.figures).values()] for row in report_breakdown(qs, rng, by)]
        return _csv_response(filename, [by, "name", *columns], rows)
    rows = [[row.iso, *shape(row.figures).values()] for row in report_series(qs, rng)]
    rows.append(["total", *shape(report_totals(qs, rng)).values()])
    return _csv_response(filename, ["period", *columns], rows)


# --------------------------------------------------------------------------- page helpers


def _breakdowns(qs, rng: ReportRange, keys, order: str = "spend"):
    """Each breakdown's rows; countries by their names (``FR`` reads ``France``)."""
    from dataclasses import replace

    from adplatform.core.formatting import country_name

    out = []
    for by in keys:
        rows = report_breakdown(qs, rng, by, order=order)
        if by == "country":
            rows = [replace(row, label=country_name(row.key)) if row.key else row for row in rows]
        out.append((by, BREAKDOWN_TITLES[by], rows))
    return out


def _rollup_today(qs) -> dict:
    """Today's (UTC) figures as rolled up, and when the roll-up last ran: the live panel shows the
    difference as "live since the last roll-up"."""
    today = ReportRange.default(days=1)
    scoped = qs.filter(hour__gte=today.start, hour__lt=today.end)
    figures = Figures.from_row(scoped.aggregate(**{name: Sum(name) for name in _FIGURE_FIELDS}))
    last = scoped.aggregate(at=Max("updated_at"))["at"]
    return {
        "figures": figures,
        "at": last,
        **advertiser_figures(figures),
        "revenue": advertiser_figures(figures)["spend"],
    }


_FIGURE_FIELDS = ("decisions", "fills_paid", "fills_house", "impressions", "viewable_impressions", "clicks",
                  "interactions", "conversions", "invalid_events", "spend")  # fmt: skip


# --------------------------------------------------------------------------- invalid traffic

INVALID_REASONS = {
    "rate_player": "Too many events from one player in a short time (more than a person can make).",
    "rate_server": "Too many events from one game server in a short time.",
    "duplicate_impression": "A second impression for the same ad decision: only the first counts.",
    "click_without_impression": "A click on an ad that was never reported as shown.",
    "click_too_fast": "A click faster than a person can react after the ad appeared.",
}
INVALID_DAYS = 7
INVALID_RECENT = 50


def _invalid_page(request, *, title: str, back_url: str, back_label: str, scope: dict):
    from ads.models import AdEngagement

    since = timezone.now() - timedelta(days=INVALID_DAYS)
    events = AdEngagement.objects.filter(**scope, occurred_at__gte=since).exclude(invalid_reason="")
    reasons = [
        {"code": row["invalid_reason"], "count": row["n"],
         "why": INVALID_REASONS.get(row["invalid_reason"], row["invalid_reason"].replace("_", " ").capitalize() + ".")}
        for row in events.values("invalid_reason").annotate(n=Count("id")).order_by("-n", "invalid_reason")
    ]  # fmt: skip
    recent = list(
        events.order_by("-occurred_at").values(
            "occurred_at", "type", "invalid_reason", "player_id", "server_id", "container_id", "game_id"
        )[:INVALID_RECENT]
    )
    from games.models import AdContainer

    names = dict(
        AdContainer.objects.filter(pk__in={r["container_id"] for r in recent if r["container_id"]}).values_list(
            "id", "name"
        )
    )
    rows = [
        {
            **row,
            "why": INVALID_REASONS.get(row["invalid_reason"], row["invalid_reason"]),
            "container": names.get(row["container_id"], "") if row["container_id"] else "",
        }
        for row in recent
    ]
    return render(
        request,
        "reports/invalid.html",
        {
            "title": title,
            "back_url": back_url,
            "back_label": back_label,
            "reasons": reasons,
            "recent": rows,
            "total": sum(r["count"] for r in reasons),
            "days": INVALID_DAYS,
        },
    )


@require_GET
@login_required
def campaign_invalid(request, pk: int):
    campaign = _campaign(request, pk)
    return _invalid_page(
        request,
        title=f"Invalid traffic · {campaign.name}",
        back_url=reverse("reports:campaign", args=[campaign.pk]),
        back_label=f"{campaign.name} report",
        scope={"campaign_id": campaign.pk},
    )


@require_GET
@login_required
def game_invalid(request, pk: int):
    game = _game(request, pk)
    return _invalid_page(
        request,
        title=f"Invalid traffic · {game.name}",
        back_url=reverse("reports:game", args=[game.pk]),
        back_label=f"{game.name} earnings",
        scope={"game_id": game.pk},
    )


# --------------------------------------------------------------------------- pages


@login_required
def reports_home(request):
    """The reports a person has: staff the platform, advertisers their campaigns, owners their earnings."""
    if request.user.is_staff:
        return redirect("reports:platform")
    if getattr(request.user, "role", None) == ADVERTISER:
        return redirect("reports:campaigns")
    return redirect("reports:earnings")


@require_GET
@advertiser_required
def campaigns_overview(request):
    form, rng = _range(request)
    campaigns = selectors.campaigns_visible_to(request.user).order_by("-created_at", "-id")
    context: dict[str, Any] = {"form": form, "rng": rng, "has_campaigns": campaigns.exists()}
    if rng is not None:
        qs = reporting.performance_of_campaigns(campaigns)
        totals = report_totals(qs, rng)
        context.update(
            summaries=reporting.campaign_summaries(campaigns, rng),
            totals=totals,
            chart=_advertiser_chart(qs, rng) if not totals.is_empty else "",
            query=_query(rng),
        )
    return render(request, "reports/campaigns.html", context)


@require_GET
@advertiser_required
def campaigns_overview_csv(request):
    form, rng = _range(request)
    if rng is None:
        return _csv_bad_range(form)
    campaigns = selectors.campaigns_visible_to(request.user).order_by("-created_at", "-id")
    header = ["campaign_id", "campaign", "status", "total_budget", "spent", *advertiser_figures(Figures()).keys()]
    rows = [
        [s.campaign.pk, s.campaign.name, s.campaign.status, s.campaign.total_budget, s.campaign.spent,
         *advertiser_figures(s.figures).values()]
        for s in reporting.campaign_summaries(campaigns, rng)
    ]  # fmt: skip
    return _csv_response(f"campaigns-{rng.first_day}-{rng.last_day}.csv", header, rows)


@require_GET
@login_required
def campaign_report(request, pk: int):
    campaign = _campaign(request, pk)
    form, rng = _range(request)
    context = {"campaign": campaign, "form": form, "rng": rng}
    if rng is not None:
        qs = reporting.performance_of_campaign(campaign)
        series = report_series(qs, rng)
        totals = report_totals(qs, rng)
        context.update(
            totals=totals,
            all_time=report_totals(qs),
            series=series,
            chart=_advertiser_chart(qs, rng) if not totals.is_empty else "",
            breakdowns=_breakdowns(qs, rng, CAMPAIGN_BREAKDOWNS),
            query=_query(rng),
            pacing_chart=_pacing_chart(campaign),
            invalid_url=reverse("reports:campaign-invalid", args=[campaign.pk]),
        )
    context["rollup"] = _rollup_today(reporting.performance_of_campaign(campaign))
    return render(request, "reports/campaign.html", context)


@require_GET
@login_required
def campaign_report_csv(request, pk: int):
    campaign = _campaign(request, pk)
    qs = reporting.performance_of_campaign(campaign)
    return _report_csv(request, f"campaign-{campaign.pk}", qs, CAMPAIGN_BREAKDOWNS, advertiser_figures)


def _report_csv(request, prefix: str, qs, breakdowns, figures):
    """One report's figures as CSV, by period or (``?by=``) by one of ``breakdowns``."""
    form, rng = _range(request)
    if rng is None:
        return _csv_bad_range(form)
    by = request.GET.get("by") or None
    if by is not None and by not in breakdowns:
        return _bad_breakdown(breakdowns)
    name = f"{prefix}-{rng.first_day}-{rng.last_day}{'-by-' + by if by else ''}.csv"
    return _figures_csv(name, rng, qs, figures, by)


@never_cache
@require_GET
@login_required
def campaign_live(request, pk: int):
    campaign = _campaign(request, pk)
    return JsonResponse(reporting.live_today("campaign", campaign.pk))


@require_GET
@owner_required
def earnings_overview(request):
    form, rng = _range(request)
    games = games_visible_to(request.user).order_by("name", "id")
    context: dict[str, Any] = {"form": form, "rng": rng, "has_games": games.exists()}
    if rng is not None:
        qs = reporting.performance_of_games(games)
        totals = report_totals(qs, rng)
        summaries = reporting.game_summaries(games, rng)
        context.update(
            summaries=summaries,
            totals=totals,
            chart=_owner_chart(qs, rng) if not totals.is_empty else "",
            query=_query(rng),
            revenue_share=_revenue_share_context(summaries, rng, totals),
        )
    return render(request, "reports/earnings.html", context)


@require_GET
@owner_required
def earnings_overview_csv(request):
    form, rng = _range(request)
    if rng is None:
        return _csv_bad_range(form)
    games = games_visible_to(request.user).order_by("name", "id")
    summaries = reporting.game_summaries(games, rng)
    shares = revenue_share.share_by_game([s.game.pk for s in summaries], rng.start, rng.end)
    header = ["game_id", "game", *owner_figures(Figures()).keys(), *revenue_share.EARNINGS_COLUMNS]
    rows = [
        [
            s.game.pk,
            s.game.name,
            *owner_figures(s.figures).values(),
            *revenue_share.earnings_columns(s.figures.revenue, shares.get(s.game.pk, ShareFigures())).values(),
        ]
        for s in summaries
    ]
    return _csv_response(f"earnings-{rng.first_day}-{rng.last_day}.csv", header, rows)


def _revenue_share_context(summaries, rng: ReportRange, totals: Figures) -> dict:
    """Gross, Roblox's revenue share on ad integrations and net, in total and per game (the earnings pages)."""
    game_ids = [s.game.pk for s in summaries]
    shares = revenue_share.share_by_game(game_ids, rng.start, rng.end)
    total = sum(shares.values(), ShareFigures())
    return {
        "total": revenue_share.earnings_columns(totals.revenue, total),
        "games": [
            (s.game, revenue_share.earnings_columns(s.figures.revenue, shares.get(s.game.pk, ShareFigures())))
            for s in summaries
        ],
        "schedules": revenue_share.schedules_in_force(),
    }


@require_GET
@login_required
def game_report(request, pk: int):
    game = _game(request, pk)
    form, rng = _range(request)
    context = {"game": game, "form": form, "rng": rng}
    if rng is not None:
        qs = reporting.performance_of_game(game)
        series = report_series(qs, rng)
        totals = report_totals(qs, rng)
        context.update(
            totals=totals,
            series=series,
            revenue_share=_revenue_share_context([reporting.GameSummary(game, totals)], rng, totals),
            chart=_owner_chart(qs, rng) if not totals.is_empty else "",
            breakdowns=_breakdowns(qs, rng, GAME_BREAKDOWNS, order="revenue"),
            query=_query(rng),
            invalid_url=reverse("reports:game-invalid", args=[game.pk]),
        )
    context["rollup"] = _rollup_today(reporting.performance_of_game(game))
    return render(request, "reports/game.html", context)


@require_GET
@login_required
def game_report_csv(request, pk: int):
    game = _game(request, pk)
    qs = reporting.performance_of_game(game)
    if not request.GET.get("by"):
        # By period: the owner's figures with qualified visits, gross, Roblox's revenue share and net beside them.
        form, rng = _range(request)
        if rng is None:
            return _csv_bad_range(form)
        shares = revenue_share.share_by_period([game.pk], rng.start, rng.end, rng.granularity)
        header = ["period", *owner_figures(Figures()).keys(), *revenue_share.EARNINGS_COLUMNS]
        rows = [
            [
                row.iso,
                *owner_figures(row.figures).values(),
                *revenue_share.earnings_columns(row.figures.revenue, shares.get(row.period, ShareFigures())).values(),
            ]
            for row in report_series(qs, rng)
        ]
        totals = report_totals(qs, rng)
        total_share = revenue_share.share_total([game.pk], rng.start, rng.end)
        rows.append(
            [
                "total",
                *owner_figures(totals).values(),
                *revenue_share.earnings_columns(totals.revenue, total_share).values(),
            ]
        )
        return _csv_response(f"game-{game.pk}-{rng.first_day}-{rng.last_day}.csv", header, rows)
    return _report_csv(request, f"game-{game.pk}", qs, GAME_BREAKDOWNS, owner_figures)


@never_cache
@require_GET
@login_required
def game_live(request, pk: int):
    game = _game(request, pk)
    return JsonResponse(reporting.live_today("game", game.pk))


@require_GET
@staff_required
def platform_overview(request):
    form, rng = _range(request)
    context: dict[str, Any] = {"form": form, "rng": rng}
    if rng is not None:
        qs = reporting.performance_all()
        totals = report_totals(qs, rng)
        context.update(
            totals=totals,
            chart=_platform_chart(qs, rng) if not totals.is_empty else "",
            top_campaigns=[r for r in report_breakdown(qs, rng, "campaign", limit=TOP + 1) if r.key][:TOP],
            top_games=report_breakdown(qs, rng, "game", limit=TOP),
            devices=report_breakdown(qs, rng, "device"),
            query=_query(rng),
            admin_url=reverse("admin:ads_adperformance_changelist"),
        )
    return render(request, "reports/platform.html", context)
