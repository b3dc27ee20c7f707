"""Report endpoints of the management API (``Authorization: Token``).

``GET /api/v1/manage/campaigns/{id}/report/`` and ``GET /api/v1/manage/games/{id}/report/`` with
``?from=&to=&granularity=hour|day``. ``from``/``to`` are days (``2026-11-21``, both included) or
ISO times with a timezone (``to`` then excluded); without them, the last 7 days. A campaign or
game the caller may not see is 404; a bad range is 400 with field details.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ads import reporting, revenue_share, selectors
from ads.report_display import advertiser_figures, owner_figures
from ads.reporting import ReportRange, range_errors, report_series, report_totals
from games.selectors import games_visible_to

DEFAULT_DAYS = 7


class DayOrTimeField(serializers.Field):
    """A day (``2026-11-21``) or an ISO 8601 time with a timezone, as an aware UTC datetime.

    A day given as the end of a range means the end of that day (days are inclusive).
    """

    default_error_messages = {
        "invalid": "Use a date (YYYY-MM-DD) or an ISO 8601 time with a timezone.",
        "naive": "The time needs a timezone (for example 2026-11-21T09:00:00Z).",
    }

    def __init__(self, *, end: bool = False, **kwargs):
        self.end = end
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = str(data).strip()
        try:
            day = parse_date(text) if len(text) == 10 else None
            moment = None if day else parse_datetime(text)
        except ValueError:
            self.fail("invalid")
        if day is not None:
            start = datetime.combine(day, time(), tzinfo=UTC)
            return start + timedelta(days=1) if self.end else start
        if moment is None:
            self.fail("invalid")
        if timezone.is_naive(moment):
            self.fail("naive")
        return moment.astimezone(UTC)

    def to_representation(self, value):
        return value.isoformat()


class ReportQuerySerializer(serializers.Serializer):
    granularity = serializers.ChoiceField(choices=list(reporting.GRANULARITIES), default="day")

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword: the fields are added by name.
        fields["from"] = DayOrTimeField(required=False, help_text="First day (included) or start time.")
        fields["to"] = DayOrTimeField(required=False, end=True, help_text="Last day (included) or end time.")
        return fields

    def validate(self, attrs):
        granularity = attrs["granularity"]
        end = attrs.get("to")
        if end is None:
            end = datetime.combine(timezone.now().astimezone(UTC).date(), time(), tzinfo=UTC) + timedelta(days=1)
        start = attrs.get("from") or end - timedelta(days=DEFAULT_DAYS)
        errors = range_errors(start, end, granularity)
        if errors:
            raise serializers.ValidationError(errors)
        return {"range": ReportRange.from_bounds(start, end, granularity)}


# --------------------------------------------------------------------------- the schema's shapes


def _rate(help_text: str = "A ratio (0.0125 = 1.25%); null without a denominator.") -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


def _figure_fields(money: str) -> dict[str, serializers.Field]:
    fields: dict[str, serializers.Field] = {
        "impressions": serializers.IntegerField(),
        "viewable_impressions": serializers.IntegerField(),
        "viewable_rate": _rate(),
        "clicks": serializers.IntegerField(),
        "ctr": _rate(),
        "interactions": serializers.IntegerField(),
        "conversions": serializers.IntegerField(),
        "invalid": serializers.IntegerField(help_text="Events rejected as invalid traffic (never billed)."),
        money: serializers.DecimalField(max_digits=16, decimal_places=6),
        "ecpm": serializers.DecimalField(max_digits=16, decimal_places=6, allow_null=True),
    }
    if money == "revenue":
        fields.update(
            decisions=serializers.IntegerField(help_text="Ad requests (decisions) for the game's containers."),
            fills_paid=serializers.IntegerField(),
            fills_house=serializers.IntegerField(),
            fill_rate=_rate("Paid fills over decisions."),
        )
    return fields


def _report_schema(name: str, money: str, extra: dict[str, serializers.Field]):
    period = serializers.CharField(help_text="The hour (`2026-11-21T09:00:00Z`) or the day (`2026-11-21`), UTC.")
    return inline_serializer(
        name=name,
        fields={
            **extra,
            "from": serializers.DateTimeField(),
            "to": serializers.DateTimeField(help_text="Excluded."),
            "granularity": serializers.ChoiceField(choices=list(reporting.GRANULARITIES)),
            "totals": inline_serializer(name=f"{name}Totals", fields=_figure_fields(money)),
            "rows": inline_serializer(name=f"{name}Row", fields={"period": period, **_figure_fields(money)}, many=True),
        },
    )


EARNINGS = inline_serializer(
    name="GameEarnings",
    fields={
        "qualified_visits": serializers.IntegerField(
            help_text="Player sessions with at least one viewable engagement of a campaign (once per session)."
        ),
        "gross": serializers.DecimalField(max_digits=16, decimal_places=6, help_text="What advertisers spent."),
        "roblox_revenue_share": serializers.DecimalField(
            max_digits=16, decimal_places=6, help_text="Roblox's CPTV on ad integrations (campaigns from 2027)."
        ),
        "net": serializers.DecimalField(max_digits=16, decimal_places=6, help_text="Gross minus Roblox's share."),
    },
)

QUERY_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.STR, description="First day (`YYYY-MM-DD`, included) or an ISO time."),
    OpenApiParameter("to", OpenApiTypes.STR, description="Last day (`YYYY-MM-DD`, included) or an ISO time."),
    OpenApiParameter("granularity", OpenApiTypes.STR, enum=list(reporting.GRANULARITIES)),
]
BAD_RANGE_400 = OpenApiResponse(description="`validation_error`: a bad date, range or granularity.")
TAG = "manage: reports"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _report(rng: ReportRange, qs, shape) -> dict:
    return {
        "from": _iso(rng.start),
        "to": _iso(rng.end),
        "granularity": rng.granularity,
        "totals": shape(report_totals(qs, rng)),
        "rows": [{"period": row.iso, **shape(row.figures)} for row in report_series(qs, rng)],
    }


class _ReportView(APIView):
    def report_range(self, request) -> ReportRange:
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data["range"]


class CampaignReportView(_ReportView):
    @extend_schema(
        operation_id="manage_campaigns_report",
        summary="A campaign's delivery and spend by hour or day",
        tags=[TAG],
        parameters=QUERY_PARAMETERS,
        responses={
            200: _report_schema(
                "CampaignReport",
                "spend",
                {
                    "campaign_id": serializers.IntegerField(),
                    "total_budget": serializers.DecimalField(max_digits=16, decimal_places=6),
                    "spent": serializers.DecimalField(max_digits=16, decimal_places=6, help_text="All time."),
                },
            ),
            400: BAD_RANGE_400,
            404: OpenApiResponse(description="`not_found`: no such campaign, or one of another advertiser."),
        },
    )
    def get(self, request, pk: int, *args, **kwargs):
        campaign = get_object_or_404(selectors.campaigns_visible_to(request.user), pk=pk)
        rng = self.report_range(request)
        body = {
            "campaign_id": campaign.pk,
            "total_budget": f"{campaign.total_budget:.6f}",
            "spent": f"{campaign.spent:.6f}",
            **_report(rng, reporting.performance_of_campaign(campaign), advertiser_figures),
        }
        return Response(body)


class GameReportView(_ReportView):
    @extend_schema(
        operation_id="manage_games_report",
        summary="A game's ad requests, fill rate, impressions and revenue by hour or day",
        tags=[TAG],
        parameters=QUERY_PARAMETERS,
        responses={
            200: _report_schema("GameReport", "revenue", {"game_id": serializers.IntegerField(), "earnings": EARNINGS}),
            400: BAD_RANGE_400,
            404: OpenApiResponse(description="`not_found`: no such game, or one of another owner."),
        },
    )
    def get(self, request, pk: int, *args, **kwargs):
        game = get_object_or_404(games_visible_to(request.user), pk=pk)
        rng = self.report_range(request)
        body = _report(rng, reporting.performance_of_game(game), owner_figures)
        share = revenue_share.share_total([game.pk], rng.start, rng.end)
        earnings = revenue_share.earnings_columns(Decimal(body["totals"]["revenue"]), share)
        return Response({"game_id": game.pk, **body, "earnings": earnings})
