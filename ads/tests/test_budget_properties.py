"""Property test: the decision script, the budget builds and the moves after commits, interleaved at random.

Hypothesis drives one campaign through every way its budget state can change: decisions that reserve,
drains, builds whose snapshot is taken early and written late (a slow builder), Redis losing the state,
expiries and releases, charges, replays of old moves, and budget raises and cuts. After every step:

- reserved + confirmed never exceeds the budget, in Redis and in PostgreSQL;
- once drained, Redis counts exactly what PostgreSQL holds (no reservation forgotten, none counted twice).
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.test import TestCase
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from adplatform.core.redis import get_redis
from ads import budget, services
from ads.decisions import Player, ad_decide, engine
from ads.models import Campaign, Decision, DecisionState, LedgerKind
from ads.streams import drain_decisions
from ads.tests.factories import CampaignFactory, CreativeFactory
from games.tests.factories import AdContainerFactory

PRICE = Decimal("0.01")  # 10.00 CPM over a 9.99 floor


class BudgetMachine(RuleBasedStateMachine):
    @initialize(budget_cents=st.integers(min_value=1, max_value=12))
    def start(self, budget_cents):
        get_redis().flushdb()
        engine.reset()
        with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
            self.container = AdContainerFactory(floor_price_cpm=Decimal("9.99"))
        self.campaign = CampaignFactory(max_bid=Decimal("20"), pacing="ASAP", total_budget=PRICE * budget_cents)
        CreativeFactory(campaign=self.campaign, kind=self.container.type)
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.campaign_activate(campaign=self.campaign)
        self.player = 0
        self.snapshots: list[list] = []
        self.old_moves: list[tuple[int, str, int, int]] = []

    # -- what happens to a campaign

    @rule(n=st.integers(min_value=1, max_value=6))
    def decide(self, n):
        for _ in range(n):
            self.player += 1
            ad_decide(container_id=self.container.pk, game_id=self.container.game_id,
                      player=Player(id=self.player, ads_allowed=True))  # fmt: skip

    @rule()
    def drain(self):
        drain_decisions()

    @rule()
    def slow_builder_reads(self):
        """A builder takes its snapshot now (with a lock token it will have lost by the time it writes)."""
        now = timezone.now()
        spend = budget.campaign_spend(self.campaign.pk, now=now)
        total, daily = budget.limits_micros(Campaign.objects.get(pk=self.campaign.pk))
        self.snapshots.append([budget.to_micros(spend.committed), budget.to_micros(spend.committed_today), total,
                               daily, 0, spend.high_water, now.isoformat(), "0", uuid.uuid4().hex])  # fmt: skip

    @rule(data=st.data())
    def slow_builder_writes(self, data):
        if not self.snapshots:
            return
        args = self.snapshots.pop(data.draw(st.integers(0, len(self.snapshots) - 1)))
        cid = self.campaign.pk
        keys = [budget.state_key(cid), budget.daily_key(cid, budget.day_stamp(timezone.now())), f"{{c:{cid}}}:rebuild"]
        assert budget._prepare(keys, args) == -1  # it lost its lock: nothing written

    @rule()
    def redis_loses_the_state(self):
        drain_decisions()  # the worker drained; then Redis restarts empty
        get_redis().flushdb()

    @rule()
    def rebuild(self):
        budget.budget_rebuild(campaign_ids=[self.campaign.pk])

    @rule(k=st.integers(min_value=1, max_value=3))
    def expire_and_release(self, k):
        drain_decisions()
        ids = list(
            Decision.objects.filter(campaign=self.campaign, state=DecisionState.RESERVED).values_list("id", flat=True)[
                :k
            ]
        )
        Decision.objects.filter(id__in=ids).update(expires_at=timezone.now() - timedelta(seconds=1))
        budget.decisions_release_expired()

    @rule(k=st.integers(min_value=1, max_value=3))
    def charge(self, k):
        drain_decisions()
        reserved = list(Decision.objects.filter(campaign=self.campaign, state=DecisionState.RESERVED)[:k])
        with transaction.atomic():
            budget.charges_apply([budget.Charge(d.id, self.campaign.pk, d.reserved_amount, LedgerKind.IMPRESSION_CHARGE)
                                  for d in reserved])  # fmt: skip

    @rule()
    def a_counted_move_arrives_late(self):
        """The move of a ledger entry the last build already counted arrives after it: fenced out by its id."""
        hw = int(get_redis().hget(budget.state_key(self.campaign.pk), "hw") or 0)
        entry = self.campaign.ledger_entries.filter(id__lte=hw).order_by("-id").first()
        if entry is not None:
            before = budget.committed_micros(self.campaign.pk)
            budget._apply_moves([(self.campaign.pk, entry.spend_day.strftime("%Y%m%d"), -budget.to_micros(entry.amount),
                                  entry.pk)])  # fmt: skip
            assert budget.committed_micros(self.campaign.pk) == before

    @rule(cents=st.integers(min_value=-3, max_value=3))
    def change_budget(self, cents):
        campaign = Campaign.objects.get(pk=self.campaign.pk)
        new_total = max(PRICE, campaign.total_budget + PRICE * cents)
        # a cut below what is committed is refused; what commits runs its after-commit work, as in production
        with contextlib.suppress(services.ValidationError), TestCase.captureOnCommitCallbacks(execute=True):
            services.campaign_update(campaign=campaign, data={"total_budget": str(new_total)})

    # -- what must always hold

    @invariant()
    def never_beyond_the_budget(self):
        campaign = Campaign.objects.get(pk=self.campaign.pk)
        state = budget.budget_state(campaign.pk)
        if state is not None:
            assert state["spent"] <= budget.to_micros(campaign.total_budget)
            assert state["total"] == budget.to_micros(campaign.total_budget)
        held = Decision.objects.filter(campaign=campaign, state__in=[DecisionState.RESERVED, DecisionState.CONFIRMED])
        assert sum((d.reserved_amount for d in held), Decimal("0")) <= campaign.total_budget
        assert campaign.spent <= campaign.total_budget

    @invariant()
    def redis_counts_what_postgres_holds(self):
        state = budget.budget_state(self.campaign.pk)
        if state is None or get_redis().xlen("{ads}:decisions"):
            return  # not built yet, or decisions still on their way to PostgreSQL
        held = Decision.objects.filter(
            campaign_id=self.campaign.pk, state__in=[DecisionState.RESERVED, DecisionState.CONFIRMED]
        )
        assert state["spent"] == budget.to_micros(sum((d.reserved_amount for d in held), Decimal("0")))


@pytest.mark.django_db
def test_budget_state_survives_any_interleaving():
    run_state_machine_as_test(
        BudgetMachine,
        settings=settings(
            max_examples=25, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
