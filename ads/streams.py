"""Redis streams drained into PostgreSQL in bulk.

Decisions are appended to ``{ads}:decisions`` by the decision script. A worker
reads them through a consumer group, inserts them with one multi-row
``INSERT ... ON CONFLICT DO NOTHING`` and only then acknowledges and deletes
them. A crash between insert and acknowledge repeats the insert, which the
primary key absorbs: nothing is lost, nothing is counted twice.

A drainer killed mid-batch (``kill -9``, a lost machine) leaves the entries it had read pending under its
consumer name. Each drainer keeps a short-lived "alive" key per stream (:func:`consumer_lease`, renewed every
second by a thread while it drains, gone within :data:`ALIVE_SECONDS` of its death), and every drain first
takes over (``XCLAIM``) the entries pending under consumers whose key is gone: a dead worker's batch is resumed
within seconds, never after a long idle timeout. Entries pending under a live consumer are left to it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import msgspec
import redis
from django.db import transaction
from redis.typing import StreamIdT

from adplatform.core.db import copy_insert
from adplatform.core.redis import get_redis
from ads import metrics
from ads.models import Decision

logger = logging.getLogger(__name__)

DECISION_STREAM = "{ads}:decisions"
_record_decode = msgspec.json.Decoder().decode  # the decision records the engine writes (msgspec, JSON)
GROUP = "drainers"
ALIVE_SECONDS = 5.0  # a drainer that stopped renewing this long ago is dead: its pending entries are taken over
RENEW_EVERY = 1.0
# Entries pending under a consumer that still looks alive this long are taken over all the same (a live process
# whose drain hangs); a late second run of them is absorbed by the primary keys and unique event ids.
STUCK_IDLE_MS = 300_000


DECISION_COLUMNS = [f.attname for f in Decision._meta.concrete_fields]


def consumer_name() -> str:
    """This process and thread: two threads of one process that drain at once never share pending entries."""
    return f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}"


def alive_key(stream: str, consumer: str) -> str:
    return f"{stream}:alive:{consumer}"  # in the stream's hash slot


@contextmanager
def kept_alive(renew: Callable[[], object], every: float = RENEW_EVERY) -> Iterator[None]:
    """Call ``renew`` every ``every`` seconds from a thread while the block runs (a lease on a lock or key).

    A process killed outright stops renewing, so what it holds expires by itself within its TTL.
    """
    done = threading.Event()

    def loop() -> None:
        while not done.wait(every):
            try:
                renew()
            except Exception:  # Redis unreachable for a moment: the lease may lapse, nothing else
                logger.warning("lease renewal failed", exc_info=True)

    thread = threading.Thread(target=loop, name="lease-renewal", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=every + 1)


@contextmanager
def consumer_lease(client: redis.Redis, stream: str) -> Iterator[str]:
    """This drainer's consumer name on ``stream``, marked alive (and renewed) while the block runs."""
    consumer = consumer_name()
    key = alive_key(stream, consumer)
    ttl_ms = int(ALIVE_SECONDS * 1000)
    client.set(key, "1", px=ttl_ms)
    try:
        with kept_alive(lambda: client.set(key, "1", px=ttl_ms)):
            yield consumer
    finally:
        with contextlib.suppress(redis.RedisError):  # else it expires by itself
            client.delete(key)  # its unacknowledged entries (an exception mid-batch) are free to take at once


def claim_abandoned(client: redis.Redis, stream: str, consumer: str, count: int) -> list:
    """Take over the entries pending under consumers that are gone (no alive key), up to ``count``."""
    summary = client.xpending(stream, GROUP)
    if not summary or not summary.get("pending"):
        return []
    claimed: list = []
    for holder in summary.get("consumers") or []:
        name = holder["name"].decode() if isinstance(holder["name"], bytes) else holder["name"]
        if name == consumer or client.exists(alive_key(stream, name)):
            continue
        rows = client.xpending_range(stream, GROUP, min="-", max="+", count=count - len(claimed), consumername=name)
        ids: list[StreamIdT] = [row["message_id"] for row in rows]
        if ids:
            claimed += client.xclaim(stream, GROUP, consumer, 0, ids)
            logger.info("took over a stopped drainer's entries", extra={"stream": stream, "from": name,
                                                                         "count": len(ids)})  # fmt: skip
        if len(claimed) >= count:
            return claimed
    # A consumer alive but stuck for minutes: its entries are taken all the same.
    stuck = client.xautoclaim(stream, GROUP, consumer, STUCK_IDLE_MS, "0-0", count=count - len(claimed))[1]
    return claimed + stuck


class StreamReader:
    """A drain's batches: entries taken over from stopped drainers, then this consumer's own pending ones
    (read before and never acknowledged: an exception mid-batch), then new ones."""

    def __init__(self, client: redis.Redis, stream: str, consumer: str, batch: int):
        self.client, self.stream, self.consumer, self.batch = client, stream, consumer, batch
        self.phase = "abandoned"  # -> "own" -> "new"

    def _read_group(self, stream_id: str) -> list:
        response = self.client.xreadgroup(GROUP, self.consumer, {self.stream: stream_id}, count=self.batch)
        # RESP2 (the protocol redis-py speaks unless told otherwise): [[stream, entries]] for the one stream read.
        return cast(list[list[Any]], response)[0][1] if response else []

    def read(self) -> list:
        if self.phase == "abandoned":
            entries = claim_abandoned(self.client, self.stream, self.consumer, self.batch)
            if entries:
                return entries
            self.phase = "own"
        if self.phase == "own":
            entries = self._read_group("0")
            if entries:
                return entries
            self.phase = "new"
        return self._read_group(">")

    @property
    def caught_up(self) -> bool:
        """Past the pending entries: a short batch now means the stream is drained."""
        return self.phase == "new"


def ensure_group(client: redis.Redis, stream: str) -> None:
    try:
        client.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _record(fields: dict[bytes, bytes]) -> dict:
    """One stream entry as a record: the decision as made, plus the winner's fields when a campaign won."""
    data = _record_decode(fields[b"b"])
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
    """Move streamed decisions into PostgreSQL; return how many records were processed.

    When it returns, every decision entry that was in the stream and not pending under another live drainer is
    in PostgreSQL (entries of a stopped drainer are taken over first).
    """
    client = get_redis()
    ensure_group(client, DECISION_STREAM)
    total = 0
    with consumer_lease(client, DECISION_STREAM) as consumer:
        reader = StreamReader(client, DECISION_STREAM, consumer, batch)
        for _ in range(max_batches):
            entries = reader.read()
            if not entries:
                break
            ids = [entry_id for entry_id, _ in entries]
            rows = [_decision_from_record(_record(fields)) for _, fields in entries if fields]
            with transaction.atomic():
                known = set(Decision.objects.filter(id__in=[r.id for r in rows]).values_list("id", flat=True))
                fresh = {str(r.id): r for r in rows if uuid.UUID(str(r.id)) not in known}
                copy_insert(
                    Decision, DECISION_COLUMNS, [[getattr(r, c) for c in DECISION_COLUMNS] for r in fresh.values()]
                )
            # Only after the commit: acknowledge and delete.
            client.xack(DECISION_STREAM, GROUP, *ids)
            client.xdel(DECISION_STREAM, *ids)
            total += len(ids)
            metrics.STREAM_DRAINED.labels(stream="decisions").inc(len(ids))
            if len(entries) < batch and reader.caught_up:
                break
    if total:
        logger.info("decisions drained to postgresql", extra={"count": total})
    return total
