"""Budgets in Redis (fast, reserved at decision time) and in PostgreSQL (the truth, charged on confirmation).

The invariant (DESIGN.md): reserved + confirmed spend never exceeds a campaign's total budget, nor its daily
budget for the UTC day the reservation was made, in Redis and in PostgreSQL, whatever the concurrency.

Redis keeps, per campaign, in micro-dollars (integers, millionths of a USD), under the campaign's own hash
tag so that one campaign's keys share a Redis Cluster slot and campaigns spread over the shards:

- ``{c:<id>}:budget``, a hash:
  ``total`` and ``daily`` (-1: none) the limits, with ``lv`` the version of the campaign row they come from;
  ``spent`` reserved + confirmed spend, all time; ``ready`` present once ``spent`` was built from
  PostgreSQL; ``hw`` the highest ledger entry id that build counted.
- ``{c:<id>}:day:<YYYYMMDD>``: reserved + confirmed spend of reservations made that UTC day.
- ``{c:<id>}:fcap:<player>``: the frequency-cap counter of one player.

Design notes, each rule written once here:

- **Limits live in Redis**, written by :func:`budget_limits_set` through the campaign services. The decision
  script reads them there, so a budget change takes effect in every process at once, not when each
  process's index reloads. A *decrease* is checked and written atomically against ``spent`` before the
  change commits (:class:`BudgetBelowCommitted` refuses one below what is already committed); an increase is
  written after the commit. Writes carry the row's version, so a late writer never restores older limits.
- **No reservation without state.** The decision script refuses a campaign whose ``ready`` is missing (new,
  or Redis lost its data) and the engine waits for :func:`budget_ensure`, which builds it once for all
  processes: a Redis lock elects one builder, the others poll for ``ready``.
- **A build never lowers a counter below reservations it did not count.** It runs under the campaign's row
  lock (the lock every ledger writer takes), after draining the decision stream, and writes through a script
  that sets ``spent`` *only if ``ready`` is still missing*: while it is missing no decision can reserve, so
  nothing can have been reserved since the snapshot. Concurrent builds are therefore harmless.
- **Moves after a commit are fenced by ledger ids.** A charge or release moves the counters after its
  transaction commits, by a script that applies it only when ``ready`` is present and the move's ledger entry
  id is above ``hw``: a move the build already counted is never applied twice, one it did not count is.
- **Days are reservation days.** A charge counts against the daily budget of the UTC day its reservation was
  made (``LedgerEntry.spend_day``), in Redis and in PostgreSQL alike, so the day boundary never lets a
  campaign spend a day's budget twice.

What remains outside the invariant, by nature: if Redis loses its data, decisions still in the decision
stream (at most about one drain interval, 1 s) are lost with it. Their tracking tokens still bill through
:func:`charges_apply`, which checks the budget in PostgreSQL, so billing never exceeds a budget; an impression
of such a decision that finds the budget full is counted as budget_exhausted (free). Run Redis with AOF
(``appendfsync everysec``) in production to make that window as small as Redis allows.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import redis
from django.db import transaction
from django.db.models import Max, Q, Sum
from django.dispatch import Signal
from django.utils import timezone

from adplatform.core.redis import LuaScript, get_redis
from ads import metrics
from ads.models import Campaign, CampaignStatus, Decision, DecisionState, LedgerEntry, LedgerKind

logger = logging.getLogger(__name__)

MICROS = Decimal("1000000")
CHARGE_KINDS = (LedgerKind.IMPRESSION_CHARGE, LedgerKind.CLICK_CHARGE, LedgerKind.ADJUSTMENT)
DAY_KEY_TTL = 3 * 86400
REBUILD_LOCK_MS = 10_000  # a builder that dies frees the others after this long
CENT = Decimal("0.01")

# Sent once charges commit that left a campaign less than a cent of its total budget or of a day's budget,
# with ``campaign_id`` (the advertiser is told: ads.apps connects the notification).
budget_spent_out = Signal()


def to_micros(amount: Decimal) -> int:
    return int((amount * MICROS).to_integral_value())


def from_micros(micros: int) -> Decimal:
    return (Decimal(micros) / MICROS).quantize(Decimal("0.000001"))


def day_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d")


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _tag(campaign_id: int) -> str:
    return f"{{c:{campaign_id}}}"


def state_key(campaign_id: int) -> str:
    return f"{_tag(campaign_id)}:budget"


def daily_key_prefix(campaign_id: int) -> str:
    """``daily_key`` without its day (the decision engine keeps it per campaign and appends the day)."""
    return f"{_tag(campaign_id)}:day:"


def daily_key(campaign_id: int, day: str) -> str:
    return daily_key_prefix(campaign_id) + day


def frequency_key_prefix(campaign_id: int) -> str:
    """``frequency_key`` without its player (kept per campaign by the decision engine)."""
    return f"{_tag(campaign_id)}:fcap:"


def frequency_key(campaign_id: int, player_id: int) -> str:
    return frequency_key_prefix(campaign_id) + str(player_id)


def _rebuild_lock_key(campaign_id: int) -> str:
    return f"{_tag(campaign_id)}:rebuild"


def limits_version(campaign: Campaign) -> int:
    """The version of a campaign's limits: its row's ``updated_at`` in microseconds."""
    return int(campaign.updated_at.timestamp() * 1_000_000)


def limits_micros(campaign: Campaign) -> tuple[int, int]:
    daily = to_micros(campaign.daily_budget) if campaign.daily_budget is not None else -1
    return to_micros(campaign.total_budget), daily


# --------------------------------------------------------------------------- scripts (one slot each)

# KEYS: 1 budget hash, 2 today's day key, 3 the build lock. ARGV: 1 spent, 2 spent today, 3 total, 4 daily,
# 5 limits version, 6 hw, 7 stamp, 8 force ('1': a build requested by an operator on a quiet campaign),
# 9 the builder's lock token: a builder that lost its lock (it stalled past the lock's life) writes nothing.
_prepare = LuaScript("""
if redis.call('GET', KEYS[3]) ~= ARGV[9] then return -1 end
if ARGV[8] ~= '1' and redis.call('HEXISTS', KEYS[1], 'ready') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'spent', ARGV[1], 'hw', ARGV[6], 'ready', ARGV[7])
local lv = tonumber(redis.call('HGET', KEYS[1], 'lv') or '-1')
if tonumber(ARGV[5]) >= lv then
  redis.call('HSET', KEYS[1], 'total', ARGV[3], 'daily', ARGV[4], 'lv', ARGV[5])
end
redis.call('SET', KEYS[2], ARGV[2], 'EX', 259200)
return 1
""")

_unlock = LuaScript("""
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
""")

# KEYS: 1 budget hash, 2 today's day key. ARGV: 1 total, 2 daily, 3 limits version, 4 check ('1': refuse
# limits below what is committed). Returns {1, spent, today} when written, {0, spent, today} when refused,
# {-1} when the version is older than the one stored, {-2} when a check finds no state to check against.
_limits = LuaScript("""
local lv = tonumber(redis.call('HGET', KEYS[1], 'lv') or '-1')
if tonumber(ARGV[3]) < lv then return {-1, 0, 0} end
if ARGV[4] == '1' and not redis.call('HGET', KEYS[1], 'ready') then return {-2, 0, 0} end
local spent = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
local today = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[4] == '1' then
  local daily = tonumber(ARGV[2])
  if spent > tonumber(ARGV[1]) or (daily >= 0 and today > daily) then return {0, spent, today} end
end
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'daily', ARGV[2], 'lv', ARGV[3])
return {1, spent, today}
""")

# KEYS: 1 budget hash, 2 the reservation's day key. ARGV: 1 delta (micros), 2 the ledger entry id.
_move = LuaScript("""
local state = redis.call('HMGET', KEYS[1], 'ready', 'hw')
if not state[1] then return 0 end
if tonumber(ARGV[2]) <= tonumber(state[2] or '0') then return 0 end
redis.call('HINCRBY', KEYS[1], 'spent', ARGV[1])
redis.call('INCRBY', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], 259200)
return 1
""")


def budget_state(campaign_id: int, *, now: datetime | None = None) -> dict[str, int] | None:
    """The Redis state of one campaign (micros), or None when it is not built."""
    client = get_redis()
    values = client.hmget(state_key(campaign_id), "ready", "spent", "total", "daily")
    if values[0] is None:
        return None
    today = client.get(daily_key(campaign_id, day_stamp(now or timezone.now())))
    return {
        "spent": int(values[1] or 0),
        "total": int(values[2] or 0),
        "daily": int(values[3] if values[3] is not None else -1),
        "today": int(today or 0),
    }


def committed_micros(campaign_id: int) -> int:
    """Reserved + confirmed spend Redis counts for a campaign (0 when its state is not built)."""
    return int(get_redis().hget(state_key(campaign_id), "spent") or 0)


# --------------------------------------------------------------------------- limits


class BudgetBelowCommitted(Exception):
    """A budget lower than what the campaign already spent or reserved (total, or today for the daily)."""

    def __init__(self, *, field: str, committed: Decimal):
        super().__init__(f"{field} below committed {committed}")
        self.field = field
        self.committed = committed


def budget_limits_set(*, campaign: Campaign, check: bool = False, now: datetime | None = None) -> bool:
    """Write a campaign's limits to Redis (the versioned write every budget change goes through).

    With ``check``, refuse (:class:`BudgetBelowCommitted`) limits below what Redis already counts as
    committed: the atomic guard a decrease takes before it commits. Returns whether Redis was reachable.
    """
    total, daily = limits_micros(campaign)
    keys = [state_key(campaign.pk), daily_key(campaign.pk, day_stamp(now or timezone.now()))]
    try:
        written, spent, today = _limits(keys, [total, daily, limits_version(campaign), "1" if check else "0"])
        if written == -2:
            # No state in Redis (a cold start, a flush): Redis's 0 would let any cut through, whatever PostgreSQL
            # holds. Judge the cut by what is committed, counted without Redis's state (see there), then write.
            spent, today = _committed_without_state(campaign.pk, now=now)
            written = 0 if spent > total or (daily >= 0 and today > daily) else 1
            if written:
                _limits(keys, [total, daily, limits_version(campaign), "0"])
    except redis.RedisError:
        if check:
            raise
        logger.warning("budget limits not written: redis unavailable", extra={"campaign_id": campaign.pk})
        return False
    if written == 0:
        if spent > total:
            raise BudgetBelowCommitted(field="total_budget", committed=from_micros(spent))
        raise BudgetBelowCommitted(field="daily_budget", committed=from_micros(today))
    return True


def _committed_without_state(campaign_id: int, *, now: datetime | None) -> tuple[int, int]:
    """Reserved + confirmed micros of a campaign whose Redis state is missing: ``(total, today)``.

    Called with the campaign's row locked (the budget change's transaction), so no build can write state
    meanwhile, and no decision reserves for it (they find its state missing). The reservations still in the
    decision stream are read first, then PostgreSQL: one drained in between is counted twice (a cut is then
    refused that could have passed: the safe side), never not at all. Stream entries all count for today too.
    """
    from ads.streams import DECISION_STREAM

    client = get_redis()
    wanted, streamed, start = str(campaign_id).encode(), 0, "-"
    while True:
        entries = client.xrange(DECISION_STREAM, min=start, max="+", count=5000) or []
        for _, fields in entries:
            if fields and fields.get(b"k") == wanted:
                streamed += int(fields.get(b"v") or 0)
        if len(entries) < 5000:
            break
        last = entries[-1][0]
        start = "(" + (last.decode() if isinstance(last, bytes) else str(last))
    spend = campaign_spend(campaign_id, now=now)
    return to_micros(spend.committed) + streamed, to_micros(spend.committed_today) + streamed


def budget_limits_change(*, campaign: Campaign, previous: tuple[Decimal, Decimal | None]) -> None:
    """Take a campaign's new limits into Redis, from inside the transaction that saves them.

    A tighter limit (lower total or daily, or a daily where there was none) is written now, checked
    against committed spend, so no reservation can slip in between: a refusal raises
    :class:`BudgetBelowCommitted` and the caller's transaction rolls back. A looser one is written once
    the change commits, so Redis never allows more than PostgreSQL holds.
    """
    old_total, old_daily = previous
    tighter = campaign.total_budget < old_total or (
        campaign.daily_budget is not None and (old_daily is None or campaign.daily_budget < old_daily)
    )
    if tighter:
        budget_limits_set(campaign=campaign, check=True)
    campaign_id = campaign.pk
    transaction.on_commit(lambda: _limits_after_commit(campaign_id))


def _limits_after_commit(campaign_id: int) -> None:
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is not None:
        budget_limits_set(campaign=campaign)


# --------------------------------------------------------------------------- building state from PostgreSQL


def _day_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


@dataclass(frozen=True)
class Spend:
    confirmed: Decimal
    confirmed_today: Decimal
    reserved: Decimal
    reserved_today: Decimal
    high_water: int  # the highest ledger entry id counted

    @property
    def committed(self) -> Decimal:
        return self.confirmed + self.reserved

    @property
    def committed_today(self) -> Decimal:
        return self.confirmed_today + self.reserved_today


def campaign_spend(campaign_id: int, *, now: datetime | None = None) -> Spend:
    """What PostgreSQL holds of one campaign's spend: two queries (ledger, open reservations)."""
    now = now or timezone.now()
    start, end = _day_bounds(now)
    today = utc_day(now)
    charge = Q(kind__in=CHARGE_KINDS)
    ledger = LedgerEntry.objects.filter(campaign_id=campaign_id).aggregate(
        confirmed=Sum("amount", filter=charge),
        confirmed_today=Sum("amount", filter=charge & Q(spend_day=today)),
        high_water=Max("id"),
    )
    reserved = Decision.objects.filter(campaign_id=campaign_id, state=DecisionState.RESERVED).aggregate(
        total=Sum("reserved_amount"),
        today=Sum("reserved_amount", filter=Q(created_at__gte=start, created_at__lt=end)),
    )
    zero = Decimal("0")
    return Spend(
        confirmed=ledger["confirmed"] or zero,
        confirmed_today=ledger["confirmed_today"] or zero,
        reserved=reserved["total"] or zero,
        reserved_today=reserved["today"] or zero,
        high_water=ledger["high_water"] or 0,
    )


def _build(campaign_id: int, *, now: datetime, force: bool, token: str) -> bool:
    """Build one campaign's Redis state under its row lock; False when it was already there."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None:
            return False
        spend = campaign_spend(campaign_id, now=now)
        total, daily = limits_micros(campaign)
        keys = [state_key(campaign_id), daily_key(campaign_id, day_stamp(now)), _rebuild_lock_key(campaign_id)]
        args = [to_micros(spend.committed), to_micros(spend.committed_today), total, daily,
                limits_version(campaign), spend.high_water, now.isoformat(), "1" if force else "0", token]  # fmt: skip
        # Written while the row lock is held: no ledger writer of this campaign can commit in between.
        written = _prepare(keys, args)
    if written == -1:
        logger.warning(
            "budget build outlived its lock; another builder's state stands", extra={"campaign_id": campaign_id}
        )
    return written == 1


def _missing(client: redis.Redis, campaign_ids: list[int]) -> list[int]:
    pipe = client.pipeline(transaction=False)
    for campaign_id in campaign_ids:
        pipe.hexists(state_key(campaign_id), "ready")
    return [cid for cid, present in zip(campaign_ids, pipe.execute(), strict=True) if not present]


def budget_rebuild(
    *, campaign_ids: list[int] | None = None, only_missing: bool = True, now: datetime | None = None
) -> list[int]:
    """Build Redis budget state from the ledger and the open reservations; return the campaigns built.

    One builder per campaign at a time across every process (a short Redis lock whose token the write checks);
    campaigns another builder holds are left to it. With ``only_missing`` (the default) campaigns whose state
    is present are left alone, and a build that loses the race to another is a no-op: see the module's notes.
    ``only_missing=False`` rebuilds present state too (an operator's tool after restoring Redis from a backup,
    with the campaigns quiet).
    """
    from ads.streams import drain_decisions

    client = get_redis()
    ids = campaign_ids
    if ids is None:
        statuses = [CampaignStatus.ACTIVE, CampaignStatus.PAUSED]
        ids = list(Campaign.objects.filter(status__in=statuses).values_list("id", flat=True))
    if only_missing:
        ids = _missing(client, ids)
    if not ids:
        return []
    token = uuid.uuid4().hex
    mine = [cid for cid in ids if client.set(_rebuild_lock_key(cid), token, nx=True, px=REBUILD_LOCK_MS)]
    built: list[int] = []
    try:
        if mine:
            drain_decisions()  # reservations already streamed must be in PostgreSQL before they are counted
        now = now or timezone.now()
        built = [cid for cid in mine if _build(cid, now=now, force=not only_missing, token=token)]
    finally:
        for cid in mine:
            _unlock([_rebuild_lock_key(cid)], [token])
    if built:
        metrics.BUDGET_REBUILDS.inc(len(built))
        logger.info("budget state built from postgresql", extra={"campaigns": built})
    return built


def budget_ensure(*, campaign_ids: list[int], wait: float = 1.0, now: datetime | None = None) -> list[int]:
    """Make sure these campaigns have budget state, waiting at most ``wait`` seconds; return those still missing.

    The decision path calls this when its script finds state missing: one caller per campaign, across every
    process, builds it (:func:`budget_rebuild`'s lock); the others wait for it instead of each starting a
    build of their own.
    """
    client = get_redis()
    missing = _missing(client, campaign_ids)
    deadline = time.monotonic() + wait
    while missing:
        budget_rebuild(campaign_ids=missing, now=now)
        missing = _missing(client, missing)
        if not missing or time.monotonic() >= deadline:
            break
        time.sleep(0.01)
    return missing


def budget_prepare(*, campaign: Campaign) -> None:
    """Ready a campaign to serve (called by the services that activate it): limits and state in Redis."""
    try:
        budget_limits_set(campaign=campaign)
        budget_ensure(campaign_ids=[campaign.pk], wait=2.0)
    except redis.RedisError:
        # The first decision builds it instead (budget_ensure), and the reconcile job retries.
        logger.warning("budget state not prepared: redis unavailable", extra={"campaign_id": campaign.pk})


def budget_reconcile(*, now: datetime | None = None) -> dict[int, int]:
    """Build missing state, re-write limits, and raise ``spent`` that is below PostgreSQL's (never lower it).

    Returns the drift found per campaign (micros). Raising is always safe: it can only make a campaign
    stop sooner, and a reservation released meanwhile brings it back down.
    """
    client = get_redis()
    drift: dict[int, int] = {}
    now = now or timezone.now()
    statuses = [CampaignStatus.ACTIVE, CampaignStatus.PAUSED]
    for campaign in Campaign.objects.filter(status__in=statuses):
        budget_limits_set(campaign=campaign, now=now)
        state = budget_state(campaign.pk, now=now)
        if state is None:
            budget_ensure(campaign_ids=[campaign.pk], wait=0, now=now)
            continue
        spend = campaign_spend(campaign.pk, now=now)
        truth = to_micros(spend.committed)
        if state["spent"] < truth:
            drift[campaign.pk] = truth - state["spent"]
            client.hincrby(state_key(campaign.pk), "spent", truth - state["spent"])
        day_truth = to_micros(spend.committed_today)
        if state["today"] < day_truth:
            client.incrby(daily_key(campaign.pk, day_stamp(now)), day_truth - state["today"])
    if drift:
        logger.warning("budget drift corrected", extra={"drift_micros": drift})
    return drift


def _apply_moves(moves: list[tuple[int, str, int, int]]) -> None:
    """Move Redis counters after a commit: ``(campaign id, day stamp, delta micros, ledger entry id)``."""
    try:
        for campaign_id, day, micros, entry_id in moves:
            if micros:
                _move([state_key(campaign_id), daily_key(campaign_id, day)], [micros, entry_id])
    except redis.RedisError:
        # Committed in PostgreSQL already: Redis stays off by these moves until the next build of the
        # campaign's state (a raise by budget_reconcile, or a lost Redis). Never above the truth for a
        # charge; a missed release leaves the campaign under-delivering, never overspending.
        logger.warning("budget moves not applied: redis unavailable", extra={"moves": len(moves)})


# --------------------------------------------------------------------------- release and confirm


def decisions_release_expired(*, now: datetime | None = None, batch: int = 500) -> int:
    """Give back reservations not confirmed before they expired (RELEASE ledger rows); return how many."""
    now = now or timezone.now()
    with transaction.atomic():
        expired = list(
            Decision.objects.select_for_update(skip_locked=True)
            .filter(state=DecisionState.RESERVED, expires_at__lt=now)
            .order_by("expires_at")[:batch]
        )
        campaign_ids = sorted({d.campaign_id for d in expired if d.campaign_id})
        # The campaign rows are the lock every ledger writer takes (in id order, like charges_apply), so a
        # budget build never sees a release half done.
        list(Campaign.objects.select_for_update().filter(pk__in=campaign_ids).order_by("pk").values_list("pk"))
        for decision in expired:
            decision.state = DecisionState.RELEASED
            decision.settled_at = now
        Decision.objects.bulk_update(expired, ["state", "settled_at"])
        entries = LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    campaign_id=d.campaign_id,
                    kind=LedgerKind.RELEASE,
                    amount=d.reserved_amount,
                    decision_id=d.id,
                    spend_day=utc_day(d.created_at),
                    note="reservation expired",
                )
                for d in expired
                if d.campaign_id
            ]
        )
    by_decision = {e.decision_id: e for e in entries}
    moves = [
        (d.campaign_id, day_stamp(d.created_at), -to_micros(d.reserved_amount), by_decision[d.id].pk)
        for d in expired
        if d.campaign_id and d.reserved_amount
    ]
    # After the commit: give the reservations back in Redis. A crash before this leaves Redis too high
    # (under-spend, never overspend) until budget_reconcile or a rebuild.
    if expired:
        _apply_moves(moves)
        metrics.RESERVATIONS_RELEASED.inc(len(expired))
        logger.info("expired reservations released", extra={"count": len(expired)})
    return len(expired)


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
    budgets are checked here, so confirmed spend never exceeds them whatever Redis says; the daily one
    is that of the day the reservation was made. The reservation each decision made is already counted
    in Redis; only differences move it. Must run inside a transaction (the caller's, so charges commit
    with what caused them).
    """
    outcomes: dict[uuid.UUID, str] = {}
    by_campaign: dict[int, list[Charge]] = {}
    for charge in charges:
        by_campaign.setdefault(charge.campaign_id, []).append(charge)
    moves: list[tuple[int, str, int, LedgerEntry]] = []
    spent_out: list[int] = []
    today = utc_day(timezone.now())
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
        days = {utc_day(d.created_at) for d in decisions.values()} | {today}
        by_day = dict(
            LedgerEntry.objects.filter(campaign_id=campaign_id, kind__in=CHARGE_KINDS, spend_day__in=days)
            .values_list("spend_day")
            .annotate(s=Sum("amount"))
        )
        spent = campaign.spent
        entries, settled = [], []
        for charge in items:
            if (charge.decision_id, charge.kind) in done or charge.decision_id in outcomes:
                outcomes.setdefault(charge.decision_id, "already_charged")
                continue
            decision = decisions.get(charge.decision_id)
            day = utc_day(decision.created_at) if decision is not None else today
            day_spent = by_day.get(day, Decimal("0"))
            over_daily = campaign.daily_budget is not None and day_spent + charge.amount > campaign.daily_budget
            if spent + charge.amount > campaign.total_budget or over_daily:
                outcomes[charge.decision_id] = "budget_exhausted"
                continue
            spent += charge.amount
            by_day[day] = day_spent + charge.amount
            entry = LedgerEntry(campaign_id=campaign_id, kind=charge.kind, amount=charge.amount,
                                decision_id=charge.decision_id, spend_day=day)  # fmt: skip
            entries.append(entry)
            outcomes[charge.decision_id] = "charged"
            reserved = 0
            if decision is not None:
                if decision.state == DecisionState.RESERVED:
                    reserved = to_micros(decision.reserved_amount)
                settled.append(decision)
            if to_micros(charge.amount) != reserved:
                moves.append((campaign_id, day.strftime("%Y%m%d"), to_micros(charge.amount) - reserved, entry))
            metrics.SPEND.labels(kind=charge.kind).inc(float(charge.amount))
        if entries:
            daily = campaign.daily_budget
            if campaign.total_budget - spent < CENT or (
                daily is not None and any(by_day[e.spend_day] > daily - CENT for e in entries)
            ):
                spent_out.append(campaign_id)
            LedgerEntry.objects.bulk_create(entries)  # PostgreSQL returns the ids the moves are fenced by
            Campaign.objects.filter(pk=campaign_id).update(spent=spent)
            Decision.objects.filter(id__in=[d.id for d in settled]).update(
                state=DecisionState.CONFIRMED, settled_at=timezone.now()
            )

    if moves:
        ready = [(campaign_id, day, micros, entry.pk) for campaign_id, day, micros, entry in moves]
        transaction.on_commit(lambda: _apply_moves(ready))
    for campaign_id in spent_out:
        transaction.on_commit(functools.partial(_tell_spent_out, campaign_id))
    return outcomes


def _tell_spent_out(campaign_id: int) -> None:
    for receiver, result in budget_spent_out.send_robust(sender=Campaign, campaign_id=campaign_id):
        if isinstance(result, Exception):
            logger.warning(
                "a budget-spent listener failed", extra={"campaign_id": campaign_id, "listener": repr(receiver)}
            )


@transaction.atomic
def decision_charge(*, decision: Decision, amount: Decimal, kind: str) -> LedgerEntry | None:
    """Charge one decision (see :func:`charges_apply`); None when it was already charged.

    Raises :class:`BudgetExhausted` when the charge would go over the total or daily budget.
    """
    if decision.campaign_id is None:
        raise ValueError(f"decision {decision.id} is unfilled: there is no campaign to charge")
    outcome = charges_apply([Charge(decision.id, decision.campaign_id, amount, kind)])[decision.id]
    if outcome == "budget_exhausted":
        raise BudgetExhausted(f"campaign {decision.campaign_id}")
    if outcome == "already_charged":
        return None
    return LedgerEntry.objects.get(decision_id=decision.id, kind=kind)
