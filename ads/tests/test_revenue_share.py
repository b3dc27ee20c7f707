"""Qualified visits and Roblox's 2027 revenue share on ad integrations (ads.revenue_share), and the earnings."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from ads import revenue_share
from ads.models import AdEngagement, AdPerformance, Decision, QualifiedVisit
from ads.tests.factories import CampaignFactory
from games.tests.factories import GameFactory

pytestmark = pytest.mark.django_db

START_2027 = datetime(2027, 1, 5, tzinfo=UTC)


def engagement(
    campaign, *, game, player=1, server="job-1", at, country="US", viewable=True, invalid="", kind="impression"
):
    decision_id = uuid.uuid4()
    Decision.objects.create(
        id=decision_id, game_id=game.pk, campaign=campaign, player_id=player, country=country, server_id=server,
        state="CONFIRMED", created_at=at,
    )  # fmt: skip
    return AdEngagement.objects.create(
        event_id=uuid.uuid4(), type=kind, decision_id=decision_id, game_id=game.pk, campaign_id=campaign.pk,
        player_id=player, server_id=server, occurred_at=at, received_at=at, viewable=viewable, invalid_reason=invalid,
    )  # fmt: skip


def collect(since=datetime(2026, 1, 1, tzinfo=UTC), until=datetime(2028, 1, 1, tzinfo=UTC)):
    return revenue_share.qualified_visits_collect(since=since, until=until)


@pytest.fixture
def game():
    return GameFactory()


@pytest.fixture
def campaign_2027():
    return CampaignFactory(start_at=START_2027, end_at=START_2027 + timedelta(days=90))


def test_one_session_with_many_viewable_engagements_is_one_qualified_visit(game, campaign_2027):
    at = START_2027 + timedelta(days=1)
    for minute in range(3):
        engagement(campaign_2027, game=game, at=at + timedelta(minutes=minute))
    engagement(campaign_2027, game=game, at=at + timedelta(hours=2), kind="click", viewable=True)
    assert collect() == 1
    visit = QualifiedVisit.objects.get()
    assert (visit.player_id, visit.session, visit.country, visit.tier) == (1, "job-1", "US", "US")
    assert visit.cost == Decimal("1.50") / 1000


def test_another_session_or_another_campaign_is_another_visit(game, campaign_2027):
    other = CampaignFactory(start_at=START_2027, end_at=START_2027 + timedelta(days=90))
    at = START_2027 + timedelta(days=1)
    engagement(campaign_2027, game=game, server="job-1", at=at)
    engagement(campaign_2027, game=game, server="job-2", at=at)  # the player rejoined on another server
    engagement(other, game=game, server="job-1", at=at)
    assert collect() == 3


def test_engagements_that_are_not_viewable_or_invalid_qualify_nothing(game, campaign_2027):
    at = START_2027 + timedelta(days=1)
    engagement(campaign_2027, game=game, at=at, viewable=False)
    engagement(campaign_2027, game=game, player=2, at=at, invalid="bot")
    assert collect() == 0


def test_collecting_twice_counts_once(game, campaign_2027):
    engagement(campaign_2027, game=game, at=START_2027 + timedelta(days=1))
    assert collect() == 1
    assert collect() == 0
    assert QualifiedVisit.objects.count() == 1


def test_without_a_server_id_a_player_day_is_the_session(game, campaign_2027):
    at = START_2027 + timedelta(days=1, hours=1)
    engagement(campaign_2027, game=game, server="", at=at)
    engagement(campaign_2027, game=game, server="", at=at + timedelta(hours=3))
    engagement(campaign_2027, game=game, server="", at=at + timedelta(days=1))
    assert collect() == 2


@pytest.mark.parametrize(
    "country,days_in,tier,cptv",
    [
        ("US", 1, "US", "1.50"),
        ("GB", 1, "TIER1", "0.75"),
        ("JP", 1, "TIER2", "0.20"),
        ("BR", 1, "TIER3", "0.05"),
        ("", 1, "TIER3", "0.05"),  # unknown country: the global floor
        ("US", 30, "AFTER_INTRO", "0.10"),  # after the first 28 days: the flat rate
    ],
)
def test_visits_are_priced_by_market_tier_then_flat(game, campaign_2027, country, days_in, tier, cptv):
    engagement(campaign_2027, game=game, country=country, at=START_2027 + timedelta(days=days_in))
    collect()
    visit = QualifiedVisit.objects.get()
    assert (visit.tier, visit.cost) == (tier, Decimal(cptv) / 1000)


def test_campaigns_that_started_before_2027_pay_no_share(game):
    campaign = CampaignFactory(start_at=datetime(2026, 12, 1, tzinfo=UTC), end_at=datetime(2027, 3, 1, tzinfo=UTC))
    engagement(campaign, game=game, at=datetime(2027, 1, 10, tzinfo=UTC))
    collect()
    visit = QualifiedVisit.objects.get()
    assert (visit.tier, visit.cost) == ("", Decimal("0"))


def test_an_edited_table_reprices_the_visits(game, campaign_2027):
    from ads.models import RevenueShareTier

    engagement(campaign_2027, game=game, at=START_2027 + timedelta(days=1))
    collect()
    RevenueShareTier.objects.filter(code="US").update(cptv=Decimal("2.00"))
    revenue_share.price_visits()
    assert QualifiedVisit.objects.get().cost == Decimal("0.002")


def test_the_campaign_cap_limits_what_roblox_charges(game, campaign_2027):
    from ads.models import RevenueShareSchedule

    RevenueShareSchedule.objects.update(campaign_cap=Decimal("0.002"))
    for player in range(1, 4):  # 3 US visits at 0.0015 = 0.0045, capped at 0.002
        engagement(campaign_2027, game=game, player=player, at=START_2027 + timedelta(days=1, minutes=player))
    collect()
    assert sum(v.cost for v in QualifiedVisit.objects.all()) == Decimal("0.002")


# ----------------------------------------------------------------------------- the owner's earnings


@pytest.fixture
def earnings(game, campaign_2027):
    """A game with $2 of spend and two qualified US visits on 2027-01-06."""
    day = datetime(2027, 1, 6, tzinfo=UTC)
    AdPerformance.objects.create(hour=day + timedelta(hours=10), game=game, campaign=campaign_2027, decisions=10,
                                 fills_paid=8, impressions=8, viewable_impressions=6, spend=Decimal("2"),
                                 updated_at=day)  # fmt: skip
    engagement(campaign_2027, game=game, player=1, at=day + timedelta(hours=10))
    engagement(campaign_2027, game=game, player=2, at=day + timedelta(hours=11))
    collect()
    return game


def test_the_earnings_csv_shows_gross_roblox_share_and_net(client, earnings):
    client.force_login(earnings.owner)
    response = client.get(reverse("reports:earnings-csv"), {"from": "2027-01-06", "to": "2027-01-06"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    row = next(r for r in rows if r["game_id"] == str(earnings.pk))
    assert (row["qualified_visits"], row["gross"], row["roblox_revenue_share"], row["net"]) == (
        "2", "2.000000", "0.003000", "1.997000")  # fmt: skip


def test_the_game_csv_shows_them_by_period_and_in_total(client, earnings):
    client.force_login(earnings.owner)
    response = client.get(reverse("reports:game-csv", args=[earnings.pk]), {"from": "2027-01-05", "to": "2027-01-06"})
    rows = {r["period"][:10]: r for r in csv.DictReader(io.StringIO(response.content.decode()))}
    assert rows["2027-01-06"]["roblox_revenue_share"] == "0.003000"
    assert rows["2027-01-05"]["qualified_visits"] == "0"
    assert (rows["total"]["gross"], rows["total"]["net"]) == ("2.000000", "1.997000")


def test_the_earnings_pages_show_the_share_beside_gross_and_net(client, earnings):
    client.force_login(earnings.owner)
    params = {"from": "2027-01-06", "to": "2027-01-06"}
    for url in (reverse("reports:earnings"), reverse("reports:game", args=[earnings.pk])):
        page = client.get(url, params).content.decode()
        assert 'id="revenue-share"' in page
        assert 'id="earnings-gross">$2.00' in page and 'id="earnings-net">$2.00' in page  # 1.997 shown as $2.00
        assert "2 qualified visits" in page
        assert "effective 2027-01-01" in page and "$1.50" in page


def test_another_owners_visits_do_not_show(client, earnings):
    stranger = GameFactory()
    client.force_login(stranger.owner)
    response = client.get(reverse("reports:earnings-csv"), {"from": "2027-01-06", "to": "2027-01-06"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert all(r["game_id"] != str(earnings.pk) for r in rows)
    assert all(r["qualified_visits"] == "0" for r in rows)


def test_the_management_api_game_report_carries_the_earnings(token_client, earnings):
    client = token_client(earnings.owner)
    response = client.get(f"/api/v1/manage/games/{earnings.pk}/report/", {"from": "2027-01-06", "to": "2027-01-06"})
    assert response.status_code == 200
    assert response.json()["earnings"] == {
        "qualified_visits": 2, "gross": "2.000000", "roblox_revenue_share": "0.003000", "net": "1.997000"}  # fmt: skip
    schema = client.get("/api/schema/?format=json").json()
    assert "roblox_revenue_share" in schema["components"]["schemas"]["GameEarnings"]["properties"]


def test_the_periodic_job_collects_only_new_engagements_by_watermark(game, campaign_2027):
    from adplatform.core.redis import get_redis
    from ads.tasks import qualified_visits_collect as task

    # Without a watermark the job looks at recent hours, then remembers where it stopped.
    recent = datetime.now(UTC) - timedelta(minutes=5)
    engagement(campaign_2027, game=game, player=1, at=recent)
    assert task() == 1
    assert int(get_redis().get(revenue_share.WATERMARK_KEY)) == AdEngagement.objects.latest("id").id
    # Later runs take the rows stored since, however old their occurred_at.
    engagement(campaign_2027, game=game, player=2, at=START_2027 + timedelta(days=2))
    engagement(campaign_2027, game=game, player=1, at=recent + timedelta(minutes=1))  # same session: not new
    assert task() == 1
    assert task() == 0
    assert QualifiedVisit.objects.count() == 2


def test_the_admin_reprice_action_prices_visits_again_and_schedules_are_not_deleted(client, staff_user, game,
                                                                                     campaign_2027):  # fmt: skip
    from ads.models import RevenueShareSchedule, RevenueShareTier

    engagement(campaign_2027, game=game, at=START_2027 + timedelta(days=1))
    collect()
    RevenueShareTier.objects.filter(code="US").update(cptv=Decimal("3.00"))
    client.force_login(staff_user)
    schedule = RevenueShareSchedule.objects.get()
    client.post(reverse("admin:ads_revenueshareschedule_changelist"),
                {"action": "reprice", "_selected_action": [schedule.pk]})  # fmt: skip
    assert QualifiedVisit.objects.get().cost == Decimal("0.003")
    page = client.get(reverse("admin:ads_revenueshareschedule_change", args=[schedule.pk])).content.decode()
    assert "United States" in page and "deletelink" not in page
