"""Report pages: advertisers' campaigns, owners' earnings and the staff platform overview.

Every page looks its campaign up through ``campaigns_visible_to`` and its game through
``games_visible_to``, so another advertiser's campaign or another owner's game is a 404 on
the page, its CSV and its live figures alike. The figures come from ``ads.reporting``; the
charts are server-rendered SVG (``ads.charts``); ``static/js/reports.js`` refreshes the live
"today" panel from the JSON views without a reload.
"""

from __future__ import annotations

import csv
from functools import wraps

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ads import charts, reporting, revenue_share, selectors
from ads.reporting import (
    BREAKDOWN_TITLES,
    Figures,
    ReportRange,
    advertiser_figures,
    owner_figures,
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
        data = super().clean()
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


def _advertiser_chart(rng: ReportRange, series) -> str:
    labels = [_short_label(rng, row.period) for row in series]
    return charts.line_chart(
        labels=labels,
        title="Spend, impressions and clicks",
        bars=charts.Series("Spend", [row.figures.spend for row in series]),
        bars_format=charts.money,
        series=[
            charts.Series("Impressions", [row.figures.impressions for row in series]),
            charts.Series("Clicks", [row.figures.clicks for row in series]),
        ],
    )


def _owner_chart(rng: ReportRange, series) -> str:
    labels = [_short_label(rng, row.period) for row in series]
    return charts.line_chart(
        labels=labels,
        title="Revenue, impressions and decisions",
        bars=charts.Series("Revenue", [row.figures.revenue for row in series]),
        bars_format=charts.money,
        series=[
            charts.Series("Impressions", [row.figures.impressions for row in series]),
            charts.Series("Decisions", [row.figures.decisions for row in series]),
        ],
    )


# --------------------------------------------------------------------------- CSV


def _cell(value) -> str:
    """A CSV cell that a spreadsheet never runs as a formula (names come from other accounts)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_response(filename: str, header: list[str], rows: list[list]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
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
    context = {"form": form, "rng": rng, "has_campaigns": campaigns.exists()}
    if rng is not None:
        qs = reporting.performance_of_campaigns(campaigns)
        series = report_series(qs, rng)
        totals = report_totals(qs, rng)
        context.update(
            summaries=reporting.campaign_summaries(campaigns, rng),
            totals=totals,
            chart=_advertiser_chart(rng, series) if not totals.is_empty else "",
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
            chart=_advertiser_chart(rng, series) if not totals.is_empty else "",
            breakdowns=[(by, BREAKDOWN_TITLES[by], report_breakdown(qs, rng, by)) for by in CAMPAIGN_BREAKDOWNS],
            query=_query(rng),
        )
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
    context = {"form": form, "rng": rng, "has_games": games.exists()}
    if rng is not None:
        qs = reporting.performance_of_games(games)
        series = report_series(qs, rng)
        totals = report_totals(qs, rng)
        summaries = reporting.game_summaries(games, rng)
        context.update(
            summaries=summaries,
            totals=totals,
            chart=_owner_chart(rng, series) if not totals.is_empty else "",
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
            chart=_owner_chart(rng, series) if not totals.is_empty else "",
            breakdowns=[
                (by, BREAKDOWN_TITLES[by], report_breakdown(qs, rng, by, order="revenue")) for by in GAME_BREAKDOWNS
            ],
            query=_query(rng),
        )
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
    context = {"form": form, "rng": rng}
    if rng is not None:
        qs = reporting.performance_all()
        series = report_series(qs, rng)
        totals = report_totals(qs, rng)
        labels = [_short_label(rng, row.period) for row in series]
        context.update(
            totals=totals,
            chart=charts.line_chart(
                labels=labels,
                title="Spend, decisions and invalid events",
                bars=charts.Series("Spend", [row.figures.spend for row in series]),
                bars_format=charts.money,
                series=[
                    charts.Series("Decisions", [row.figures.decisions for row in series]),
                    charts.Series("Invalid events", [row.figures.invalid_events for row in series], "#c9372c"),
                ],
            )
            if not totals.is_empty
            else "",
            top_campaigns=[r for r in report_breakdown(qs, rng, "campaign", limit=TOP + 1) if r.key][:TOP],
            top_games=report_breakdown(qs, rng, "game", limit=TOP),
            devices=report_breakdown(qs, rng, "device"),
            query=_query(rng),
            admin_url=reverse("admin:ads_adperformance_changelist"),
        )
    return render(request, "reports/platform.html", context)
