"""Engagement events: checked in the request, deduplicated and streamed through Redis, then
stored, filtered for invalid traffic and billed by a worker.

Request (``event_batch_ingest``): every event is checked on its own (a signed tracking token
for this game and decision, type-specific fields, not older than 24 h nor in the future);
one Lua script marks the new ``event_id``s as seen (duplicates are acknowledged, counted
once), counts the event rate per player and server, and appends the new events to the
``{ev}:events`` stream. Nothing touches PostgreSQL.

Worker (``events_drain``): reads the stream through a consumer group, and in one
transaction inserts the new rows (``event_id`` unique), applies the viewability standard
and the invalid-traffic rules, and charges the ledger; only after the commit it
acknowledges the stream entries. A crash before the acknowledgement repeats the batch,
which the unique ``event_id`` absorbs: nothing accepted is lost or counted twice. (Redis
must persist its streams for "accepted" to survive a Redis restart: the embedded Redis keeps
an append-only file fsynced every second; see the README for production settings.)
"""

from __future__ import annotations

import json
import logging
import operator
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from adplatform.core.api.contract import validation_message
from adplatform.core.db import copy_insert, select_any, uuid_array
from adplatform.core.ratelimit import FixedWindow
from adplatform.core.redis import LuaScript, get_redis
from ads import budget, metrics, tokens
from ads.event_body import MAX_EVENTS, Event, Viewability
from ads.models import AdEngagement, Decision, DecisionState, EngagementType, LedgerKind
from ads.streams import GROUP, StreamReader, consumer_lease, ensure_group

logger = logging.getLogger(__name__)

EVENT_STREAM = "{ev}:events"
MAX_BATCH = MAX_EVENTS
MAX_METADATA_BYTES = 2000
MAX_AGE = timedelta(hours=24)
MAX_FUTURE_SKEW = timedelta(minutes=5)
SEEN_TTL = 48 * 3600

# The in-game viewability standard (Roblox immersive ads, IAB/MRC intrinsic in-game).
VIEWABLE_MIN_MS = 1000
VIEWABLE_MIN_COVERAGE = 0.015
VIEWABLE_MIN_VISIBLE = 0.5
VIEWABLE_MAX_ANGLE = 55.0

# Invalid traffic thresholds.
HUMAN_CLICK_MS = 250  # a click this soon after the impression or the previous click is not a person's


class EventRejected(Exception):
    def __init__(self, code: str, message: str, kind: str = ""):
        super().__init__(message)
        self.kind = kind  # the event's type once its shape was valid (a metric label)
        self.code = code
        self.message = message


def is_viewable(v: dict[str, Any] | None) -> bool:
    if not v:
        return False
    return (
        v.get("duration_ms", 0) >= VIEWABLE_MIN_MS
        and v.get("screen_coverage", 0) >= VIEWABLE_MIN_COVERAGE
        and v.get("visible_fraction", 0) >= VIEWABLE_MIN_VISIBLE
        and v.get("angle_deg", 180) <= VIEWABLE_MAX_ANGLE
    )


def _uuid(text: str) -> str:
    return str(uuid.UUID(text))  # the declaration's pattern admits Roblox's GenerateGUID() braces; this drops them


_IMPRESSION = EngagementType.IMPRESSION.value
_CLICK = EngagementType.CLICK.value
_TYPES = frozenset(EngagementType.values)  # read once: ``Choices.values`` builds a new list on every access
_event_decoder = msgspec.json.Decoder(Event)
_record_encode = msgspec.json.Encoder().encode  # stream records: JSON, written and read by msgspec (about
_record_decode = msgspec.json.Decoder().decode  # three times the json module's speed on these small dicts)


def _event(raw: Any) -> Event:
    """``raw`` (a ``msgspec.Raw`` of the request body, or already parsed JSON) checked by its declaration."""
    try:
        if isinstance(raw, msgspec.Raw | bytes):
            return _event_decoder.decode(raw)
        return msgspec.convert(raw, Event)
    except msgspec.ValidationError as exc:
        raise EventRejected("validation_error", validation_message(exc)) from None
    except msgspec.DecodeError:  # a Raw is always valid JSON; kept for bytes given directly
        raise EventRejected("validation_error", "The event is not valid JSON.") from None


def _validate(raw: Any, *, game_id: int, now: datetime) -> dict[str, Any]:
    event = _event(raw)
    try:
        return _checked(event, game_id=game_id, now=now)
    except EventRejected as exc:
        exc.kind = event.type
        raise


def _checked(event: Event, *, game_id: int, now: datetime) -> dict[str, Any]:
    decision_id = _uuid(event.decision_id)
    claims = tokens.verify(event.tracking_token)
    if claims is None or claims.game_id != game_id:
        raise EventRejected("token_invalid", "The tracking token is not valid for this game.")
    if claims.decision_id != decision_id:
        raise EventRejected("token_invalid", "The tracking token belongs to another decision.")
    if event.player_id != claims.player_id:
        raise EventRejected("player_mismatch", "player_id is not the player the decision was made for.")
    occurred = event.occurred_at  # with a timezone: the declaration requires it
    if occurred < now - MAX_AGE:
        raise EventRejected("event_too_old", "The event is older than 24 hours.")
    if occurred > now + MAX_FUTURE_SKEW:
        raise EventRejected("event_in_future", "The event is in the future.")
    seen = event.viewability if event.type == _IMPRESSION and isinstance(event.viewability, Viewability) else None
    viewability = (
        {"duration_ms": int(seen.duration_ms), "screen_coverage": float(seen.screen_coverage),
         "visible_fraction": float(seen.visible_fraction), "angle_deg": float(seen.angle_deg)}
        if seen is not None else None
    )  # fmt: skip
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    if metadata and len(json.dumps(metadata)) > MAX_METADATA_BYTES:
        raise EventRejected("validation_error", "metadata must be an object of at most 2 KB.")
    return {
        "e": _uuid(event.event_id),
        "t": event.type,
        "d": decision_id,
        "g": game_id,
        "c": claims.container_id,
        "k": claims.campaign_id,
        "r": claims.creative_id,
        "p": claims.player_id,
        "m": claims.pricing,
        "v": claims.price_micros,
        "i": claims.issued_at,
        "x": claims.expires_at,
        "o": occurred.timestamp(),
        "w": viewability,
        "meta": metadata,
    }


# KEYS: 1 stream, then 3 per event: seen, player rate, server rate ("" when none).
# ARGV: 1 seen ttl, 2 event count, then per event: record.
INGEST_LUA = """
local out = {}
local n = tonumber(ARGV[2])
for i = 0, n - 1 do
  local k = 2 + i * 3
  if redis.call('SET', KEYS[k], '1', 'NX', 'EX', ARGV[1]) then
    local pr = redis.call('INCR', KEYS[k + 1])
    if pr == 1 then redis.call('EXPIRE', KEYS[k + 1], 120) end
    local sr = 0
    if KEYS[k + 2] ~= '{ev}:none' then
      sr = redis.call('INCR', KEYS[k + 2])
      if sr == 1 then redis.call('EXPIRE', KEYS[k + 2], 120) end
    end
    redis.call('XADD', KEYS[1], '*', 'd', ARGV[2 + i + 1], 'pr', pr, 'sr', sr)
    table.insert(out, 1)
  else
    table.insert(out, 0)
  end
end
return out
"""
_ingest_script = LuaScript(INGEST_LUA)


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


def event_batch_ingest(*, game_id: int, events: list[Any], server_id: str = "") -> IngestResult:
    """Check, deduplicate and stream a batch of events (the service behind ``POST /api/v1/events``)."""
    now = timezone.now()
    result = IngestResult()
    records: list[dict[str, Any]] = []
    seen_in_batch: set[str] = set()
    for index, raw in enumerate(events):
        try:
            try:
                record = _validate(raw, game_id=game_id, now=now)
            except (TypeError, ValueError, KeyError, AttributeError, OverflowError, RecursionError):
                # A shape no check above foresaw: this event is refused, never the batch (and never a 500).
                logger.warning("event of an unexpected shape rejected", extra={"index": index}, exc_info=True)
                raise EventRejected("validation_error", "The event is malformed.") from None
        except EventRejected as exc:
            result.rejected.append({"index": index, "code": exc.code, "message": exc.message})
            kind = exc.kind or (raw.get("type") if isinstance(raw, dict) else None)
            # Only known types as label values: a caller's strings must not grow the metric's series.
            metrics.EVENTS.labels(type=kind if isinstance(kind, str) and kind in _TYPES else "?",
                                  verdict="rejected").inc()  # fmt: skip
            continue
        if record["e"] in seen_in_batch:
            result.duplicates += 1
            continue
        seen_in_batch.add(record["e"])
        record["s"] = server_id
        records.append(record)
    if not records:
        return result

    minute = FixedWindow(0, 60).number(now.timestamp())  # the rule's minute; EVENTS_MAX_PER_* are checked below
    keys = [EVENT_STREAM]
    args: list[Any] = [SEEN_TTL, len(records)]
    for record in records:
        keys += [
            f"{{ev}}:seen:{record['e']}",
            f"{{ev}}:rate:p:{game_id}:{record['p']}:{minute}",
            f"{{ev}}:rate:s:{game_id}:{server_id}:{minute}" if server_id else "{ev}:none",
        ]
    args += [_record_encode(record) for record in records]
    flags = _ingest_script(keys, args)
    for record, new in zip(records, flags, strict=True):
        if new:
            result.accepted += 1
            metrics.EVENTS.labels(type=record["t"], verdict="accepted").inc()
        else:
            result.duplicates += 1
            metrics.EVENTS.labels(type=record["t"], verdict="duplicate").inc()
    metrics.EVENT_BATCH_SIZE.observe(len(events))
    return result


# --------------------------------------------------------------------------- the worker


def _moment(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _ensure_decisions(records: list[dict[str, Any]]) -> None:
    """Paid decisions are normally in PostgreSQL already; rebuild any that are not from the signed token."""
    paid = {r["d"]: r for r in records if r.get("k")}
    if not paid:
        return
    known = {str(i) for (i,) in select_any(Decision, ["id"], "id", list(paid))}
    missing = [r for d, r in paid.items() if d not in known]
    if missing:
        Decision.objects.bulk_create(
            [
                Decision(
                    id=r["d"], game_id=r["g"], container_id=r["c"], campaign_id=r["k"], creative_id=r["r"],
                    player_id=r["p"], pricing=r["m"], reserved_amount=budget.from_micros(r["v"]),
                    clearing_price_cpm=None, state=DecisionState.RESERVED, reason="rebuilt_from_token",
                    created_at=_moment(r["i"]), expires_at=_moment(r["x"]),
                )
                for r in missing
            ],
            ignore_conflicts=True,
        )  # fmt: skip


@dataclass(slots=True)
class EngagementRow:
    """One engagement as the drain writes it: ``AdEngagement``'s columns, without building a model instance
    (the drain stores thousands a second, and a Django model instance costs several times more to build)."""

    event_id: str
    type: str
    decision_id: str
    game_id: int
    container_id: int
    campaign_id: int | None
    creative_id: int | None
    player_id: int
    server_id: str
    pricing: str
    price_micros: int
    occurred_at: datetime
    received_at: datetime
    duration_ms: int | None
    screen_coverage: float | None
    visible_fraction: float | None
    angle_deg: float | None
    viewable: bool
    invalid_reason: str
    payload: dict[str, Any]
    charged: bool = False
    charge_note: str = ""


# What the rules need of a decision's valid engagements stored so far: one row per decision, times as epoch
# seconds (loading every earlier engagement and its timestamps cost more than the rest of the drain).
_HISTORY_SQL = f"""
SELECT decision_id::text,
       extract(epoch FROM min(occurred_at) FILTER (WHERE type = '{_IMPRESSION}'))::float8,
       coalesce(bool_or(viewable) FILTER (WHERE type = '{_IMPRESSION}'), false),
       extract(epoch FROM max(occurred_at) FILTER (WHERE type = '{_CLICK}'))::float8,
       count(*) FILTER (WHERE type = '{_CLICK}') > 0
FROM {AdEngagement._meta.db_table}
WHERE decision_id = ANY(%s::uuid[]) AND invalid_reason = ''
GROUP BY decision_id
"""  # noqa: S608 - table name and type values are ours; the ids are a parameter


def _classify(records: list[dict[str, Any]]) -> list[tuple[EngagementRow, budget.Charge | None]]:
    """Apply viewability and invalid-traffic rules in time order; return each row with the charge it earns."""
    decision_ids = {r["d"] for r in records}
    history: dict[str, dict[str, Any]] = {d: {"impression_at": None, "billable": False, "last_click": None,
                                               "clicked": False} for d in decision_ids}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_HISTORY_SQL, [uuid_array(list(decision_ids))])
        for decision_id, impression_at, billable, last_click, clicked in cursor.fetchall():
            history[decision_id].update(
                impression_at=impression_at, billable=billable, last_click=last_click, clicked=clicked
            )

    now = timezone.now()
    # read once per batch, not per event: each settings access goes through Django's lazy object
    max_per_player, max_per_server = settings.EVENTS_MAX_PER_PLAYER_MINUTE, settings.EVENTS_MAX_PER_SERVER_MINUTE
    human_click = HUMAN_CLICK_MS / 1000
    rows: list[tuple[EngagementRow, budget.Charge | None]] = []
    for r in sorted(records, key=lambda r: (r["o"], r["t"] != _IMPRESSION)):
        h = history[r["d"]]
        kind, at = r["t"], r["o"]
        viewable = kind == _IMPRESSION and is_viewable(r["w"])
        reason = ""
        if r.get("pr", 0) > max_per_player:
            reason = "rate_player"
        elif r.get("sr", 0) > max_per_server:
            reason = "rate_server"
        elif kind == _IMPRESSION:
            if viewable and h["billable"]:
                reason = "duplicate_impression"
        elif kind == _CLICK:
            if h["impression_at"] is None:
                reason = "click_without_impression"
            elif at - h["impression_at"] < human_click or (
                h["last_click"] is not None and at - h["last_click"] < human_click
            ):
                reason = "click_too_fast"
        charge_kind = None
        if not reason:
            if kind == _IMPRESSION:
                h["impression_at"] = at if h["impression_at"] is None else min(h["impression_at"], at)
                if viewable:
                    h["billable"] = True
                    if r["m"] == "CPM" and r.get("k"):
                        charge_kind = LedgerKind.IMPRESSION_CHARGE
            elif kind == _CLICK:
                if r["m"] == "CPC" and r.get("k") and not h["clicked"]:
                    charge_kind = LedgerKind.CLICK_CHARGE
                h["clicked"] = True
                h["last_click"] = at
        elif kind == _CLICK:
            h["last_click"] = at
        w = r["w"] or {}
        row = EngagementRow(
            event_id=r["e"], type=kind, decision_id=r["d"], game_id=r["g"], container_id=r["c"],
            campaign_id=r.get("k"), creative_id=r.get("r"), player_id=r["p"], server_id=r.get("s", "")[:100],
            pricing=r["m"], price_micros=r["v"], occurred_at=_moment(at), received_at=now,
            duration_ms=w.get("duration_ms"), screen_coverage=w.get("screen_coverage"),
            visible_fraction=w.get("visible_fraction"), angle_deg=w.get("angle_deg"), viewable=viewable,
            invalid_reason=reason, payload=r.get("meta") or {},
        )  # fmt: skip
        charge = None
        if charge_kind:
            charge = budget.Charge(uuid.UUID(r["d"]), r["k"], budget.from_micros(r["v"]), charge_kind)
        rows.append((row, charge))
    return rows


def events_drain(*, batch: int = 2000, max_batches: int = 50, crash_after_commit: bool = False) -> int:
    """Store, filter and bill streamed events; return how many stream entries were processed.

    ``crash_after_commit`` exists for the crash test: it stops between the commit and the acknowledgement.
    """
    from ads.streams import drain_decisions

    drain_decisions()  # decisions first: events refer to them
    client = get_redis()
    ensure_group(client, EVENT_STREAM)
    total = 0
    with consumer_lease(client, EVENT_STREAM) as consumer:
        reader = StreamReader(client, EVENT_STREAM, consumer, batch)  # a stopped drainer's entries first
        for _ in range(max_batches):
            entries = reader.read()
            if not entries:
                break
            ids = [entry_id for entry_id, _ in entries]
            records = []
            for _, fields in entries:
                if not fields:
                    continue
                record = _record_decode(fields[b"d"])
                record["pr"], record["sr"] = int(fields.get(b"pr", 0)), int(fields.get(b"sr", 0))
                records.append(record)
            stored, charged = _store(records)
            if crash_after_commit:
                raise SystemExit("simulated crash between commit and acknowledge")
            client.xack(EVENT_STREAM, GROUP, *ids)
            client.xdel(EVENT_STREAM, *ids)
            total += len(ids)
            metrics.STREAM_DRAINED.labels(stream="events").inc(len(ids))
            _count_today(stored)
            logger.info("events stored", extra={"entries": len(ids), "new": len(stored), "charges": charged})
            if len(entries) < batch and reader.caught_up:
                break
    return total


ENGAGEMENT_COLUMNS: list[str] = [
    f.column for f in AdEngagement._meta.concrete_fields if not f.primary_key and f.column
]  # the attribute names equal the column names for this model
_engagement_values = operator.attrgetter(*ENGAGEMENT_COLUMNS)


def _store(records: list[dict[str, Any]]) -> tuple[list[EngagementRow], int]:
    with transaction.atomic():
        unique = {r["e"]: r for r in records}
        existing = {str(e) for (e,) in select_any(AdEngagement, ["event_id"], "event_id", list(unique))}
        new = [r for e, r in unique.items() if e not in existing]
        if not new:
            return [], 0
        _ensure_decisions(new)
        classified = _classify(new)
        charges = [charge for _, charge in classified if charge is not None]
        outcomes = budget.charges_apply(charges) if charges else {}
        rows = []
        for row, charge in classified:
            if charge is not None:
                row.charge_note = outcomes[charge.decision_id]
                row.charged = row.charge_note == "charged"
            rows.append(row)
        copy_insert(AdEngagement, ENGAGEMENT_COLUMNS, [_engagement_values(row) for row in rows])
        verdicts = Counter((row.type, "invalid" if row.invalid_reason else "stored") for row in rows)
        for (kind, verdict), count in verdicts.items():
            metrics.EVENTS.labels(type=kind, verdict=verdict).inc(count)
    return rows, sum(1 for o in outcomes.values() if o == "charged")


def today_key(kind: str, object_id: int, day: str) -> str:
    return f"{{ev}}:today:{day}:{kind}:{object_id}"


def _count_today(rows: list[EngagementRow]) -> None:
    """Live counters for today's figures on the report pages (PostgreSQL remains the truth)."""
    if not rows:
        return
    totals: Counter[tuple[str, str]] = Counter()
    days: dict[Any, str] = {}  # occurred_at is UTC: its date is the counters' day
    for row in rows:
        date = row.occurred_at.date()
        day = days.get(date) or days.setdefault(date, date.strftime("%Y%m%d"))
        if row.invalid_reason:
            names: tuple[str, ...] = ("invalid",)
        elif row.viewable:
            names = (f"{row.type}s", "viewable_impressions")
        else:
            names = (f"{row.type}s",)
        for scope, object_id in (("campaign", row.campaign_id), ("game", row.game_id),
                                 ("container", row.container_id)):  # fmt: skip
            if object_id:
                key = today_key(scope, object_id, day)
                for name in names:
                    totals[(key, name)] += 1
                if row.charged:
                    totals[(key, "spend_micros")] += row.price_micros
    pipe = get_redis().pipeline(transaction=False)
    for (key, name), value in totals.items():
        pipe.hincrby(key, name, value)
    for key in {key for key, _ in totals}:
        pipe.expire(key, 3 * 86400)
    pipe.execute()


def today_counters(kind: str, object_id: int, day: str | None = None) -> dict[str, int]:
    day = day or timezone.now().strftime("%Y%m%d")
    raw = get_redis().hgetall(today_key(kind, object_id, day))
    return {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in raw.items()}


def spend_from_micros(micros: int) -> Decimal:
    return budget.from_micros(micros)
