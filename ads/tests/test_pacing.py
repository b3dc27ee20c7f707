"""EVEN pacing follows its plan over a whole simulated day; ASAP spends its budget first.

The day runs through the real engine and Redis on a clock injected into the engine: every minute of one
UTC day, steady traffic well above what the budget buys.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from adplatform.core.redis import get_redis
from ads import budget, services
from ads.decisions import Player, ad_decide, engine
from ads.models import Decision, LedgerEntry, LedgerKind
from ads.pacing import day_plan, pacing_curve, simulate_day
from ads.streams import drain_decisions
from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory
from games.tests.factories import AdContainerFactory

pytestmark = pytest.mark.django_db

DAILY = Decimal("2.00")  # 200 decisions at 10.00 CPM


@pytest.fixture
def container():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        return AdContainerFactory(floor_price_cpm=Decimal("9.99"))


def live(container, pacing, **fields):
    campaign = CampaignFactory(max_bid=Decimal("20"), advertiser=AdvertiserFactory(), pacing=pacing,
                               total_budget=Decimal("500"), daily_budget=DAILY, **fields)  # fmt: skip
    CreativeFactory(campaign=campaign, kind=container.type)
    return services.campaign_activate(campaign=campaign)


def test_even_pacing_spends_its_day_along_the_plan(container):
    # given: an EVEN campaign and a steady 3 decisions a minute (about 22 times what its budget buys)
    campaign = live(container, "EVEN")
    day = (timezone.now() + timedelta(days=1)).date()

    # when: a whole day passes
    spent = simulate_day(container=container, day=day, decisions_per_minute=3)[campaign.pk]

    # then: the day's budget is spent to within 5 %, and at the end of every hour within 10 % of the plan
    daily = budget.to_micros(DAILY)
    assert abs(spent[-1] - daily) <= daily * 0.05, spent[-1]
    for hour, micros in enumerate(spent, start=1):
        plan = daily * hour / 24
        assert abs(micros - plan) <= plan * 0.10, (hour, micros, plan)


def test_asap_spends_its_budget_first(container):
    campaign = live(container, "ASAP")
    day = (timezone.now() + timedelta(days=1)).date()
    spent = simulate_day(container=container, day=day, decisions_per_minute=3)[campaign.pk]
    daily = budget.to_micros(DAILY)
    assert spent[1] == daily  # all of it within the first two hours (3 a minute: 67 minutes)
    assert spent[-1] == daily


def test_even_pacing_spreads_a_total_budget_without_a_daily_one(container):
    # 10 days left, 20.00 in all: each day's target is 2.00
    campaign = CampaignFactory(max_bid=Decimal("20"), advertiser=AdvertiserFactory(), pacing="EVEN",
                               total_budget=Decimal("20"), daily_budget=None)  # fmt: skip
    day = (timezone.now() + timedelta(days=1)).date()
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    campaign.start_at, campaign.end_at = day_start - timedelta(days=1), day_start + timedelta(days=10)
    campaign.save()
    CreativeFactory(campaign=campaign, kind=container.type)
    services.campaign_activate(campaign=campaign)
    spent = simulate_day(container=container, day=day, decisions_per_minute=3)[campaign.pk]
    target = budget.to_micros(Decimal("2"))
    assert abs(spent[-1] - target) <= target * 0.05
    assert day_plan(campaign, day).target == Decimal("2")


def test_the_pacing_curve_compares_spend_with_the_plan(container):
    campaign = live(container, "EVEN")
    today = timezone.now().date()
    curve = pacing_curve(campaign, today)
    assert [p["hour"] for p in curve] == list(range(24))
    assert curve[-1]["plan"] == DAILY
    assert curve[11]["plan"] == DAILY / 2
    assert all(p["spent"] in (None, Decimal("0")) for p in curve)


def test_the_utc_day_boundary_never_spends_a_day_twice(container):
    """A day's reservations count against that day, even when their impressions are confirmed after midnight."""
    campaign = CampaignFactory(max_bid=Decimal("20"), advertiser=AdvertiserFactory(), pacing="ASAP",
                               total_budget=Decimal("100"), daily_budget=Decimal("0.05"))  # 5 a day  # fmt: skip
    CreativeFactory(campaign=campaign, kind=container.type)
    services.campaign_activate(campaign=campaign)
    day = (timezone.now() + timedelta(days=2)).date()
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    previous = engine.clock

    def decide_at(moment, n):
        engine.clock = moment.timestamp
        try:
            return [ad_decide(container_id=container.pk, game_id=container.game_id,
                              player=Player(id=1000 + i, ads_allowed=True)).body for i in range(n)]  # fmt: skip
        finally:
            engine.clock = previous

    def confirm_all():
        drain_decisions()
        open_ = Decision.objects.filter(campaign=campaign, state="RESERVED")
        with transaction.atomic():
            return budget.charges_apply(
                [budget.Charge(d.id, campaign.pk, d.reserved_amount, LedgerKind.IMPRESSION_CHARGE) for d in open_]
            )

    # the last minute of a day fills its daily budget, and no more
    late = decide_at(midnight - timedelta(seconds=30), 6)
    assert [a.get("source") for a in late].count("campaign") == 5
    assert late[-1]["reason"] == "daily_budget_exhausted"
    # its impressions are confirmed after midnight; the new day still has its whole budget
    assert set(confirm_all().values()) == {"charged"}
    early = decide_at(midnight + timedelta(seconds=30), 6)
    assert [a.get("source") for a in early].count("campaign") == 5
    assert set(confirm_all().values()) == {"charged"}  # nothing shown for free

    by_day = {e.spend_day: e.amount for e in LedgerEntry.objects.filter(campaign=campaign)}
    assert len(LedgerEntry.objects.filter(campaign=campaign)) == 10
    assert set(by_day) == {day, day + timedelta(days=1)}
    for stamp in (day, day + timedelta(days=1)):
        key = budget.daily_key(campaign.pk, stamp.strftime("%Y%m%d"))
        assert int(get_redis().get(key)) == budget.to_micros(Decimal("0.05"))


def test_an_advertiser_hears_once_when_charges_spend_the_budget(container, django_capture_on_commit_callbacks):
    from adplatform.accounts.models import Notification

    campaign = CampaignFactory(max_bid=Decimal("20"), advertiser=AdvertiserFactory(), pacing="ASAP",
                               total_budget=Decimal("0.02"))  # two decisions at 10.00 CPM  # fmt: skip
    CreativeFactory(campaign=campaign, kind=container.type)
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_activate(campaign=campaign)
    for i in range(3):
        ad_decide(container_id=container.pk, game_id=container.game_id, player=Player(id=50 + i, ads_allowed=True))
    drain_decisions()
    for decision in Decision.objects.filter(campaign=campaign, state="RESERVED"):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            budget.charges_apply(
                [budget.Charge(decision.id, campaign.pk, decision.reserved_amount, LedgerKind.IMPRESSION_CHARGE)]
            )
    notices = Notification.objects.filter(user=campaign.advertiser.user, kind="BUDGET_EXHAUSTED")
    assert notices.count() == 1  # told when the second charge spent it, not before, and once
