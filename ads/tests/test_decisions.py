import threading
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from adplatform.core.redis import get_redis
from ads import budget, tokens
from ads.budget import budget_rebuild, decisions_release_expired
from ads.decisions import CampaignInfo, Candidate, CreativeInfo, Player, ad_decide, engine, run_auction
from ads.models import Decision, LedgerEntry
from ads.streams import drain_decisions
from ads.tests.factories import AdvertiserFactory, CampaignFactory, CreativeFactory
from games.tests.factories import AdContainerFactory, AssetFactory, PlaylistFactory

pytestmark = pytest.mark.django_db

ADULT = Player(id=1001, country="US", device="mobile", age_bracket="13+", ads_allowed=True)


@pytest.fixture(autouse=True)
def _no_worker():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        yield


@pytest.fixture
def container():
    return AdContainerFactory(floor_price_cpm=Decimal("1.00"))


def running(container, *, bid="5", advertiser=None, **kwargs):
    """An ACTIVE campaign with an approved creative of the container's type, budget state in Redis."""
    campaign = CampaignFactory(status="ACTIVE", max_bid=Decimal(bid), advertiser=advertiser or AdvertiserFactory(),
                               **kwargs)  # fmt: skip
    CreativeFactory(campaign=campaign, kind=container.type)
    budget_rebuild(campaign_ids=[campaign.pk])
    engine.reset()
    return campaign


def decide(container, player=ADULT):
    return ad_decide(container_id=container.pk, game_id=container.game_id, player=player).body


# ----------------------------------------------------------------------------- eligibility


def test_an_eligible_campaign_fills_with_a_signed_token(container):
    campaign = running(container)
    body = decide(container)
    assert body["filled"] is True and body["source"] == "campaign"
    assert body["campaign_id"] == campaign.pk
    claims = tokens.verify(body["tracking_token"])
    assert (claims.decision_id, claims.container_id, claims.player_id) == (body["decision_id"], container.pk, 1001)
    assert claims.price_micros == budget.to_micros(Decimal(body["price_cpm"]) / 1000)


@pytest.mark.parametrize(
    "targeting,player,fills",
    [
        ({"countries_included": ["US"]}, ADULT, True),
        ({"countries_included": ["GB"]}, ADULT, False),
        ({"countries_excluded": ["US"]}, ADULT, False),
        ({"devices": ["mobile"]}, ADULT, True),
        ({"devices": ["desktop"]}, ADULT, False),
        (
            {"segments": ["rpg"]},
            Player(id=1, country="US", device="mobile", ads_allowed=True, segments=frozenset({"rpg"})),
            True,
        ),
        ({"segments": ["rpg"]}, ADULT, False),
        ({"container_types": ["NPC"]}, ADULT, False),
        ({"container_types": ["DISPLAY"]}, ADULT, True),
    ],
)
def test_targeting_in_and_out(container, targeting, player, fills):
    running(container, targeting=targeting)
    assert decide(container, player)["filled"] is fills


def test_game_targeting(container):
    running(container, targeting={"games_excluded": [container.game_id]})
    assert decide(container)["filled"] is False
    other = AdContainerFactory(floor_price_cpm=Decimal("1"))
    running(other, targeting={"games_included": [other.game_id]})
    assert decide(container)["filled"] is False
    assert decide(other)["filled"] is True


def test_day_and_hour_windows(container):
    now = timezone.now()
    running(container, targeting={"days_of_week": [(now.weekday() + 1) % 7]})
    assert decide(container)["filled"] is False
    running(container, targeting={"hours_utc": [now.hour]})
    assert decide(container)["filled"] is True


def test_schedule_not_started_or_ended(container):
    running(container, start_at=timezone.now() + timedelta(hours=1))
    assert decide(container) == {"filled": False, "reason": "no_eligible_campaign", "decision_id": mock.ANY}


def test_blocked_category(container):
    container.blocked_categories = ["toys"]
    container.save()
    running(container)  # the factory advertiser sells toys
    assert decide(container)["filled"] is False
    running(container, advertiser=AdvertiserFactory(category="food"))
    assert decide(container)["filled"] is True


def test_creative_with_an_asset_blocked_by_roblox_stops_serving(container):
    campaign = running(container)
    assert decide(container)["filled"] is True
    creative = campaign.creatives.get()
    creative.asset = AssetFactory(moderation_state="BLOCKED")
    creative.save()
    engine.reset()
    assert decide(container)["filled"] is False


def test_only_approved_creatives_of_the_container_type_serve(container):
    campaign = CampaignFactory(status="ACTIVE")
    CreativeFactory(campaign=campaign, kind="DISPLAY", moderation_status="PENDING")
    CreativeFactory(campaign=campaign, kind="NPC", moderation_status="APPROVED")
    budget_rebuild(campaign_ids=[campaign.pk])
    assert decide(container)["filled"] is False


def test_unapproved_advertiser_never_serves(container):
    running(container, advertiser=AdvertiserFactory(approval="PENDING"))
    assert decide(container)["filled"] is False


@pytest.mark.parametrize(
    "player",
    [
        Player(id=5, country="US", device="mobile", age_bracket="under13", ads_allowed=True),
        Player(id=5, country="US", device="mobile", age_bracket="13+", ads_allowed=False),
    ],
)
def test_ineligible_players_never_get_a_paid_campaign_but_get_house_content(container, player):
    running(container)
    assert decide(container, player) == {"filled": False, "reason": "player_not_eligible", "decision_id": mock.ANY}
    playlist = PlaylistFactory(game=container.game)
    asset = AssetFactory()
    playlist.items.create(position=1, asset=asset, display_seconds=12)
    container.playlist = playlist
    container.save()
    engine.reset()
    for _ in range(20):
        body = decide(container, player)
        assert body["source"] == "house"
        assert body["creative"]["roblox_asset_id"] == asset.roblox_asset_id
        assert "price_cpm" not in body


@pytest.mark.parametrize("status", ["INACTIVE", "MAINTENANCE"])
def test_inactive_containers_never_fill(container, status):
    running(container)
    container.status = status
    container.save()
    engine.reset()
    assert decide(container)["reason"] == "container_inactive"


# ----------------------------------------------------------------------------- the auction


def _cand(cid, adv, ecpm, pricing="CPM", ctr="0.01"):
    info = CampaignInfo(
        id=cid, advertiser_id=adv, category="toys", pricing=pricing, bid=Decimal(ecpm) if pricing == "CPM" else
        Decimal(ecpm) / (Decimal(ctr) * 1000), ctr=Decimal(ctr), ecpm=Decimal(ecpm), pacing="ASAP", start_ts=0,
        end_ts=1e12, cap_count=0, cap_period=0,
        countries_in=frozenset(), countries_out=frozenset(), devices=frozenset(), segments=frozenset(),
        days=frozenset(), hours=frozenset(), games_in=frozenset(), games_out=frozenset(),
        container_types=frozenset(), creatives={"DISPLAY": (CreativeInfo(cid, "DISPLAY", {}),)},
    )  # fmt: skip
    return Candidate(info, info.creatives["DISPLAY"][0])


def test_second_price_is_runner_up_plus_a_cent():
    import random

    ranked = run_auction([_cand(1, 1, "5"), _cand(2, 2, "3"), _cand(3, 3, "2")], Decimal("1"), random.Random(1))
    assert [c.campaign.id for c in ranked] == [1, 2, 3]
    assert ranked[0].price_cpm == Decimal("3.01")
    assert ranked[0].charge == Decimal("0.003010")
    assert ranked[1].price_cpm == Decimal("2.01")
    assert ranked[2].price_cpm == Decimal("1.01")  # no runner-up: the floor


def test_single_bidder_pays_the_floor_plus_a_cent_and_never_above_its_bid():
    import random

    assert run_auction([_cand(1, 1, "5")], Decimal("2"), random.Random())[0].price_cpm == Decimal("2.01")
    assert run_auction([_cand(1, 1, "2")], Decimal("2"), random.Random())[0].price_cpm == Decimal("2")
    assert run_auction([_cand(1, 1, "1.99")], Decimal("2"), random.Random()) == []  # below the floor


def test_an_advertiser_is_not_its_own_runner_up():
    import random

    ranked = run_auction([_cand(1, 7, "5"), _cand(2, 7, "4.5"), _cand(3, 8, "2")], Decimal("1"), random.Random())
    assert ranked[0].price_cpm == Decimal("2.01")


def test_ties_are_broken_at_random():
    import random

    rng = random.Random(42)
    winners = {run_auction([_cand(1, 1, "3"), _cand(2, 2, "3")], Decimal("1"), rng)[0].campaign.id for _ in range(50)}
    assert winners == {1, 2}
    ranked = run_auction([_cand(1, 1, "3"), _cand(2, 2, "3")], Decimal("1"), rng)
    assert ranked[0].price_cpm == Decimal("3")  # runner-up + 0.01 capped at its own bid


def test_the_shortlist_gives_the_auction_the_same_outcome_as_every_campaign():
    """Many campaigns, few advertisers, some not targeting the player: stopping the scan early changes
    no rank and no price (distinct bids, so the comparison is exact)."""
    import random

    from ads.decisions import MAX_CANDIDATES, shortlist

    player = Player(id=5, country="US", ads_allowed=True)
    for seed in range(200):
        rng = random.Random(seed)
        bids = rng.sample(range(100, 5000), rng.randint(1, 60))
        infos = []
        for cid, cents in enumerate(sorted(bids, reverse=True), start=1):
            info = _cand(cid, rng.randint(1, rng.choice([1, 2, 3, 6])), f"{cents / 100:.2f}").campaign
            if rng.random() < 0.3:
                info = replace(info, countries_in=frozenset({"GB"}))  # not for this player
            infos.append(info)
        floor = Decimal(rng.choice(["0.5", "1", "10", "30"]))
        ordered = tuple(c for c in infos if c.ecpm >= floor)

        def outcome(campaigns, floor=floor):
            cands = [Candidate(c, c.creatives["DISPLAY"][0]) for c in campaigns]
            ranked = run_auction(cands, floor, random.Random(0))[:MAX_CANDIDATES]
            return [(c.campaign.id, c.price_cpm, c.charge) for c in ranked]

        everyone = [c for c in ordered if not c.countries_in]
        short = shortlist(ordered, player, now=1.0, dt=timezone.now())
        assert outcome(short) == outcome(everyone), seed
        assert len(short) <= len(everyone)


def test_cpc_competes_with_its_effective_cpm_and_pays_per_click():
    import random

    ranked = run_auction([_cand(1, 1, "6", pricing="CPC", ctr="0.02"), _cand(2, 2, "4")], Decimal("1"), random.Random())
    assert ranked[0].campaign.id == 1
    assert ranked[0].price_cpm == Decimal("4.01")
    assert ranked[0].charge == Decimal("0.200500")  # 4.01 / (0.02 * 1000) per click


def test_the_engine_charges_the_second_price(container):
    running(container, bid="5")
    running(container, bid="3")
    prices = {decide(container)["price_cpm"] for _ in range(5)}
    assert prices == {"3.010000"}


# ----------------------------------------------------------------------------- caps, pacing, budgets


def test_frequency_cap_per_player(container):
    running(container, frequency_cap_count=3, frequency_cap_period_seconds=3600)
    assert [decide(container)["filled"] for _ in range(4)] == [True, True, True, False]
    assert decide(container, Player(id=2, country="US", device="mobile", ads_allowed=True))["filled"] is True


def test_even_pacing_holds_back_a_campaign_ahead_of_its_pace(container):
    campaign = running(container, pacing="EVEN", daily_budget=Decimal("1"), total_budget=Decimal("100"))
    # Spent the whole day's budget already: far ahead of pace, never picked again today.
    get_redis().set(budget.daily_key(campaign.pk, budget.day_stamp(timezone.now())), budget.to_micros(Decimal("0.99")))
    assert not any(decide(container)["filled"] for _ in range(30))


def test_asap_spends_as_fast_as_it_wins(container):
    campaign = running(container, pacing="ASAP", daily_budget=Decimal("1"), total_budget=Decimal("100"))
    get_redis().set(budget.daily_key(campaign.pk, budget.day_stamp(timezone.now())), budget.to_micros(Decimal("0.5")))
    assert all(decide(container)["filled"] for _ in range(30))


def test_a_candidate_that_cannot_pay_drops_out_for_the_next(container):
    rich = running(container, bid="3", pacing="ASAP")
    poor = running(container, bid="5", total_budget=Decimal("0.004"), pacing="ASAP")  # one impression at 3.01
    first, second = decide(container), decide(container)
    assert first["campaign_id"] == poor.pk
    assert second["campaign_id"] == rich.pk


@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_reserve_exactly_the_budget(container):
    # given: a single bidder paying floor + 0.01 = 1.00 CPM, i.e. 0.001 a decision; budget for exactly 100
    container.floor_price_cpm = Decimal("0.99")
    container.save()
    campaign = running(container, bid="5", total_budget=Decimal("0.100"), daily_budget=Decimal("0.100"),
                       pacing="ASAP")  # fmt: skip
    engine.index()
    results: list[bool] = []
    lock = threading.Lock()

    def worker(n):
        try:
            for i in range(40):
                filled = decide(container, Player(id=n * 1000 + i, country="US", ads_allowed=True))["filled"]
                with lock:
                    results.append(filled)
        finally:
            connection.close()

    # when: 50 threads make 2,000 decisions
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then: exactly 100 reserved, and Redis and PostgreSQL agree
    assert len(results) == 2000
    assert results.count(True) == 100
    assert budget.committed_micros(campaign.pk) == budget.to_micros(Decimal("0.1"))
    drain_decisions()
    reserved = Decision.objects.filter(campaign=campaign, state="RESERVED")
    assert reserved.count() == 100
    assert sum(d.reserved_amount for d in reserved) == campaign.total_budget
    assert Decision.objects.count() == 2000


def test_expired_reservations_are_released(container):
    campaign = running(container, total_budget=Decimal("10"))
    for _ in range(3):
        decide(container)
    drain_decisions()
    Decision.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert budget.committed_micros(campaign.pk) > 0

    assert decisions_release_expired() == 3
    assert decisions_release_expired() == 0  # idempotent

    assert set(Decision.objects.values_list("state", flat=True)) == {"RELEASED"}
    assert LedgerEntry.objects.filter(kind="RELEASE", campaign=campaign).count() == 3
    assert budget.committed_micros(campaign.pk) == 0


def test_after_a_redis_flush_budgets_are_rebuilt_and_never_overspent(container):
    container.floor_price_cpm = Decimal("0.99")
    container.save()
    campaign = running(container, total_budget=Decimal("0.010"), pacing="ASAP")  # 10 decisions
    filled = sum(decide(container, Player(id=i, ads_allowed=True))["filled"] for i in range(6))
    assert filled == 6
    drain_decisions()
    get_redis().flushdb()  # Redis restarts empty

    # The first decision finds no budget state: it waits for the one shared build, counted from
    # PostgreSQL, and fills.
    assert decide(container)["filled"] is True
    more = sum(decide(container, Player(id=100 + i, ads_allowed=True))["filled"] for i in range(10))
    assert more == 3
    drain_decisions()
    total = sum(d.reserved_amount for d in Decision.objects.filter(campaign=campaign, state="RESERVED"))
    assert total == campaign.total_budget


def test_the_hot_path_makes_no_database_query(container, django_assert_num_queries):
    running(container)
    decide(container)  # warm: loads the index
    with django_assert_num_queries(0):
        for i in range(20):
            decide(container, Player(id=i, ads_allowed=True, country="US"))


def test_a_serving_change_is_picked_up(container, django_capture_on_commit_callbacks):
    from ads import services

    campaign = running(container)
    assert decide(container)["filled"] is True
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_pause(campaign=campaign)
    decide(container)  # sees the new version and reloads in the background
    for _ in range(100):
        if engine._index.version and not engine._reloading and decide(container)["filled"] is False:
            break
    assert decide(container)["filled"] is False


def test_redis_down_answers_degraded_and_reserves_nothing(container, settings):
    from adplatform.core.redis import reset_redis_client

    running(container)
    engine.index()
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    reset_redis_client()
    assert decide(container) == {"filled": False, "reason": "degraded"}
