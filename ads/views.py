"""The advertiser console: server-rendered pages over the ads services and selectors.

Every campaign page looks its campaign up through ``selectors.campaigns_visible_to``
and every creative through its campaign, so another advertiser's campaign or
creative is a 404, whatever the page or method. Owners may not open the console
(403); staff may view every campaign.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import UTC, timedelta
from decimal import Decimal
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from adplatform.core.forms import apply_validation_error, form_is_valid
from ads import reporting, selectors, services
from ads.forms import (
    COUNTRY_NAMES,
    DAY_NAMES,
    AdvertiserProfileForm,
    CampaignForm,
    CreativeForm,
    ReachForecastForm,
    plain_decimal,
    split_list,
)
from ads.models import AdPerformance, Campaign, CampaignStatus, Creative, ModerationStatus

CAMPAIGNS_PER_PAGE = 20
CREATIVES_PER_PAGE = 25
ADVERTISER = "ADVERTISER"
# Campaigns in these states are kept for their records only.
FINISHED = (CampaignStatus.ARCHIVED, CampaignStatus.COMPLETED)


# --------------------------------------------------------------------------- helpers


def advertiser_required(view):
    """Logged in, and an advertiser (or staff, who may look at every campaign)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_staff or getattr(request.user, "role", None) == ADVERTISER):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _own_profile(request):
    """The advertiser profile of an advertiser account (created, waiting for approval, on first use)."""
    if getattr(request.user, "role", None) != ADVERTISER:
        raise PermissionDenied("Only advertiser accounts have campaigns of their own.")
    return services.advertiser_for_user(user=request.user)


def _campaign(request, pk: int) -> Campaign:
    return get_object_or_404(selectors.campaigns_visible_to(request.user), pk=pk)


def _creative(campaign: Campaign, pk: int) -> Creative:
    return get_object_or_404(selectors.creatives_of(campaign), pk=pk)


def _detail_url(campaign: Campaign, anchor: str = "") -> str:
    return reverse("ads:campaign-detail", args=[campaign.pk]) + (f"#{anchor}" if anchor else "")


def _targeting_summary(targeting: dict) -> list[tuple[str, str]]:
    """Targeting as label/value rows people can read; a missing key reads as no restriction."""

    def countries(codes):
        return ", ".join(f"{COUNTRY_NAMES.get(code, code)} ({code})" for code in codes)

    def hours(values):
        return ", ".join(f"{hour:02d}:00" for hour in values)

    rows = [
        ("Countries", countries(targeting.get("countries_included", [])) or "Every country"),
        ("Excluded countries", countries(targeting.get("countries_excluded", [])) or "None"),
        ("Devices", ", ".join(targeting.get("devices", [])) or "Every device"),
        ("Ad formats", ", ".join(targeting.get("container_types", [])) or "Every format"),
        ("Segments", ", ".join(targeting.get("segments", [])) or "Every player"),
        ("Days", ", ".join(DAY_NAMES[day] for day in targeting.get("days_of_week", [])) or "Every day"),
        ("Hours (UTC)", hours(targeting.get("hours_utc", [])) or "Every hour"),
        ("Games", ", ".join(map(str, targeting.get("games_included", []))) or "Every game"),
        ("Excluded games", ", ".join(map(str, targeting.get("games_excluded", []))) or "None"),
    ]
    return rows


def _frequency_cap_text(campaign: Campaign) -> str:
    cap = campaign.frequency_cap
    if not cap:
        return "No cap"
    period = cap["period_seconds"]
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if period % size == 0:
            amount = period // size
            return f"{cap['count']} per player per {unit if amount == 1 else f'{amount} {unit}s'}"
    return ""  # pragma: no cover - every period is a whole number of seconds


@dataclass(frozen=True)
class Pace:
    """Spend against the plan: the share of the budget the schedule's elapsed time calls for by now."""

    label: str
    tone: str  # ok / warn / muted
    ratio: float | None = None
    planned: Decimal | None = None


def campaign_pace(campaign: Campaign, now) -> Pace:
    if campaign.status == CampaignStatus.DRAFT:
        return Pace("Not live yet", "muted")
    if campaign.start_at > now:
        return Pace("Not started", "muted")
    total = (campaign.end_at - campaign.start_at).total_seconds()
    elapsed = min(max((now - campaign.start_at).total_seconds(), 0), total)
    if total <= 0:
        return Pace("—", "muted")
    planned = (campaign.total_budget * Decimal(elapsed / total)).quantize(Decimal("0.01"))
    if campaign.end_at <= now:
        return Pace("Ended", "muted", float(campaign.spent / planned) if planned else None, planned)
    if not planned:
        return Pace("Just started", "muted", None, planned)
    ratio = float(campaign.spent / planned)
    if ratio < 0.8:
        label, tone = f"Behind ({ratio:.0%} of plan)", "warn"
    elif ratio > 1.2:
        label, tone = f"Ahead ({ratio:.0%} of plan)", "warn"
    else:
        label, tone = f"On pace ({ratio:.0%})", "ok"
    return Pace(label, tone, ratio, planned)


def delivery_by_campaign(campaigns) -> dict[int, reporting.Figures]:
    """Lifetime delivery of the given campaigns, from the hourly roll-up, in one query."""
    ids = [c.pk for c in campaigns]
    if not ids:
        return {}
    rows = (
        AdPerformance.objects.filter(campaign_id__in=ids)
        .values("campaign_id")
        .annotate(**{f.name: Sum(f.name) for f in dataclass_fields(reporting.Figures)})
        .order_by()
    )
    return {row["campaign_id"]: reporting.Figures.from_row(row) for row in rows}


FORECAST_DAYS = 7


def targeting_reach(targeting: dict, *, now=None) -> dict:
    """Estimated daily reach of a targeting: the matching ad requests (decisions) and impressions of the
    last 7 days, per day, from the hourly roll-up (one query). Segments are not in the roll-up: a
    segment narrows reach further than the figure says."""
    from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

    now = now or timezone.now()
    since = reporting.floor_hour(now) - timedelta(days=FORECAST_DAYS)
    qs = AdPerformance.objects.filter(hour__gte=since, hour__lt=reporting.floor_hour(now))
    if targeting.get("countries_included"):
        qs = qs.filter(country__in=targeting["countries_included"])
    if targeting.get("countries_excluded"):
        qs = qs.exclude(country__in=targeting["countries_excluded"])
    if targeting.get("devices"):
        qs = qs.filter(device__in=targeting["devices"])
    if targeting.get("games_included"):
        qs = qs.filter(game_id__in=targeting["games_included"])
    if targeting.get("games_excluded"):
        qs = qs.exclude(game_id__in=targeting["games_excluded"])
    if targeting.get("container_types"):
        from games.models import AdContainer

        qs = qs.filter(container_id__in=AdContainer.objects.filter(type__in=targeting["container_types"]).values("id"))
    if targeting.get("hours_utc"):
        qs = qs.annotate(_h=ExtractHour("hour", tzinfo=UTC)).filter(_h__in=targeting["hours_utc"])
    if targeting.get("days_of_week"):
        days = [int(day) + 1 for day in targeting["days_of_week"]]  # Monday 0 -> ISO 1
        qs = qs.annotate(_d=ExtractIsoWeekDay("hour", tzinfo=UTC)).filter(_d__in=days)
    totals = qs.aggregate(decisions=Sum("decisions"), impressions=Sum("impressions"))
    decisions, impressions = totals["decisions"] or 0, totals["impressions"] or 0
    return {
        "days": FORECAST_DAYS,
        "daily_requests": round(decisions / FORECAST_DAYS),
        "daily_impressions": round(impressions / FORECAST_DAYS),
        "segments_ignored": bool(targeting.get("segments")),
    }


def _form_targeting(form: CampaignForm) -> dict:
    """The targeting the form shows: as submitted when it is valid, else as first drawn."""
    if form.is_bound:
        if all(name in getattr(form, "cleaned_data", {}) for name in form.TARGETING_FIELDS):
            return form.service_data_safe()["targeting"]
        return {}
    initial = {**{name: form.fields[name].initial for name in form.fields}, **form.initial}
    games = initial.get("games_included") or ""
    excluded = initial.get("games_excluded") or ""
    return {
        "countries_included": initial.get("countries_included") or [],
        "countries_excluded": initial.get("countries_excluded") or [],
        "devices": initial.get("devices") or [],
        "container_types": initial.get("container_types") or [],
        "days_of_week": initial.get("days_of_week") or [],
        "hours_utc": initial.get("hours_utc") or [],
        "games_included": [int(g) for g in split_list(str(games)) if g.isdigit()],
        "games_excluded": [int(g) for g in split_list(str(excluded)) if g.isdigit()],
        "segments": split_list(initial.get("segments") or ""),
    }


def _form_forecast(form: CampaignForm) -> dict:
    return targeting_reach(_form_targeting(form))


def _creative_initial_defaults() -> dict:
    return {"minigame_duration": 60, "reward_type": "none", "click_type": "none"}


# --------------------------------------------------------------------------- advertiser profile


@advertiser_required
def profile(request):
    advertiser = _own_profile(request)
    initial = {"company": advertiser.company, "category": advertiser.category}
    form = AdvertiserProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form_is_valid(form, lambda data: services.advertiser_validate(**data)):
        try:
            services.advertiser_update(advertiser=advertiser, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
            advertiser.refresh_from_db()
        else:
            messages.success(request, "Advertiser profile saved.")
            return redirect("ads:profile")
    return render(request, "ads/profile.html", {"form": form, "advertiser": advertiser})


# --------------------------------------------------------------------------- campaigns


@advertiser_required
def campaign_list(request):
    advertiser = services.advertiser_for_user(user=request.user) if request.user.role == ADVERTISER else None
    search = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    if status not in CampaignStatus.values:
        status = ""
    campaigns = selectors.campaign_list(user=request.user, search=search, status=status)
    page = Paginator(campaigns, CAMPAIGNS_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    delivery = delivery_by_campaign(page.object_list)
    rows = [(c, delivery.get(c.pk, reporting.Figures()), campaign_pace(c, now)) for c in page.object_list]
    filters = {key: value for key, value in (("q", search), ("status", status)) if value}
    return render(
        request,
        "ads/campaign_list.html",
        {
            "advertiser": advertiser,
            "page": page,
            "search": search,
            "status": status,
            "statuses": CampaignStatus.choices,
            "filtered": bool(filters),
            "query": urlencode(filters),
            "now": now,
            "rows": rows,
        },
    )


def _campaign_form_ok(form: CampaignForm, *, advertiser, campaign: Campaign | None = None) -> bool:
    """The form's checks and the service's rules on every field that passed them, in the same submit."""
    return form_is_valid(
        form,
        lambda _: services.campaign_validate(
            advertiser=advertiser, campaign=campaign, data=form.partial_service_data()
        ),
    )


def _creative_form_ok(form: CreativeForm, *, campaign: Campaign, creative: Creative | None = None) -> bool:
    """The form's checks and ``creative_validate`` on every field that passed them, in the same submit."""
    return form_is_valid(
        form,
        lambda _: services.creative_validate(campaign=campaign, creative=creative, data=form.partial_service_data()),
    )


@advertiser_required
@require_http_methods(["GET", "POST"])
def campaign_create(request):
    advertiser = _own_profile(request)
    now = timezone.now().replace(second=0, microsecond=0)
    initial = {"start_at": now, "end_at": now + timedelta(days=30)}
    form = CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and _campaign_form_ok(form, advertiser=advertiser):
        try:
            campaign = services.campaign_create(advertiser=advertiser, data=form.service_data())
        except ValidationError as exc:
            apply_validation_error(form, exc, field_map=form.field_map)
        else:
            messages.success(
                request,
                f"Campaign “{campaign.name}” created as a draft. "
                "Add a creative: staff review it, then you can activate the campaign.",
            )
            return redirect(_detail_url(campaign))
    return render(
        request,
        "ads/campaign_form.html",
        {"form": form, "campaign": None, "advertiser": advertiser, "forecast": _form_forecast(form)},
    )


@advertiser_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request, pk: int):
    campaign = _campaign(request, pk)
    if campaign.status in FINISHED:
        messages.error(request, f"A {campaign.get_status_display().lower()} campaign cannot be edited.")
        return redirect(_detail_url(campaign))
    form = CampaignForm(request.POST or None, initial=CampaignForm.initial_for(campaign))
    if request.method == "POST" and _campaign_form_ok(form, advertiser=campaign.advertiser, campaign=campaign):
        try:
            campaign = services.campaign_update(campaign=campaign, data=form.service_data())
        except ValidationError as exc:
            apply_validation_error(form, exc, field_map=form.field_map)
        else:
            messages.success(request, f"Campaign “{campaign.name}” saved.")
            return redirect(_detail_url(campaign))
    return render(
        request, "ads/campaign_form.html", {"form": form, "campaign": campaign, "forecast": _form_forecast(form)}
    )


@advertiser_required
def campaign_detail(request, pk: int):
    campaign = _campaign(request, pk)
    creatives = Paginator(selectors.creatives_of(campaign), CREATIVES_PER_PAGE).get_page(request.GET.get("page"))
    problems = []
    if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.PAUSED):
        problems = services.activation_problems(campaign)
    now = timezone.now()
    schedule_total = (campaign.end_at - campaign.start_at).total_seconds()
    schedule_done = min(max((now - campaign.start_at).total_seconds(), 0), schedule_total)
    return render(
        request,
        "ads/campaign_detail.html",
        {
            "campaign": campaign,
            "creatives": creatives,
            "problems": problems,
            "targeting": _targeting_summary(campaign.targeting or {}),
            "frequency_cap": _frequency_cap_text(campaign),
            "max_bid": plain_decimal(campaign.max_bid),
            "schedule_total": round(schedule_total),
            "schedule_done": round(schedule_done),
            "now": now,
            "finished": campaign.status in FINISHED,
            "delivery": delivery_by_campaign([campaign]).get(campaign.pk, reporting.Figures()),
            "pace": campaign_pace(campaign, now),
        },
    )


STATUS_ACTIONS = {
    "activate": (services.campaign_activate, "is now active: it competes for containers from now on."),
    "pause": (services.campaign_pause, "is paused: it serves nothing until you resume it."),
    "resume": (services.campaign_resume, "is active again."),
    "archive": (services.campaign_archive, "is archived: it never serves again; its records are kept."),
    "submit": (
        services.campaign_submit_for_review,
        "is submitted: it goes live by itself once staff approve what it waits for, and we notify you.",
    ),
}


@advertiser_required
@require_POST
def campaign_status(request, pk: int, action: str):
    campaign = _campaign(request, pk)
    change, outcome = STATUS_ACTIONS[action]
    try:
        campaign = change(campaign=campaign)
    except ValidationError as exc:
        reasons = [message for messages_ in exc.message_dict.values() for message in messages_]
        verb = {"activate": "activated", "resume": "resumed", "pause": "paused", "archive": "archived",
                "submit": "submitted"}[action]  # fmt: skip
        messages.error(request, f"“{campaign.name}” was not {verb}: " + " ".join(reasons))
    else:
        if action == "submit" and campaign.status == CampaignStatus.ACTIVE:
            outcome = STATUS_ACTIONS["activate"][1]
        messages.success(request, f"“{campaign.name}” {outcome}")
    return redirect(_detail_url(campaign))


# --------------------------------------------------------------------------- creatives


@advertiser_required
@require_http_methods(["GET", "POST"])
def creative_create(request, pk: int):
    campaign = _campaign(request, pk)
    if campaign.status == CampaignStatus.ARCHIVED:
        messages.error(request, "An archived campaign takes no new creatives.")
        return redirect(_detail_url(campaign))
    form = CreativeForm(request.POST or None, initial=_creative_initial_defaults())
    if request.method == "POST" and _creative_form_ok(form, campaign=campaign):
        try:
            creative = services.creative_create(campaign=campaign, data=form.service_data())
        except ValidationError as exc:
            apply_validation_error(form, exc, field_map=form.field_map)
        else:
            messages.success(request, f"Creative “{creative.name}” added. Staff review it before it can serve.")
            return redirect(_detail_url(campaign, "creatives"))
    return render(request, "ads/creative_form.html", {"form": form, "campaign": campaign, "creative": None})


@advertiser_required
@require_http_methods(["GET", "POST"])
def creative_edit(request, pk: int, creative_pk: int):
    campaign = _campaign(request, pk)
    creative = _creative(campaign, creative_pk)
    if campaign.status == CampaignStatus.ARCHIVED:
        messages.error(request, "The creatives of an archived campaign cannot be changed.")
        return redirect(_detail_url(campaign, "creatives"))
    initial = {**_creative_initial_defaults(), **CreativeForm.initial_for(creative)}
    form = CreativeForm(request.POST or None, initial=initial)
    if request.method == "POST" and _creative_form_ok(form, campaign=campaign, creative=creative):
        before = creative.moderation_status
        try:
            creative = services.creative_update(creative=creative, data=form.service_data())
        except ValidationError as exc:
            apply_validation_error(form, exc, field_map=form.field_map)
        else:
            if before != ModerationStatus.PENDING and creative.moderation_status == ModerationStatus.PENDING:
                messages.warning(
                    request,
                    f"Creative “{creative.name}” saved and sent back to review: it serves again once staff approve it.",
                )
            else:
                messages.success(request, f"Creative “{creative.name}” saved.")
            return redirect(_detail_url(campaign, "creatives"))
    return render(request, "ads/creative_form.html", {"form": form, "campaign": campaign, "creative": creative})


# --------------------------------------------------------------------------- reach forecast


@advertiser_required
@require_http_methods(["GET"])
def reach_forecast(request):
    """``GET /campaigns/forecast/?countries_included=FR&devices=mobile...``: the targeting form's reach
    forecast as JSON (the form's targeting fields, as the form posts them)."""
    form = ReachForecastForm(request.GET)
    if not form.is_valid():
        details = {field: [str(e) for e in errors] for field, errors in form.errors.items()}
        return JsonResponse(
            {"error": {"code": "validation_error", "message": "Invalid targeting.", "details": details}}, status=400
        )
    return JsonResponse(targeting_reach(form.targeting()))
