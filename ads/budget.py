"""Budgets in Redis (fast, reserved at decision time) and in PostgreSQL (the truth, charged on confirmation).

Redis keeps, per campaign, in micro-dollars (integers, millionths of a USD):

- ``{ads}:budget:<id>:committed``: reserved + confirmed spend, all time;
- ``{ads}:budget:<id>:day:<YYYYMMDD>``: reserved + confirmed spend of that UTC day;
- ``{ads}:budget:<id>:init``: present once the two above were built from PostgreSQL.

The decision script refuses a campaign whose ``init`` marker is missing (after a
Redis flush or restart) until :func:`budget_rebuild` has rebuilt its state from
the ledger and the open reservations, so a lost Redis never leads to overspend.
Confirmation in PostgreSQL checks the budget again under a row lock: even with
Redis wrong, confirmed spend never exceeds the total or the daily budget.
All keys share the ``{ads}`` hash tag so one Lua script may touch them in a cluster.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from adplatform.redis import get_redis
from ads import metrics
from ads.models import Campaign, Decision, DecisionState, LedgerEntry, LedgerKind

logger = logging.getLogger(__name__)

MICROS = Decimal("1000000")
CHARGE_KINDS = (LedgerKind.IMPRESSION_CHARGE, LedgerKind.CLICK_CHARGE, LedgerKind.ADJUSTMENT)
DAY_KEY_TTL = 3 * 86400


def to_micros(amount: Decimal) -> int:
    return int((amount * MICROS).to_integral_value())


def from_micros(micros: int) -> Decimal:
    return (Decimal(micros) / MICROS).quantize(Decimal("0.000001"))


def day_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d")


def committed_key(campaign_id: int) -> str:
    return f"{{ads}}:budget:{campaign_id}:committed"


def daily_key(campaign_id: int, day: str) -> str:
    return f"{{ads}}:budget:{campaign_id}:day:{day}"


def init_key(campaign_id: int) -> str:
    return f"{{ads}}:budget:{campaign_id}:init"


def frequency_key(campaign_id: int, player_id: int) -> str:
    return f"{{ads}}:fcap:{campaign_id}:{player_id}"


# --------------------------------------------------------------------------- rebuild from PostgreSQL


def _day_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def campaign_spend(campaign_id: int, *, now: datetime | None = None) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """``(confirmed_total, confirmed_today, reserved_total, reserved_today)`` from PostgreSQL."""
    now = now or timezone.now()
    start, end = _day_bounds(now)
    charges = LedgerEntry.objects.filter(campaign_id=campaign_id, kind__in=CHARGE_KINDS)
    confirmed = charges.aggregate(s=Sum("amount"))["s"] or Decimal("0")
    confirmed_today = charges.filter(created_at__gte=start, created_at__lt=end).aggregate(s=Sum("amount"))["s"]
    reserved = Decision.objects.filter(campaign_id=campaign_id, state=DecisionState.RESERVED)
    reserved_total = reserved.aggregate(s=Sum("reserved_amount"))["s"] or Decimal("0")
    reserved_today = reserved.filter(created_at__gte=start, created_at__lt=end).aggregate(s=Sum("reserved_amount"))["s"]
    return confirmed, confirmed_today or Decimal("0"), reserved_total, reserved_today or Decimal("0")


def budget_rebuild(*, campaign_ids: list[int] | None = None, only_missing: bool = True) -> list[int]:
    """Rebuild Redis budget state from the ledger and the open reservations; return the campaigns rebuilt.

    With ``only_missing`` (the default) campaigns whose state is present are left alone, so
    reservations still on their way to PostgreSQL (in the decision stream) are not forgotten.
    """
    from ads.streams import drain_decisions

    client = get_redis()
    ids = campaign_ids
    if ids is None:
        ids = list(Campaign.objects.filter(status__in=["ACTIVE", "PAUSED"]).values_list("id", flat=True))
    if only_missing:
        pipe = client.pipeline(transaction=False)
        for campaign_id in ids:
            pipe.exists(init_key(campaign_id))
        ids = [cid for cid, present in zip(ids, pipe.execute(), strict=True) if not present]
    if not ids:
        return []
    drain_decisions()  # reservations already streamed must be in PostgreSQL before we count them
    now = timezone.now()
    today = day_stamp(now)
    rebuilt = []
    for campaign_id in ids:
        confirmed, confirmed_today, reserved, reserved_today = campaign_spend(campaign_id, now=now)
        pipe = client.pipeline(transaction=True)
        pipe.set(committed_key(campaign_id), to_micros(confirmed + reserved))
        pipe.set(daily_key(campaign_id, today), to_micros(confirmed_today + reserved_today), ex=DAY_KEY_TTL)
        pipe.set(init_key(campaign_id), now.isoformat())
        pipe.execute()
        rebuilt.append(campaign_id)
    metrics.BUDGET_REBUILDS.inc(len(rebuilt))
    logger.info("budget state rebuilt from postgresql", extra={"campaigns": rebuilt})
    return rebuilt


def budget_reconcile() -> dict[int, int]:
    """Raise Redis state that is below PostgreSQL's (never lower it); return the drift found per campaign."""
    client = get_redis()
    drift: dict[int, int] = {}
    now = timezone.now()
    today = day_stamp(now)
    for campaign_id in Campaign.objects.filter(status__in=["ACTIVE", "PAUSED"]).values_list("id", flat=True):
        stored = client.get(committed_key(campaign_id))
        if stored is None or not client.exists(init_key(campaign_id)):
            budget_rebuild(campaign_ids=[campaign_id], only_missing=True)
            continue
        confirmed, confirmed_today, reserved, reserved_today = campaign_spend(campaign_id, now=now)
        truth = to_micros(confirmed + reserved)
        if int(stored) < truth:
            drift[campaign_id] = truth - int(stored)
            client.set(committed_key(campaign_id), truth)
            day_truth = to_micros(confirmed_today + reserved_today)
            day_stored = int(client.get(daily_key(campaign_id, today)) or 0)
            if day_stored < day_truth:
                client.set(daily_key(campaign_id, today), day_truth, ex=DAY_KEY_TTL)
    if drift:
        logger.warning("budget drift corrected", extra={"drift_micros": drift})
    return drift


# --------------------------------------------------------------------------- release and confirm


def decisions_release_expired(*, now: datetime | None = None, batch: int = 500) -> int:
    """Give back reservations not confirmed before they expired (RELEASE ledger rows); return how many."""
    now = now or timezone.now()
    released: list[Decision] = []
    with transaction.atomic():
        expired = list(
            Decision.objects.select_for_update(skip_locked=True)
            .filter(state=DecisionState.RESERVED, expires_at__lt=now)
            .order_by("expires_at")[:batch]
        )
        for decision in expired:
            decision.state = DecisionState.RELEASED
            decision.settled_at = now
        Decision.objects.bulk_update(expired, ["state", "settled_at"])
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    campaign_id=d.campaign_id,
                    kind=LedgerKind.RELEASE,
                    amount=d.reserved_amount,
                    decision_id=d.id,
                    note="reservation expired",
                )
                for d in expired
                if d.campaign_id
            ],
            ignore_conflicts=True,
        )
        released = expired

    # After the commit: give the reservations back in Redis. A crash before this leaves Redis
    # too high (under-spend, never overspend) until budget_reconcile or a rebuild.
    if released:
        pipe = get_redis().pipeline(transaction=False)
        for d in released:
            if d.campaign_id and d.reserved_amount:
                micros = to_micros(d.reserved_amount)
                pipe.decrby(committed_key(d.campaign_id), micros)
                pipe.decrby(daily_key(d.campaign_id, day_stamp(d.created_at)), micros)
        pipe.execute()
        metrics.RESERVATIONS_RELEASED.inc(len(released))
        logger.info("expired reservations released", extra={"count": len(released)})
    return len(released)


class BudgetExhausted(Exception):
    """Confirming this charge would take the campaign over its total or daily budget."""


@dataclass(frozen=True)
class Charge:
    decision_id: uuid.UUID
    campaign_id: int
    amount: Decimal
    kind: str


def charges_apply(charges: list[Charge]) -> dict[uuid.UUID, str]:
    """Charge decisions in bulk: the only way spend grows. Returns ``decision id -> outcome``.

    Outcomes: ``charged``, ``already_charged`` (a replay: the ledger holds one entry per decision
    and kind), ``budget_exhausted``. Per campaign, the row is locked and the total and daily
    budgets are checked here, so confirmed spend never exceeds them whatever Redis says. The
    reservation each decision made is already counted in Redis; only differences move it.
    Must run inside a transaction (the caller's, so charges commit with what caused them).
    """
    outcomes: dict[uuid.UUID, str] = {}
    by_campaign: dict[int, list[Charge]] = {}
    for charge in charges:
        by_campaign.setdefault(charge.campaign_id, []).append(charge)
    redis_moves: list[tuple[int, str, int]] = []
    start, end = _day_bounds(timezone.now())
    # Campaign rows are locked in id order, so two workers billing overlapping campaigns never deadlock.
    for campaign_id, items in sorted(by_campaign.items()):
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        decision_ids = [c.decision_id for c in items]
        done = set(
            LedgerEntry.objects.filter(decision_id__in=decision_ids, kind__in=CHARGE_KINDS).values_list(
                "decision_id", "kind"
            )
        )
        decisions = {
            d.id: d
            for d in Decision.objects.select_for_update()
            .filter(id__in=decision_ids)
            .only("id", "state", "reserved_amount", "created_at")
        }
        today = LedgerEntry.objects.filter(
            campaign_id=campaign_id, kind__in=CHARGE_KINDS, created_at__gte=start, created_at__lt=end
        ).aggregate(s=Sum("amount"))["s"] or Decimal("0")
        spent = campaign.spent
        entries, settled = [], []
        for charge in items:
            if (charge.decision_id, charge.kind) in done or charge.decision_id in outcomes:
                outcomes.setdefault(charge.decision_id, "already_charged")
                continue
            over_daily = campaign.daily_budget is not None and today + charge.amount > campaign.daily_budget
            if spent + charge.amount > campaign.total_budget or over_daily:
                outcomes[charge.decision_id] = "budget_exhausted"
                continue
            spent += charge.amount
            today += charge.amount
            entries.append(LedgerEntry(campaign_id=campaign_id, kind=charge.kind, amount=charge.amount,
                                       decision_id=charge.decision_id))  # fmt: skip
            outcomes[charge.decision_id] = "charged"
            decision = decisions.get(charge.decision_id)
            reserved = 0
            if decision is not None:
                if decision.state == DecisionState.RESERVED:
                    reserved = to_micros(decision.reserved_amount)
                settled.append(decision)
                day = day_stamp(decision.created_at)
            else:
                day = day_stamp(timezone.now())
            if to_micros(charge.amount) != reserved:
                redis_moves.append((campaign_id, day, to_micros(charge.amount) - reserved))
            metrics.SPEND.labels(kind=charge.kind).inc(float(charge.amount))
        if entries:
            LedgerEntry.objects.bulk_create(entries)
            Campaign.objects.filter(pk=campaign_id).update(spent=spent)
            Decision.objects.filter(id__in=[d.id for d in settled]).update(
                state=DecisionState.CONFIRMED, settled_at=timezone.now()
            )

    def move_redis() -> None:
        if redis_moves:
            pipe = get_redis().pipeline(transaction=False)
            for campaign_id, day, micros in redis_moves:
                pipe.incrby(committed_key(campaign_id), micros)
                pipe.incrby(daily_key(campaign_id, day), micros)
            pipe.execute()

    transaction.on_commit(move_redis)
    return outcomes


@transaction.atomic
def decision_charge(*, decision: Decision, amount: Decimal, kind: str) -> LedgerEntry | None:
    """Charge one decision (see :func:`charges_apply`); None when it was already charged.

    Raises :class:`BudgetExhausted` when the charge would go over the total or daily budget.
    """
    outcome = charges_apply([Charge(decision.id, decision.campaign_id, amount, kind)])[decision.id]
    if outcome == "budget_exhausted":
        raise BudgetExhausted(f"campaign {decision.campaign_id}")
    if outcome == "already_charged":
        return None
    return LedgerEntry.objects.get(decision_id=decision.id, kind=kind)
