"""Report pages, CSV exports, live figures, the admin and the management API's report endpoints."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from adplatform.core.redis import get_redis
from ads.events import today_key
from ads.models import AdPerformance
from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory
from games.tests.factories import AdContainerFactory, GameFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_worker():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        yield


def today_at(hour: int) -> datetime:
    return timezone.now().astimezone(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)


def perf(*, hour, campaign=None, container=None, country="US", device="mobile", **figures):
    creative = campaign.creatives.first() if campaign else None
    return AdPerformance.objects.create(
        hour=hour,
        campaign=campaign,
        creative=creative,
        container=container,
        game_id=container.game_id if container else None,
        country=country,
        device=device,
        updated_at=hour,
        **figures,
    )


@pytest.fixture
def world(advertiser, owner):
    """Two advertisers' campaigns delivering in two owners' games, today at 01:00 and 02:00 UTC."""
    mine = CampaignFactory(advertiser=AdvertiserFactory(user=advertiser), name="Fizz launch", total_budget=50)
    CreativeFactory(campaign=mine, name="Fizz banner")
    theirs = CampaignFactory(name="Rival soda")
    CreativeFactory(campaign=theirs)
    my_game = GameFactory(owner=owner, name="Obby Tower")
    lobby = AdContainerFactory(game=my_game, name="Lobby board")
    their_game = GameFactory(name="Other Obby")
    elsewhere = AdContainerFactory(game=their_game, name="Far board")
    perf(hour=today_at(1), campaign=mine, container=lobby, decisions=100, fills_paid=80, impressions=60,
         viewable_impressions=45, clicks=3, conversions=1, spend=Decimal("0.120000"))  # fmt: skip
    perf(hour=today_at(2), campaign=mine, container=elsewhere, country="GB", device="desktop", decisions=40,
         fills_paid=40, impressions=40, viewable_impressions=35, clicks=1, spend=Decimal("0.080000"))  # fmt: skip
    perf(hour=today_at(1), campaign=theirs, container=lobby, decisions=20, fills_paid=20, impressions=20,
         viewable_impressions=20, clicks=7, spend=Decimal("7.770000"))  # fmt: skip
    perf(hour=today_at(1), container=lobby, decisions=30, fills_house=10)  # unfilled and house
    perf(hour=today_at(2), campaign=theirs, container=elsewhere, decisions=5, fills_paid=5, impressions=5,
         spend=Decimal("0.990000"))  # fmt: skip
    return {"mine": mine, "theirs": theirs, "my_game": my_game, "their_game": their_game, "lobby": lobby}


def logged_in(client, user):
    client.force_login(user)
    return client


def today() -> str:
    return timezone.now().astimezone(UTC).date().isoformat()


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.content.decode())))


# --------------------------------------------------------------------------- advertiser pages


def test_a_campaign_report_shows_totals_breakdowns_and_a_chart(client, advertiser, world):
    response = logged_in(client, advertiser).get(reverse("reports:campaign", args=[world["mine"].pk]))
    assert response.status_code == 200
    html = response.content.decode()
    totals = response.context["totals"]
    assert (totals.impressions, totals.clicks, totals.spend) == (100, 4, Decimal("0.2"))
    assert totals.ecpm == Decimal("2.000000") and totals.viewable_rate == pytest.approx(0.8)
    assert '<figure class="chart"' in html and "<polyline" in html
    assert "Obby Tower" in html and "Other Obby" in html  # by game: where the ads ran
    assert "Lobby board" in html and "Fizz banner" in html
    assert "$0.20" in html and "of $50.00" in html  # totals against budget
    assert reverse("reports:campaign-live", args=[world["mine"].pk]) in html
    assert "Rival soda" not in html and "7.77" not in html


def test_the_advertiser_overview_lists_only_their_campaigns(client, advertiser, world):
    response = logged_in(client, advertiser).get(reverse("reports:campaigns"))
    html = response.content.decode()
    assert response.status_code == 200
    assert [s.campaign for s in response.context["summaries"]] == [world["mine"]]
    assert response.context["totals"].spend == Decimal("0.2")
    assert "Fizz launch" in html and "Rival soda" not in html
    assert reverse("reports:campaign", args=[world["mine"].pk]) in html


@pytest.mark.parametrize("name", ["reports:campaign", "reports:campaign-csv", "reports:campaign-live"])
def test_another_advertisers_campaign_is_404_everywhere(client, advertiser, world, name):
    response = logged_in(client, advertiser).get(reverse(name, args=[world["theirs"].pk]))
    assert response.status_code == 404


def test_owners_cannot_open_campaign_reports(client, owner, world):
    logged_in(client, owner)
    assert client.get(reverse("reports:campaign", args=[world["mine"].pk])).status_code == 404
    assert client.get(reverse("reports:campaigns")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    response = client.get(reverse("reports:campaign", args=[world["mine"].pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_empty_states(client, advertiser):
    logged_in(client, advertiser)
    assert "No campaigns yet" in client.get(reverse("reports:campaigns")).content.decode()
    campaign = CampaignFactory(advertiser=AdvertiserFactory(user=advertiser))
    html = client.get(reverse("reports:campaign", args=[campaign.pk])).content.decode()
    assert "No delivery in this range yet" in html and "<svg" not in html


# --------------------------------------------------------------------------- the range form


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2026-05-10", "to": "2026-05-01"}, "must not be before the first"),
        ({"from": "2026-01-01", "to": "2026-03-01", "granularity": "hour"}, "Hourly figures cover at most 31 days"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "at most 366 days"),
        ({"from": "yesterday", "to": "2026-01-01"}, "Enter a valid date"),
        ({"from": "2026-01-01", "to": "2026-01-02", "granularity": "minute"}, "Select a valid choice"),
    ],
)
def test_a_bad_range_shows_its_error_instead_of_figures(client, advertiser, world, query, message):
    response = logged_in(client, advertiser).get(reverse("reports:campaign", args=[world["mine"].pk]), query)
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html and "Fix the dates above" in html
    assert "totals" not in response.context
    csv_response = client.get(reverse("reports:campaign-csv", args=[world["mine"].pk]), query)
    assert csv_response.status_code == 400


def test_hourly_granularity_draws_one_point_an_hour(client, advertiser, world):
    query = {"from": today(), "to": today(), "granularity": "hour"}
    response = logged_in(client, advertiser).get(reverse("reports:campaign", args=[world["mine"].pk]), query)
    series = response.context["series"]
    assert len(series) == 24
    assert [row.figures.impressions for row in series[:4]] == [0, 60, 40, 0]
    assert 'data-periods="24"' in response.content.decode()


# --------------------------------------------------------------------------- CSV


def test_the_campaign_csv_has_a_row_a_period_and_a_total(client, advertiser, world):
    day = timezone.now().astimezone(UTC).date()
    first = (day - timedelta(days=1)).isoformat()
    response = logged_in(client, advertiser).get(
        reverse("reports:campaign-csv", args=[world["mine"].pk]), {"from": first, "to": today()}
    )
    rows = read_csv(response)
    assert rows[0] == [
        "period", "impressions", "viewable_impressions", "viewable_rate", "clicks", "ctr", "interactions",
        "conversions", "invalid", "spend", "ecpm",
    ]  # fmt: skip
    assert rows[1] == [first, "0", "0", "", "0", "", "0", "0", "0", "0.000000", ""]
    assert rows[2] == [today(), "100", "80", "0.8", "4", "0.04", "0", "1", "0", "0.200000", "2.000000"]
    assert rows[3][0] == "total" and rows[3][1:] == rows[2][1:]
    assert len(rows) == 4
    assert f"campaign-{world['mine'].pk}-{first}-{today()}.csv" in response["Content-Disposition"]


def test_the_campaign_csv_breaks_down_by_country(client, advertiser, world):
    response = logged_in(client, advertiser).get(
        reverse("reports:campaign-csv", args=[world["mine"].pk]), {"from": today(), "to": today(), "by": "country"}
    )
    rows = read_csv(response)
    assert rows[0][:3] == ["country", "name", "impressions"]
    assert [(r[0], r[2], r[-2]) for r in rows[1:]] == [("US", "60", "0.120000"), ("GB", "40", "0.080000")]
    bad = client.get(reverse("reports:campaign-csv", args=[world["mine"].pk]), {"by": "player"})
    assert bad.status_code == 400


def test_csv_cells_never_start_a_formula(client, advertiser, world):
    world["lobby"].game.__class__.objects.filter(pk=world["my_game"].pk).update(name="=HYPERLINK(1)")
    response = logged_in(client, advertiser).get(
        reverse("reports:campaign-csv", args=[world["mine"].pk]), {"from": today(), "to": today(), "by": "game"}
    )
    names = [row[1] for row in read_csv(response)[1:]]
    assert "'=HYPERLINK(1)" in names


def test_the_advertiser_overview_csv(client, advertiser, world):
    response = logged_in(client, advertiser).get(reverse("reports:campaigns-csv"), {"from": today(), "to": today()})
    rows = read_csv(response)
    assert rows[0][:5] == ["campaign_id", "campaign", "status", "total_budget", "spent"]
    assert len(rows) == 2 and rows[1][1] == "Fizz launch" and rows[1][-2] == "0.200000"


# --------------------------------------------------------------------------- owner pages


def test_a_game_report_shows_requests_fill_rate_and_revenue(client, owner, world):
    response = logged_in(client, owner).get(reverse("reports:game", args=[world["my_game"].pk]))
    assert response.status_code == 200
    totals = response.context["totals"]
    assert (totals.decisions, totals.fills_paid, totals.fills_house) == (150, 100, 10)
    assert totals.fill_rate == pytest.approx(100 / 150)
    assert totals.revenue == Decimal("7.890000")  # both advertisers' spend in this game
    html = response.content.decode()
    assert "Lobby board" in html and "<polyline" in html and "$7.89" in html
    assert "Far board" not in html and "Other Obby" not in html


def test_the_earnings_overview_lists_only_the_owners_games(client, owner, world):
    response = logged_in(client, owner).get(reverse("reports:earnings"))
    assert [s.game for s in response.context["summaries"]] == [world["my_game"]]
    assert "Other Obby" not in response.content.decode()
    rows = read_csv(client.get(reverse("reports:earnings-csv"), {"from": today(), "to": today()}))
    assert rows[0][:4] == ["game_id", "game", "decisions", "fills_paid"]
    revenue = rows[0].index("revenue")
    assert [(r[1], r[2], r[revenue]) for r in rows[1:]] == [("Obby Tower", "150", "7.890000")]


def test_the_game_csv_breaks_down_by_container(client, owner, world):
    response = logged_in(client, owner).get(
        reverse("reports:game-csv", args=[world["my_game"].pk]), {"from": today(), "to": today(), "by": "container"}
    )
    rows = read_csv(response)
    assert "revenue" in rows[0] and "spend" not in rows[0]
    assert [(r[0], r[1], r[2]) for r in rows[1:]] == [(str(world["lobby"].pk), "Lobby board", "150")]


@pytest.mark.parametrize("name", ["reports:game", "reports:game-csv", "reports:game-live"])
def test_another_owners_game_is_404_everywhere(client, owner, advertiser, world, name):
    assert logged_in(client, owner).get(reverse(name, args=[world["their_game"].pk])).status_code == 404
    assert logged_in(client, advertiser).get(reverse(name, args=[world["my_game"].pk])).status_code == 404


def test_advertisers_cannot_open_the_earnings_pages(client, advertiser):
    assert logged_in(client, advertiser).get(reverse("reports:earnings")).status_code == 403


# --------------------------------------------------------------------------- live figures


def test_live_figures_come_from_todays_counters(client, advertiser, owner, world):
    day = timezone.now().astimezone(UTC).strftime("%Y%m%d")
    counters = {"impressions": 8, "viewable_impressions": 6, "clicks": 2, "spend_micros": 12000}
    get_redis().hset(today_key("campaign", world["mine"].pk, day), mapping=counters)
    get_redis().hset(today_key("game", world["my_game"].pk, day), mapping={"impressions": 3, "invalid": 1})

    body = logged_in(client, advertiser).get(reverse("reports:campaign-live", args=[world["mine"].pk])).json()
    assert body["impressions"] == 8 and body["clicks"] == 2 and body["ctr"] == 0.25
    assert body["spend"] == "0.012000" and body["viewable_rate"] == 0.75 and body["day"] == today()
    game = logged_in(client, owner).get(reverse("reports:game-live", args=[world["my_game"].pk])).json()
    assert (game["impressions"], game["invalid"], game["revenue"]) == (3, 1, "0.000000")


# --------------------------------------------------------------------------- staff


def test_the_platform_overview_is_for_staff(client, staff_user, advertiser, owner, world):
    response = logged_in(client, staff_user).get(reverse("reports:platform"))
    assert response.status_code == 200
    totals = response.context["totals"]
    assert totals.spend == Decimal("8.96") and totals.decisions == 195
    assert [r.label for r in response.context["top_campaigns"]] == ["Rival soda", "Fizz launch"]
    assert response.context["top_games"][0].label == "Obby Tower"
    assert "Invalid traffic" in response.content.decode()
    for user in (advertiser, owner):
        assert logged_in(client, user).get(reverse("reports:platform")).status_code == 403


def test_staff_read_every_report(client, staff_user, world):
    logged_in(client, staff_user)
    assert client.get(reverse("reports:campaign", args=[world["theirs"].pk])).status_code == 200
    assert client.get(reverse("reports:game", args=[world["their_game"].pk])).status_code == 200


@pytest.mark.parametrize(
    ("role", "target"), [("staff", "platform"), ("advertiser", "campaigns"), ("owner", "earnings")]
)
def test_the_reports_home_sends_each_person_to_their_reports(client, staff_user, advertiser, owner, role, target):
    user = {"staff": staff_user, "advertiser": advertiser, "owner": owner}[role]
    response = logged_in(client, user).get(reverse("reports:home"))
    assert response.status_code == 302 and response["Location"] == reverse(f"reports:{target}")


def test_the_admin_lists_the_hourly_figures_read_only(client, staff_user, world):
    logged_in(client, staff_user)
    url = reverse("admin:ads_adperformance_changelist")
    response = client.get(url, {"device__exact": "desktop"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Fizz launch" in html and "Far board" in html and "Lobby board" not in html
    assert "87.5%" in html  # viewable rate of the desktop row: 35 / 40
    assert client.get(reverse("admin:ads_adperformance_add")).status_code == 403


# --------------------------------------------------------------------------- management API

ROW_KEYS = {"period", "impressions", "viewable_impressions", "clicks", "interactions", "conversions", "invalid",
            "ctr", "ecpm"}  # fmt: skip


def test_the_campaign_report_api_format(token_client, advertiser, world):
    api = token_client(advertiser)
    response = api.get(f"/api/v1/manage/campaigns/{world['mine'].pk}/report/", {"from": today(), "to": today()})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"totals", "rows"}
    assert body["granularity"] == "day" and body["campaign_id"] == world["mine"].pk
    assert body["total_budget"] == "50.000000"
    assert len(body["rows"]) == 1
    row = body["rows"][0]
    assert set(row) >= ROW_KEYS | {"spend"}
    assert row == {
        "period": today(), "impressions": 100, "viewable_impressions": 80, "viewable_rate": 0.8, "clicks": 4,
        "ctr": 0.04, "interactions": 0, "conversions": 1, "invalid": 0, "spend": "0.200000", "ecpm": "2.000000",
    }  # fmt: skip
    assert body["totals"] == {k: v for k, v in row.items() if k != "period"}


def test_the_campaign_report_api_by_hour(token_client, advertiser, world):
    api = token_client(advertiser)
    body = api.get(
        f"/api/v1/manage/campaigns/{world['mine'].pk}/report/", {"from": today(), "to": today(), "granularity": "hour"}
    ).json()
    assert len(body["rows"]) == 24
    assert body["rows"][1]["period"] == f"{today()}T01:00:00Z"
    assert [r["impressions"] for r in body["rows"][:3]] == [0, 60, 40]
    assert body["rows"][0]["ctr"] is None and body["rows"][0]["ecpm"] is None
    # ISO times with a timezone work too: the end is excluded
    start, end = today_at(1).isoformat(), today_at(2).isoformat()
    timed = api.get(
        f"/api/v1/manage/campaigns/{world['mine'].pk}/report/", {"from": start, "to": end, "granularity": "hour"}
    ).json()
    assert [r["impressions"] for r in timed["rows"]] == [60]


def test_the_game_report_api_has_revenue_and_fill_rate(token_client, owner, world):
    body = (
        token_client(owner)
        .get(f"/api/v1/manage/games/{world['my_game'].pk}/report/", {"from": today(), "to": today()})
        .json()
    )
    row = body["rows"][0]
    assert set(row) >= ROW_KEYS | {"revenue", "fill_rate"} and "spend" not in row
    assert row["revenue"] == "7.890000" and row["fill_rate"] == pytest.approx(round(100 / 150, 6))
    assert row["decisions"] == 150 and body["totals"]["revenue"] == "7.890000"


def test_the_api_defaults_to_the_last_seven_days(token_client, advertiser, world):
    body = token_client(advertiser).get(f"/api/v1/manage/campaigns/{world['mine'].pk}/report/").json()
    assert len(body["rows"]) == 7 and body["rows"][-1]["period"] == today()


def test_report_api_isolation(token_client, advertiser, owner, world):
    assert token_client(advertiser).get(f"/api/v1/manage/campaigns/{world['theirs'].pk}/report/").status_code == 404
    assert token_client(advertiser).get(f"/api/v1/manage/games/{world['my_game'].pk}/report/").status_code == 404
    assert token_client(owner).get(f"/api/v1/manage/games/{world['their_game'].pk}/report/").status_code == 404
    response = token_client(owner).get(f"/api/v1/manage/campaigns/{world['mine'].pk}/report/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_report_api_without_a_token_is_401(api_client, world):
    assert api_client.get(f"/api/v1/manage/campaigns/{world['mine'].pk}/report/").status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"to": "soon"}, "to"),
        ({"from": "2026-01-01T10:00:00"}, "from"),  # no timezone
        ({"granularity": "week"}, "granularity"),
        ({"from": "2026-03-01", "to": "2026-02-01"}, "to"),
        ({"from": "2026-01-01", "to": "2026-03-01", "granularity": "hour"}, "granularity"),
    ],
)
def test_report_api_bad_query_is_400_in_the_common_format(token_client, advertiser, world, query, field):
    response = token_client(advertiser).get(f"/api/v1/manage/campaigns/{world['mine'].pk}/report/", query)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and field in error["details"]


def test_the_schema_describes_the_report_endpoints(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/v1/manage/campaigns/{id}/report/", "/api/v1/manage/games/{id}/report/"):
        operation = schema["paths"][path]["get"]
        assert {p["name"] for p in operation["parameters"]} >= {"from", "to", "granularity"}
        assert {"200", "400", "404"} <= set(operation["responses"])
