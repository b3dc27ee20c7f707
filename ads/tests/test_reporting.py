"""The hourly roll-up into AdPerformance and the report selectors."""

from __future__ import annotations

import logging
import uuid
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from ads.budget import budget_rebuild
from ads.decisions import Player, ad_decide, engine
from ads.events import events_drain
from ads.models import AdEngagement, AdPerformance, Decision, LedgerEntry
from ads.reporting import (
    Figures,
    ReportRange,
    campaign_ctr_counts,
    floor_hour,
    performance_of_campaign,
    range_errors,
    report_breakdown,
    report_series,
    report_totals,
)
from ads.rollups import performance_rollup, performance_rollup_recent
from ads.tasks import rollup_performance
from ads.tests.factories import CampaignFactory, CreativeFactory
from games.tests.factories import AdContainerFactory, AssetFactory, PlaylistFactory, make_api_key

pytestmark = pytest.mark.django_db

VIEWABLE = {"duration_ms": 1400, "screen_coverage": 0.031, "visible_fraction": 0.8, "angle_deg": 30}
NOT_VIEWABLE = {**VIEWABLE, "duration_ms": 200}
DIMENSIONS = ("hour", "campaign_id", "creative_id", "container_id", "game_id", "country", "device")
FIGURES = tuple(f.name for f in fields(Figures))


@pytest.fixture(autouse=True)
def _no_worker():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        yield


# --------------------------------------------------------------------------- helpers (also used by the page tests)


def running_campaign(container, **kwargs):
    """An ACTIVE CPM campaign with an approved creative for the container; clears at floor + 0.01."""
    campaign = CampaignFactory(status="ACTIVE", max_bid=Decimal("5"), pacing="ASAP", **kwargs)
    CreativeFactory(campaign=campaign, kind=container.type)
    budget_rebuild(campaign_ids=[campaign.pk])
    engine.reset()
    return campaign


def decide(container, *, player_id=1001, country="US", device="mobile", ads_allowed=True):
    player = Player(id=player_id, country=country, device=device, ads_allowed=ads_allowed)
    return ad_decide(container_id=container.pk, game_id=container.game_id, player=player).body


def event(body, kind="impression", *, player_id=1001, at=None, viewability=VIEWABLE):
    data = {
        "event_id": str(uuid.uuid4()),
        "type": kind,
        "decision_id": body["decision_id"],
        "tracking_token": body["tracking_token"],
        "player_id": player_id,
        "occurred_at": (at or timezone.now()).isoformat(),
    }
    if kind == "impression":
        data["viewability"] = viewability
    return data


def send(api_client, key, events):
    response = api_client.post("/api/v1/events", {"events": events}, format="json", HTTP_X_API_KEY=key)
    assert response.status_code == 202, response.content
    assert response.json()["rejected"] == []
    events_drain()


def rows_of(qs=None):
    qs = AdPerformance.objects.all() if qs is None else qs
    return sorted(qs.values_list(*DIMENSIONS, *FIGURES), key=str)


def window():
    now = timezone.now()
    return {"start": now - timedelta(hours=3), "end": now + timedelta(hours=1)}


def summed(**filters):
    return report_totals(AdPerformance.objects.filter(**filters))


# --------------------------------------------------------------------------- arithmetic


def test_the_rollup_counts_decisions_events_and_spend_from_real_traffic(api_client):
    # given: a game with a paid campaign and house content, and a morning of real traffic
    container = AdContainerFactory(floor_price_cpm=Decimal("1.99"))
    campaign = running_campaign(container)
    creative = campaign.creatives.get()
    _, key, _ = make_api_key(container.game)
    us = [decide(container, player_id=1001) for _ in range(3)]
    gb = decide(container, player_id=2002, country="GB", device="desktop")
    unfilled = decide(container, player_id=3003, ads_allowed=False)
    assert all(b["source"] == "campaign" for b in [*us, gb]) and unfilled["filled"] is False
    playlist = PlaylistFactory(game=container.game)
    playlist.items.create(position=1, asset=AssetFactory(), display_seconds=10)
    container.playlist = playlist
    container.save()
    engine.reset()
    house = decide(container, player_id=3003, ads_allowed=False)
    assert house["source"] == "house"

    t = timezone.now() - timedelta(seconds=30)
    send(api_client, key, [
        event(us[0], at=t), event(us[0], "click", at=t + timedelta(seconds=2)),
        event(us[1], at=t), event(us[1], "click", at=t + timedelta(milliseconds=50)),  # too fast: invalid
        event(us[2], at=t, viewability=NOT_VIEWABLE), event(us[2], "interaction", at=t + timedelta(seconds=3)),
        event(gb, player_id=2002, at=t), event(gb, "conversion", player_id=2002, at=t + timedelta(seconds=9)),
        event(house, player_id=3003, at=t),
    ])  # fmt: skip

    # when
    written = performance_rollup(**window())

    # then: one row per dimension tuple (the hour may straddle a boundary: sum over hours)
    assert written == AdPerformance.objects.count() >= 3  # house and unfilled share their dimensions
    us_paid = summed(campaign=campaign, creative=creative, container=container, game_id=container.game_id,
                     country="US", device="mobile")  # fmt: skip
    assert (us_paid.decisions, us_paid.fills_paid, us_paid.fills_house) == (3, 3, 0)
    assert (us_paid.impressions, us_paid.viewable_impressions) == (3, 2)
    assert (us_paid.clicks, us_paid.interactions, us_paid.conversions, us_paid.invalid_events) == (1, 1, 0, 1)
    assert us_paid.spend == Decimal("0.004")  # two viewable impressions at 2.00 CPM
    gb_paid = summed(campaign=campaign, country="GB", device="desktop")
    assert (gb_paid.decisions, gb_paid.impressions, gb_paid.viewable_impressions, gb_paid.conversions) == (1, 1, 1, 1)
    assert gb_paid.spend == Decimal("0.002")
    not_paid = summed(campaign__isnull=True, container=container)
    assert (not_paid.decisions, not_paid.fills_paid, not_paid.fills_house, not_paid.impressions) == (2, 0, 1, 1)
    assert not_paid.spend == 0
    # the whole matches the ledger and the raw tables
    total = report_totals(AdPerformance.objects.all())
    ledger = sum(e.amount for e in LedgerEntry.objects.filter(kind__in=["IMPRESSION_CHARGE", "CLICK_CHARGE"]))
    assert total.spend == ledger == campaign.__class__.objects.get(pk=campaign.pk).spent
    assert total.decisions == Decision.objects.count() == 6
    assert total.events == AdEngagement.objects.count() == 9
    assert total.fill_rate == pytest.approx(4 / 6) and total.ctr == pytest.approx(1 / 5)


def _decision(*, at, campaign=None, creative=None, container, state="RESERVED", country="US", device="mobile"):
    return Decision.objects.create(
        id=uuid.uuid4(), game_id=container.game_id, container=container, campaign=campaign, creative=creative,
        player_id=7, country=country, device=device, state=state, created_at=at,
    )  # fmt: skip


def _engagement(decision, kind="impression", *, at, viewable=True, invalid="", received=None):
    return AdEngagement.objects.create(
        event_id=uuid.uuid4(), type=kind, decision_id=decision.id, game_id=decision.game_id,
        container_id=decision.container_id, campaign_id=decision.campaign_id, creative_id=decision.creative_id,
        player_id=7, occurred_at=at, received_at=received or at, viewable=viewable, invalid_reason=invalid,
    )  # fmt: skip


def _ledger(decision, amount, *, kind="IMPRESSION_CHARGE", at):
    entry = LedgerEntry.objects.create(campaign=decision.campaign, kind=kind, amount=Decimal(amount),
                                       decision_id=decision.id)  # fmt: skip
    LedgerEntry.objects.filter(pk=entry.pk).update(created_at=at)
    return entry


@pytest.fixture
def hours():
    """Two whole hours a while ago, and the objects they concern."""
    base = floor_hour(timezone.now()) - timedelta(hours=6)
    container = AdContainerFactory()
    campaign = CampaignFactory()
    creative = CreativeFactory(campaign=campaign)
    return base, container, campaign, creative


def test_each_source_is_counted_in_its_own_hour_and_releases_are_not_spend(hours):
    base, container, campaign, creative = hours
    d1 = _decision(at=base + timedelta(minutes=59), campaign=campaign, creative=creative, container=container)
    _engagement(d1, at=base + timedelta(minutes=59, seconds=30))
    _engagement(d1, "click", at=base + timedelta(hours=1, seconds=5))  # the next hour
    _ledger(d1, "0.003", at=base + timedelta(hours=1, seconds=1))
    d2 = _decision(at=base + timedelta(minutes=10), campaign=campaign, creative=creative, container=container,
                   state="RELEASED")  # fmt: skip
    _ledger(d2, "0.003", kind="RELEASE", at=base + timedelta(minutes=40))
    _decision(at=base + timedelta(minutes=5), container=container, state="UNFILLED", country="", device="")

    performance_rollup(start=base, end=base + timedelta(hours=2))

    first = summed(hour=base)
    second = summed(hour=base + timedelta(hours=1))
    assert (first.decisions, first.fills_paid, first.impressions, first.clicks, first.spend) == (3, 2, 1, 0, 0)
    assert (second.decisions, second.impressions, second.clicks, second.spend) == (0, 0, 1, Decimal("0.003"))
    unknown = AdPerformance.objects.get(hour=base, campaign__isnull=True)
    assert (unknown.country, unknown.device, unknown.creative_id, unknown.decisions) == ("", "", None, 1)


def test_running_any_window_twice_gives_the_same_rows(hours):
    base, container, campaign, creative = hours
    for minute in (5, 65, 125):
        d = _decision(at=base + timedelta(minutes=minute), campaign=campaign, creative=creative, container=container)
        _engagement(d, at=base + timedelta(minutes=minute + 1))
        _ledger(d, "0.002", at=base + timedelta(minutes=minute + 1))

    performance_rollup(start=base, end=base + timedelta(hours=3))
    once = rows_of()
    performance_rollup(start=base, end=base + timedelta(hours=3))
    assert rows_of() == once
    # an overlapping, unaligned window recomputes its whole hours to the same figures
    performance_rollup(start=base + timedelta(minutes=30), end=base + timedelta(minutes=90))
    assert rows_of() == once
    assert len(once) == 3 and summed().spend == Decimal("0.006")


def test_the_rollup_replaces_what_was_there_for_its_hours_only(hours):
    base, container, campaign, creative = hours
    _decision(at=base + timedelta(minutes=1), campaign=campaign, creative=creative, container=container)
    stale = AdPerformance.objects.create(hour=base, game_id=container.game_id, decisions=99, updated_at=base)
    outside = AdPerformance.objects.create(hour=base - timedelta(hours=1), decisions=5, updated_at=base)

    performance_rollup(start=base, end=base + timedelta(hours=1))

    assert not AdPerformance.objects.filter(pk=stale.pk).exists()
    assert AdPerformance.objects.filter(pk=outside.pk).exists()
    assert summed(hour=base).decisions == 1


# --------------------------------------------------------------------------- the minute job and late rows


def test_a_late_event_is_counted_in_its_own_hour_on_the_next_run(api_client):
    # given: a delivered impression, rolled up
    container = AdContainerFactory(floor_price_cpm=Decimal("1.99"))
    campaign = running_campaign(container)
    _, key, _ = make_api_key(container.game)
    body = decide(container)
    send(api_client, key, [event(body)])
    first = performance_rollup_recent()
    assert first["rebuilt"] is True
    three_hours_ago = timezone.now() - timedelta(hours=3)
    late_hour = floor_hour(three_hours_ago)
    assert not AdPerformance.objects.filter(hour=late_hour).exists()

    # when: a game server that was offline reports an impression of three hours ago
    other = decide(container, player_id=1002)
    send(api_client, key, [event(other, player_id=1002, at=three_hours_ago)])
    second = performance_rollup_recent()

    # then: the old hour is recomputed and holds it; nothing is counted twice
    assert second["rebuilt"] is False
    assert second["late_hours"] == [f"{late_hour:%Y-%m-%dT%H}:00Z"]
    late = summed(hour=late_hour, campaign=campaign)
    assert (late.impressions, late.viewable_impressions, late.decisions) == (1, 1, 0)
    assert summed(campaign=campaign).impressions == 2
    assert summed(campaign=campaign).spend == Decimal("0.004")
    # and a third run finds nothing late
    assert performance_rollup_recent()["late_hours"] == []


def test_decisions_drained_late_are_found_by_the_hourly_count_check(hours):
    base, container, campaign, creative = hours
    performance_rollup_recent()
    _decision(at=base + timedelta(minutes=3), campaign=campaign, creative=creative, container=container)

    skipped = performance_rollup_recent(check=False)
    assert skipped["late_hours"] == [] and not AdPerformance.objects.filter(hour=base).exists()
    checked = performance_rollup_recent(check=True)
    assert checked["late_hours"] == [f"{base:%Y-%m-%dT%H}:00Z"]
    assert summed(hour=base).decisions == 1
    assert performance_rollup_recent(check=True)["late_hours"] == []  # in step now


def test_rows_committed_behind_the_watermark_are_found_by_the_check(hours):
    base, container, campaign, creative = hours
    d = _decision(at=base + timedelta(minutes=3), campaign=campaign, creative=creative, container=container)
    performance_rollup_recent()
    # an event and a charge whose ids are below the watermark (a writer that committed out of order)
    event = _engagement(d, at=base + timedelta(minutes=4))
    entry = _ledger(d, "0.002", at=base + timedelta(minutes=4))
    performance_rollup_recent(check=False)
    AdEngagement.objects.filter(pk=event.pk).update(id=-1)
    LedgerEntry.objects.filter(pk=entry.pk).update(id=-1)
    AdPerformance.objects.filter(hour=base).update(impressions=0, spend=0)  # as if rolled up before they committed

    result = performance_rollup_recent(check=True)

    assert result["late_hours"] == [f"{base:%Y-%m-%dT%H}:00Z"]
    assert (summed(hour=base).impressions, summed(hour=base).spend) == (1, Decimal("0.002"))


def test_the_job_rolls_up_the_current_and_previous_hour_every_run():
    now = timezone.now()
    result = performance_rollup_recent(now=now, check=False)
    again = performance_rollup_recent(now=now, check=False)
    current = floor_hour(now)
    previous, following = current - timedelta(hours=1), current + timedelta(hours=1)
    assert again["windows"] == [f"{previous:%Y-%m-%dT%H}:00Z/{following:%Y-%m-%dT%H}:00Z"]
    assert result["rebuilt"] and len(result["windows"]) == 1 and result["hours"] == 49


def test_the_beat_task_is_scheduled_every_minute_and_logs_what_it_did(settings, caplog):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "ads.tasks.rollup_performance")
    assert entry["schedule"] == timedelta(minutes=1)
    with caplog.at_level(logging.INFO, logger="ads.rollups"):
        result = rollup_performance()
    assert result["rebuilt"] is True
    assert any(r.message == "performance rolled up" and r.rows == result["rows"] for r in caplog.records)


def test_campaign_ctr_counts_sum_impressions_and_clicks_per_campaign(hours):
    base, _, campaign, _ = hours
    other = CampaignFactory()
    AdPerformance.objects.create(hour=base, campaign=campaign, impressions=100, clicks=3, updated_at=base)
    AdPerformance.objects.create(hour=base, campaign=campaign, country="GB", impressions=50, clicks=1, updated_at=base)
    AdPerformance.objects.create(hour=base, campaign=other, impressions=10, updated_at=base)
    AdPerformance.objects.create(hour=base, impressions=500, updated_at=base)  # house: no campaign
    AdPerformance.objects.create(hour=base - timedelta(days=45), campaign=other, impressions=9, updated_at=base)
    assert campaign_ctr_counts() == {campaign.pk: (150, 4), other.pk: (10, 0)}


# --------------------------------------------------------------------------- selectors


def test_series_fill_every_period_and_sum_days(hours):
    base, _, campaign, _ = hours
    day = base.date()
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    for hour, impressions, spend in ((noon, 10, "0.020"), (noon + timedelta(hours=2), 30, "0.040")):
        AdPerformance.objects.create(hour=hour, campaign=campaign, impressions=impressions, clicks=1,
                                     spend=Decimal(spend), updated_at=hour)  # fmt: skip
    qs = performance_of_campaign(campaign)

    days = report_series(qs, ReportRange.from_dates(day - timedelta(days=1), day + timedelta(days=1)))
    assert [r.iso for r in days] == [str(day - timedelta(days=1)), str(day), str(day + timedelta(days=1))]
    assert [r.figures.impressions for r in days] == [0, 40, 0]
    assert days[1].figures.spend == Decimal("0.060") and days[1].figures.ecpm == Decimal("1.500000")
    assert days[1].figures.ctr == pytest.approx(0.05) and days[0].figures.ctr is None

    hourly = report_series(qs, ReportRange.from_dates(day, day, "hour"))
    assert len(hourly) == 24
    assert [r.figures.impressions for r in hourly[12:15]] == [10, 0, 30]
    assert hourly[12].iso == f"{day}T12:00:00Z"


def test_breakdowns_group_and_name_their_keys(hours):
    base, container, campaign, _ = hours
    other = AdContainerFactory(game=container.game, name="Spawn NPC")
    common = {"hour": base, "campaign": campaign, "game_id": container.game_id, "device": "mobile", "updated_at": base}
    AdPerformance.objects.create(**common, container=container, country="US", impressions=5, spend=Decimal("1"))
    AdPerformance.objects.create(**common, container=other, country="GB", impressions=7, spend=Decimal("2"))
    rng = ReportRange.from_dates(base.date(), base.date())
    qs = performance_of_campaign(campaign)

    by_container = report_breakdown(qs, rng, "container")
    assert [(r.label, r.detail, r.figures.impressions) for r in by_container] == [
        ("Spawn NPC", container.game.name, 7),
        (container.name, container.game.name, 5),
    ]
    assert [(r.key, r.label) for r in report_breakdown(qs, rng, "device")] == [("mobile", "Phone")]
    assert [r.key for r in report_breakdown(qs, rng, "country")] == ["GB", "US"]
    assert [r.label for r in report_breakdown(qs, rng, "game")] == [container.game.name]


def test_range_errors():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert range_errors(start, start + timedelta(days=7), "day") == {}
    assert "to" in range_errors(start, start - timedelta(days=1), "day")
    assert "to" in range_errors(start, start + timedelta(days=400), "day")
    assert "granularity" in range_errors(start, start + timedelta(days=40), "hour")
    assert "granularity" in range_errors(start, start + timedelta(days=1), "minute")
    rng = ReportRange.from_bounds(start + timedelta(hours=5, minutes=3), start + timedelta(hours=7), "day")
    assert (rng.start, rng.end) == (start, start + timedelta(days=1))
    assert ReportRange.from_dates(date(2026, 1, 1), date(2026, 1, 2)).last_day == date(2026, 1, 2)
