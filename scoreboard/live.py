"""The live top 10: coalesced broadcasts to websocket viewers through the channel layer.

A credited score changes the game's sorted set and publishes a small message on the
Redis channel ``leaderboard.<slug>`` (one script, after the commit; see ``leaderboard.py``).
Every ASGI process that holds viewers runs one :class:`Broadcaster`: it listens to those
messages, and for each board elects one sender across processes (``SET NX``), waits so a
board gets at most about ten broadcasts a second, reads the top 10 once, and -- only when it
changed -- bumps the board's live ``seq`` and sends the message, encoded once, to the board's
channel-layer group. channels-redis delivers it to viewers on every process; a slow viewer's
full channel drops messages for that viewer only, and the viewer resynchronises on the
``seq`` gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
import redis.asyncio as aioredis
from channels.layers import get_channel_layer
from django.conf import settings
from prometheus_client import Counter, Gauge, Histogram

from adplatform.redis import get_redis
from scoreboard.leaderboard import leaderboard_group

logger = logging.getLogger(__name__)

LIVE_VIEWERS = Gauge("adplatform_live_viewers", "Websocket viewers connected to this process, per board.", ["board"])
LIVE_BROADCASTS = Counter("adplatform_live_broadcasts_total", "Top-10 broadcasts sent to viewers.")
LIVE_BROADCAST_DELAY = Histogram(
    "adplatform_live_broadcast_delay_seconds",
    "Time from a score's change notification (sent right after its commit) to the broadcast.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 2.5),
)

MIN_INTERVAL = 0.1  # seconds between two broadcasts of one board
PENDING_TTL_MS = 2000
TOP = 10

# Compare the new top 10 with the last one sent; on a change remember it and return the next seq.
_ADVANCE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return false end
redis.call('SET', KEYS[1], ARGV[1])
return redis.call('INCR', KEYS[2])
"""


def live_keys(slug: str) -> tuple[str, str, str]:
    tag = f"{{live:{slug}}}"
    return f"{tag}:hash", f"{tag}:seq", f"{tag}:pending"


def top_entries(slug: str) -> list[dict[str, Any]] | None:
    """The current top 10 as plain dicts (None for an unknown or inactive game)."""
    from scoreboard.selectors import leaderboard_top

    board = leaderboard_top(slug, TOP)
    if board is None:
        return None
    return [{"rank": e.rank, "player_id": e.player_id, "username": e.username, "score": e.score} for e in board.entries]


def snapshot(slug: str) -> dict[str, Any] | None:
    """What a viewer gets on connect: the current top 10 and the seq of the last broadcast."""
    entries = top_entries(slug)
    if entries is None:
        return None
    try:
        seq = int(get_redis().get(live_keys(slug)[1]) or 0)
    except redis.RedisError:
        seq = 0
    return {"type": "snapshot", "seq": seq, "entries": entries}


def advance(slug: str, entries: list[dict[str, Any]]) -> int | None:
    """Record ``entries`` as the board's latest top 10; the new seq, or None when nothing changed."""
    digest = hashlib.sha256(json.dumps(entries, separators=(",", ":")).encode()).hexdigest()
    hash_key, seq_key, _ = live_keys(slug)
    seq = get_redis().eval(_ADVANCE_LUA, 2, hash_key, seq_key, digest)
    return int(seq) if seq else None


class Broadcaster:
    """One per process: turns score notifications into coalesced top-10 broadcasts."""

    def __init__(self) -> None:
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_sent: dict[str, float] = {}
        self._scheduled: set[str] = set()
        self.viewers: dict[str, int] = {}
        self.listening: asyncio.Event | None = None  # set once subscribed (tests wait on it)
        self._pending: set[asyncio.Task] = set()
        # Its own threads for the Redis and database reads, so they never wait behind the consumers' thread.
        self._executor: ThreadPoolExecutor | None = None

    async def _in_thread(self, fn, *args):
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="live-broadcast")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._scheduled.clear()
            self.listening = asyncio.Event()
            self._task = loop.create_task(self._listen(), name="leaderboard-broadcaster")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._pending) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)
        self._task = None
        self._pending.clear()
        self._scheduled.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def viewer_joined(self, slug: str) -> None:
        self.viewers[slug] = self.viewers.get(slug, 0) + 1
        LIVE_VIEWERS.labels(board=slug).set(self.viewers[slug])

    def viewer_left(self, slug: str) -> None:
        self.viewers[slug] = max(0, self.viewers.get(slug, 1) - 1)
        LIVE_VIEWERS.labels(board=slug).set(self.viewers[slug])

    async def _listen(self) -> None:
        backoff = 0.5
        while True:
            client = aioredis.from_url(settings.REDIS_URL)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(leaderboard_group("*"))
                backoff = 0.5
                if self.listening is not None:
                    self.listening.set()
                while True:
                    # get_message rather than the listen() generator: a cancelled generator can hang loop shutdown.
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message and message.get("type") == "pmessage":
                        self._on_message(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("leaderboard broadcaster lost redis; reconnecting", exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
            finally:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(pubsub.aclose(), 1)
                    await asyncio.wait_for(client.aclose(), 1)

    def _on_message(self, message: dict) -> None:
        try:
            data = json.loads(message["data"])
        except (ValueError, TypeError):
            return
        slug = data.get("game")
        if not isinstance(slug, str) or not data.get("top10_changed", True):
            return
        self.request(slug, received=time.monotonic())

    def request(self, slug: str, received: float | None = None) -> None:
        """Schedule a broadcast of ``slug``'s board (coalesced with any already pending)."""
        if slug in self._scheduled:
            return
        self._scheduled.add(slug)
        assert self._loop is not None
        task = self._loop.create_task(self._broadcast_later(slug, received or time.monotonic()))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _broadcast_later(self, slug: str, received: float) -> None:
        try:
            _, _, pending_key = live_keys(slug)
            elected = await self._in_thread(self._elect, pending_key)
            if not elected:
                return  # another process sends this one
            wait = self._last_sent.get(slug, 0) + MIN_INTERVAL - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._scheduled.discard(slug)  # changes from now on schedule the next broadcast
            text = await self._in_thread(self._prepare, slug, pending_key)
            self._last_sent[slug] = time.monotonic()
            if text is not None:
                await get_channel_layer().group_send(leaderboard_group(slug), {"type": "top10", "text": text})
                LIVE_BROADCASTS.inc()
                LIVE_BROADCAST_DELAY.observe(time.monotonic() - received)
        except Exception:
            logger.exception("leaderboard broadcast failed", extra={"board": slug})
        finally:
            self._scheduled.discard(slug)

    @staticmethod
    def _elect(pending_key: str) -> bool:
        return bool(get_redis().set(pending_key, "1", nx=True, px=PENDING_TTL_MS))

    @staticmethod
    def _prepare(slug: str, pending_key: str) -> str | None:
        from django.db import close_old_connections

        close_old_connections()
        try:
            return Broadcaster._prepare_text(slug, pending_key)
        finally:
            close_old_connections()

    @staticmethod
    def _prepare_text(slug: str, pending_key: str) -> str | None:
        get_redis().delete(pending_key)  # before reading: a change after this read schedules another broadcast
        entries = top_entries(slug)
        if entries is None:
            return None
        seq = advance(slug, entries)
        if seq is None:
            return None
        return json.dumps({"type": "top10", "seq": seq, "entries": entries}, separators=(",", ":"))


broadcaster = Broadcaster()
