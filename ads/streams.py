"""Redis streams drained into PostgreSQL in bulk.

Decisions are appended to ``{ads}:decisions`` by the decision script. A worker
reads them through a consumer group, inserts them with one multi-row
``INSERT ... ON CONFLICT DO NOTHING`` and only then acknowledges and deletes
them. A crash between insert and acknowledge repeats the insert, which the
primary key absorbs: nothing is lost, nothing is counted twice.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import redis
from django.db import transaction

from adplatform.db import copy_insert
from adplatform.redis import get_redis
from ads import metrics
from ads.models import Decision

logger = logging.getLogger(__name__)

DECISION_STREAM = "{ads}:decisions"
GROUP = "drainers"
CLAIM_IDLE_MS = 30_000


DECISION_COLUMNS = [f.attname for f in Decision._meta.concrete_fields]


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def ensure_group(client: redis.Redis, stream: str) -> None:
    try:
        client.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _record(fields: dict[bytes, bytes]) -> dict:
    """One stream entry as a record: the decision as made, plus the winner's fields when a campaign won."""
    data = json.loads(fields[b"b"])
    if b"k" in fields:
        data.update(
            state="RESERVED",
            reason="",
            campaign=int(fields[b"k"]),
            creative=int(fields[b"r"]),
            pricing=fields[b"m"].decode(),
            price_cpm=fields[b"c"].decode(),
            reserved=str(Decimal(int(fields[b"v"])) / 1_000_000),
            expires=int(fields[b"x"]),
        )
        data.pop("item", None)
    elif b"y" in fields:  # the script refused every candidate: its reason is the truthful one
        data["reason"] = fields[b"y"].decode()
    return data


def _decision_from_record(data: dict) -> Decision:
    def moment(value):
        return datetime.fromtimestamp(value, UTC) if value is not None else None

    return Decision(
        id=data["id"],
        game_id=data["game"],
        container_id=data["container"],
        campaign_id=data.get("campaign"),
        creative_id=data.get("creative"),
        playlist_item_id=data.get("item"),
        player_id=data["player"],
        country=data.get("country", ""),
        device=data.get("device", ""),
        server_id=data.get("server", "")[:100],
        pricing=data.get("pricing", ""),
        clearing_price_cpm=Decimal(data["price_cpm"]) if data.get("price_cpm") else None,
        reserved_amount=Decimal(data.get("reserved", "0")),
        state=data["state"],
        reason=data.get("reason", ""),
        created_at=moment(data["at"]),
        expires_at=moment(data.get("expires")),
    )


def drain_decisions(*, batch: int = 2000, max_batches: int = 50) -> int:
    """Move streamed decisions into PostgreSQL; return how many records were processed."""
    client = get_redis()
    ensure_group(client, DECISION_STREAM)
    consumer = consumer_name()
    total = 0
    # First take over records another consumer read but never acknowledged (it crashed).
    # (Redis 6.2 answers [cursor, entries], Redis 7 adds the deleted ids.)
    claimed = client.xautoclaim(DECISION_STREAM, GROUP, consumer, CLAIM_IDLE_MS, "0-0", count=batch)[1]
    pending = [claimed] if claimed else []
    for _ in range(max_batches):
        if pending:
            entries = pending.pop()
        else:
            response = client.xreadgroup(GROUP, consumer, {DECISION_STREAM: ">"}, count=batch)
            entries = response[0][1] if response else []
        if not entries:
            break
        ids = [entry_id for entry_id, _ in entries]
        rows = [_decision_from_record(_record(fields)) for _, fields in entries if fields]
        with transaction.atomic():
            known = set(Decision.objects.filter(id__in=[r.id for r in rows]).values_list("id", flat=True))
            fresh = {str(r.id): r for r in rows if uuid.UUID(str(r.id)) not in known}
            copy_insert(Decision, DECISION_COLUMNS, [[getattr(r, c) for c in DECISION_COLUMNS] for r in fresh.values()])
        # Only after the commit: acknowledge and delete.
        client.xack(DECISION_STREAM, GROUP, *ids)
        client.xdel(DECISION_STREAM, *ids)
        total += len(ids)
        metrics.STREAM_DRAINED.labels(stream="decisions").inc(len(ids))
        if len(entries) < batch:
            break
    if total:
        logger.info("decisions drained to postgresql", extra={"count": total})
    return total
