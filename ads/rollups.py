"""The hourly roll-up into ``AdPerformance``: the write job behind every report (:mod:`ads.reporting` reads it).

Roll-up (``performance_rollup``): the hours of a window are recomputed as a whole from the raw
rows with one ``INSERT ... SELECT ... GROUP BY`` over decisions (by ``created_at``), engagement
events (by ``occurred_at``, so a late event lands in its own hour) and the ledger's spend
(charges and adjustments, as budgets count them; releases are not spend) by the entry's
``created_at``, the moment money moved, as the daily budgets count it, after deleting
those hours' rows, in one transaction. Re-running any window therefore gives the same rows.

The beat job (``performance_rollup_recent``, every minute) recomputes the current and the
previous hour, plus every hour touched by rows stored since its last run: engagement events and
ledger entries are found by their id watermark (one drainer at a time writes events, so their
ids commit in order). Every ten minutes it also compares the last day's hourly decision count,
event count and spend with the roll-up and recomputes any hour out of step: that catches late
decisions (a drainer that was down for over an hour: decisions carry the time they were made,
not stored) and any row committed out of id order. Its state lives in Redis; when it is lost the
job rebuilds the last two days, further than any late row can reach.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Max, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from adplatform.core.redis import get_redis
from ads.budget import CHARGE_KINDS
from ads.models import AdEngagement, AdPerformance, Decision, DecisionState, EngagementType, LedgerEntry
from ads.reporting import HOUR, ceil_hour, floor_hour

logger = logging.getLogger(__name__)

ROLLUP_LOCK_ID = 7_420_001  # pg_advisory_xact_lock key: one roll-up at a time
STATE_KEY = "{rep}:rollup:state"
CHECK_KEY = "{rep}:rollup:check"
REBUILD_WINDOW = timedelta(hours=48)  # events older than 24 h are refused at ingestion
CHECK_WINDOW = timedelta(hours=26)
CHECK_EVERY = 600  # seconds


_ROLLUP_SQL = """
INSERT INTO {perf} (hour, campaign_id, creative_id, container_id, game_id, country, device,
                    decisions, fills_paid, fills_house, impressions, viewable_impressions, clicks,
                    interactions, conversions, invalid_events, spend, updated_at)
SELECT hour, campaign_id, creative_id, container_id, game_id, country, device,
       SUM(decisions), SUM(fills_paid), SUM(fills_house), SUM(impressions), SUM(viewable_impressions),
       SUM(clicks), SUM(interactions), SUM(conversions), SUM(invalid_events), SUM(spend), %(now)s
FROM (
    SELECT date_trunc('hour', d.created_at, 'UTC') AS hour, d.campaign_id, d.creative_id, d.container_id,
           d.game_id, d.country, d.device,
           COUNT(*) AS decisions,
           COUNT(*) FILTER (WHERE d.campaign_id IS NOT NULL) AS fills_paid,
           COUNT(*) FILTER (WHERE d.state = %(house)s) AS fills_house,
           0 AS impressions, 0 AS viewable_impressions, 0 AS clicks, 0 AS interactions, 0 AS conversions,
           0 AS invalid_events, 0::numeric AS spend
    FROM {decision} d
    WHERE d.created_at >= %(start)s AND d.created_at < %(end)s
    GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
    SELECT date_trunc('hour', e.occurred_at, 'UTC'), e.campaign_id, e.creative_id, e.container_id,
           e.game_id, COALESCE(d.country, ''), COALESCE(d.device, ''),
           0, 0, 0,
           COUNT(*) FILTER (WHERE e.type = %(impression)s AND e.invalid_reason = ''),
           COUNT(*) FILTER (WHERE e.type = %(impression)s AND e.invalid_reason = '' AND e.viewable),
           COUNT(*) FILTER (WHERE e.type = %(click)s AND e.invalid_reason = ''),
           COUNT(*) FILTER (WHERE e.type = %(interaction)s AND e.invalid_reason = ''),
           COUNT(*) FILTER (WHERE e.type = %(conversion)s AND e.invalid_reason = ''),
           COUNT(*) FILTER (WHERE e.invalid_reason <> ''),
           0
    FROM {engagement} e LEFT JOIN {decision} d ON d.id = e.decision_id
    WHERE e.occurred_at >= %(start)s AND e.occurred_at < %(end)s
    GROUP BY 1, 2, 3, 4, 5, 6, 7
  UNION ALL
    SELECT date_trunc('hour', l.created_at, 'UTC'), l.campaign_id, d.creative_id, d.container_id,
           d.game_id, COALESCE(d.country, ''), COALESCE(d.device, ''),
           0, 0, 0, 0, 0, 0, 0, 0, 0, SUM(l.amount)
    FROM {ledger} l LEFT JOIN {decision} d ON d.id = l.decision_id
    WHERE l.kind = ANY(%(charge_kinds)s) AND l.created_at >= %(start)s AND l.created_at < %(end)s
    GROUP BY 1, 2, 3, 4, 5, 6, 7
) AS raw
GROUP BY 1, 2, 3, 4, 5, 6, 7
"""


def performance_rollup(*, start: datetime, end: datetime) -> int:
    """Recompute the ``AdPerformance`` rows of every hour in ``[start, end)`` from the raw rows.

    The window is widened to whole hours. The hours' rows are deleted and rebuilt in one
    transaction (serialised by an advisory lock), so running any window twice gives the same
    rows. Returns the number of rows written.
    """
    start, end = floor_hour(start), ceil_hour(end)
    if end <= start:
        return 0
    sql = _ROLLUP_SQL.format(
        perf=AdPerformance._meta.db_table,
        decision=Decision._meta.db_table,
        engagement=AdEngagement._meta.db_table,
        ledger=LedgerEntry._meta.db_table,
    )
    params: dict[str, Any] = {
        "start": start,
        "end": end,
        "now": timezone.now(),
        "house": DecisionState.HOUSE,
        "impression": EngagementType.IMPRESSION,
        "click": EngagementType.CLICK,
        "interaction": EngagementType.INTERACTION,
        "conversion": EngagementType.CONVERSION,
        "charge_kinds": [str(kind) for kind in CHARGE_KINDS],
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK_ID])
        AdPerformance.objects.filter(hour__gte=start, hour__lt=end).delete()
        cursor.execute(sql, params)
        written = cursor.rowcount
    return written


def _ranges(hours: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """Sorted hours as contiguous ``[start, end)`` windows."""
    out: list[tuple[datetime, datetime]] = []
    for hour in sorted(set(hours)):
        if out and out[-1][1] == hour:
            out[-1] = (out[-1][0], hour + HOUR)
        else:
            out.append((hour, hour + HOUR))
    return out


def _touched_hours(model, time_field: str, *, after_id: int) -> tuple[set[datetime], int]:
    """Hours of the rows stored after the watermark ``after_id``, and the new watermark."""
    rows = (
        model.objects.filter(id__gt=after_id)
        .annotate(h=TruncHour(time_field))
        .values("h")
        .annotate(top=Max("id"))
        .order_by()
    )
    hours, top = set(), after_id
    for row in rows:
        hours.add(row["h"])
        top = max(top, row["top"])
    return hours, top


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _hourly(qs, time_field: str, value) -> dict[datetime, Any]:
    return dict(qs.annotate(h=TruncHour(time_field)).values("h").annotate(v=value).order_by().values_list("h", "v"))


def _hours_out_of_step(*, since: datetime, until: datetime) -> set[datetime]:
    """Hours whose raw decision count, event count or spend differs from the roll-up's.

    The safety net under the watermarks: it finds decisions drained late (they carry the time
    they were made, not stored) and rows a concurrent writer committed out of id order.
    """
    rolled: dict[datetime, Mapping[str, Any]] = {
        row["hour"]: row
        for row in AdPerformance.objects.filter(hour__gte=since, hour__lt=until)
        .values("hour")
        .annotate(
            decisions=Sum("decisions"),
            events=Sum(F("impressions") + F("clicks") + F("interactions") + F("conversions") + F("invalid_events")),
            spend=Sum("spend"),
        )
        .order_by()
    }
    raw = {
        "decisions": _hourly(
            Decision.objects.filter(created_at__gte=since, created_at__lt=until), "created_at", Count("id")
        ),
        "events": _hourly(
            AdEngagement.objects.filter(occurred_at__gte=since, occurred_at__lt=until), "occurred_at", Count("id")
        ),
        "spend": _hourly(
            LedgerEntry.objects.filter(kind__in=CHARGE_KINDS, created_at__gte=since, created_at__lt=until),
            "created_at",
            Sum("amount"),
        ),
    }
    out: set[datetime] = set()
    for name, counts in raw.items():
        for hour in counts.keys() | rolled.keys():
            if (counts.get(hour) or 0) != (rolled.get(hour, {}).get(name) or 0):
                out.add(hour)
    return out


def performance_rollup_recent(*, now: datetime | None = None, check: bool | None = None) -> dict[str, Any]:
    """The beat job's work: roll up the current and previous hour and every hour late rows touched.

    ``check`` forces (or skips) the comparison of the last day's hourly counts with the roll-up
    (``_hours_out_of_step``); by default it runs at most every ``CHECK_EVERY`` seconds.
    Returns what was done (also logged).
    """
    now = now or timezone.now()
    current = floor_hour(now)
    client = get_redis()
    state = {_text(k): _text(v) for k, v in client.hgetall(STATE_KEY).items()}
    hours = {current - HOUR, current}
    late: set[datetime] = set()
    rebuilt = not state
    if rebuilt:
        # First run, or Redis lost the watermarks: rebuild as far back as a late row can reach.
        hours |= {current - HOUR * i for i in range(int(REBUILD_WINDOW / HOUR) + 1)}
        event_top = AdEngagement.objects.aggregate(top=Max("id"))["top"] or 0
        ledger_top = LedgerEntry.objects.aggregate(top=Max("id"))["top"] or 0
    else:
        event_hours, event_top = _touched_hours(AdEngagement, "occurred_at", after_id=int(state["engagements"]))
        ledger_hours, ledger_top = _touched_hours(LedgerEntry, "created_at", after_id=int(state["ledger"]))
        late = event_hours | ledger_hours
        if check is None:
            check = bool(client.set(CHECK_KEY, "1", nx=True, ex=CHECK_EVERY))
        if check:
            late |= _hours_out_of_step(since=current - CHECK_WINDOW, until=current - HOUR)
        late -= hours
    hours |= late

    written = 0
    windows = _ranges(hours)
    for start, end in windows:
        written += performance_rollup(start=start, end=end)
    client.hset(STATE_KEY, mapping={"engagements": event_top, "ledger": ledger_top, "at": now.isoformat()})
    result = {
        "hours": len(hours),
        "windows": [f"{start:%Y-%m-%dT%H}:00Z/{end:%Y-%m-%dT%H}:00Z" for start, end in windows],
        "late_hours": sorted(f"{hour:%Y-%m-%dT%H}:00Z" for hour in late),
        "rows": written,
        "rebuilt": rebuilt,
    }
    logger.info("performance rolled up", extra=result)
    return result
