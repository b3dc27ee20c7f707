"""The live top 10: coalesced broadcasts, carried between processes by the channel layer, fanned out in memory.

A credited score changes the game's sorted set and publishes a small message on the
Redis channel ``leaderboard.<slug>`` (one script, after the commit; see ``leaderboard.py``).
Every ASGI process that holds viewers runs one :class:`Broadcaster`. It listens to those
messages, and for each board elects one sender across processes (``SET NX``); the sender reads
the top 10 at once unless the board was read less than ``MIN_INTERVAL`` ago (by any process),
and -- only when it changed -- bumps the board's live ``seq`` and sends the message, encoded
once, to the board's channel-layer group.

The group's members are processes, not viewers: each Broadcaster owns one channel-layer channel
and keeps it in the group of every board that has a viewer in the process. It receives each
message once and hands it to its local viewers in memory. A per-viewer channel would cost the
receiving process one Redis round trip per viewer per broadcast, popped one after another:
with a thousand viewers that queue, not the network, was the delay. Each viewer has a small
queue drained by its own task, so a slow socket waits alone; when its queue is full its oldest
message is dropped and the page resynchronises on the ``seq`` gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
import redis.asyncio as aioredis
from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from prometheus_client import Counter, Gauge, Histogram

from adplatform.core.redis import get_redis
from scoreboard.leaderboard import leaderboard_group

logger = logging.getLogger(__name__)


def _layer() -> BaseChannelLayer:
    """The default channel layer, which the live board sends and listens through."""
    layer = get_channel_layer()
    if layer is None:
        raise ImproperlyConfigured("The live leaderboard needs CHANNEL_LAYERS['default'].")
    return layer


LIVE_VIEWERS = Gauge("adplatform_live_viewers", "Websocket viewers connected to this process, per board.", ["board"])
LIVE_BROADCASTS = Counter("adplatform_live_broadcasts_total", "Top-10 broadcasts sent to viewers.")
LIVE_BROADCAST_DELAY = Histogram(
    "adplatform_live_broadcast_delay_seconds",
    "Time from a score's change notification (sent right after its commit) to the broadcast.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 2.5),
)
LIVE_DROPPED = Counter(
    "adplatform_live_dropped_total", "Top-10 messages dropped for a viewer that could not keep up (it resyncs)."
)

MIN_INTERVAL_MS = 100  # between two reads of one board, across processes: at most about ten broadcasts a second
PENDING_TTL_MS = 2000
TOP = 10
VIEWER_QUEUE = 4  # messages one viewer may fall behind before its oldest is dropped
MEMBERSHIP_REFRESH = 30.0  # seconds; also restores the memberships a Redis restart lost

# Become the board's sender unless one is pending; answer how long the last read asks us to wait (ms, <= 0: none).
_ELECT_LUA = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return false end
return redis.call('PTTL', KEYS[2])
"""

# Compare the new top 10 with the last one sent; on a change remember it and return the next seq.
_ADVANCE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return false end
redis.call('SET', KEYS[1], ARGV[1])
return redis.call('INCR', KEYS[2])
"""


def live_keys(slug: str) -> tuple[str, str, str, str]:
    """The board's last-sent hash, live seq, pending-sender marker and read cooldown (one cluster slot)."""
    tag = f"{{live:{slug}}}"
    return f"{tag}:hash", f"{tag}:seq", f"{tag}:pending", f"{tag}:cooldown"


def top_entries(slug: str) -> list[dict[str, Any]] | None:
    """The current top 10 as plain dicts, with each player's cached avatar (None for an unknown or inactive game)."""
    from scoreboard.live_avatars import avatar_urls
    from scoreboard.services import leaderboard_top

    board = leaderboard_top(slug, TOP)
    if board is None:
        return None
    # The cached headshots only (None: the page's placeholder); the missing ones are fetched by a task.
    avatars = avatar_urls([e.player_id for e in board.entries], slug=slug)
    return [
        {
            "rank": e.rank,
            "player_id": e.player_id,
            "username": e.username,
            "score": e.score,
            "avatar_url": avatars.get(e.player_id),
        }
        for e in board.entries
    ]


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
    hash_key, seq_key, _, _ = live_keys(slug)
    seq = get_redis().eval(_ADVANCE_LUA, 2, hash_key, seq_key, digest)
    return int(seq) if seq else None


class Viewer:
    """One websocket in the local fan-out: a small queue that its own task drains, so a slow socket waits alone."""

    def __init__(self, slug: str, send: Callable[[str], Awaitable[None]]) -> None:
        self.slug = slug
        self._send = send
        self._queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue(VIEWER_QUEUE)
        self._task: asyncio.Task | None = None

    def offer(self, seq: int, text: str) -> None:
        """Queue a message without ever waiting; a full queue loses its oldest message (the page resyncs)."""
        if self._queue.full():
            self._queue.get_nowait()
            LIVE_DROPPED.inc()
        self._queue.put_nowait((seq, text))

    def start(self, after_seq: int) -> None:
        """Begin sending, skipping what the snapshot (at ``after_seq``) already showed."""
        self._task = asyncio.get_running_loop().create_task(self._drain(after_seq), name=f"live-viewer-{self.slug}")

    @property
    def started(self) -> bool:
        return self._task is not None

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _drain(self, last_seq: int) -> None:
        try:
            while True:
                seq, text = await self._queue.get()
                if seq > last_seq:
                    last_seq = seq
                    await self._send(text)
        except asyncio.CancelledError:
            raise
        except Exception:  # the socket went away; its consumer's disconnect removes the viewer
            logger.debug("live viewer send failed", exc_info=True)


class Broadcaster:
    """One per process: turns score notifications into coalesced top-10 broadcasts and hands them to local viewers."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task] = []  # the pub/sub listener, the channel receiver, the membership refresher
        self._scheduled: set[str] = set()
        self._pending: set[asyncio.Task] = set()
        self._boards: dict[str, set[Viewer]] = {}
        self._joined: set[str] = set()  # boards whose group holds this process's channel
        self._membership: asyncio.Lock | None = None
        self.channel: str | None = None
        self.viewers: dict[str, int] = {}  # started viewers per board (the gauge)
        self.listening: asyncio.Event | None = None  # set once subscribed (tests wait on it)
        # Its own threads for the Redis and database reads, so they never wait behind the consumers' thread.
        self._executor: ThreadPoolExecutor | None = None

    @property
    def _channel_name(self) -> str:
        """This process's channel on the layer: set by the first :meth:`_ensure_running`."""
        if self.channel is None:
            raise RuntimeError("the broadcaster has no channel before it runs")
        return self.channel

    async def _in_thread(self, fn, *args):
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="live-broadcast")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or a new event loop (tests): what the old one knew is gone with it
            channel = await _layer().new_channel()
            if self._loop is not loop:
                self._loop, self.channel = loop, channel
                self._boards.clear()
                self._joined.clear()
                self._membership = asyncio.Lock()
                self._tasks = []
        if self._tasks and all(not t.done() for t in self._tasks):
            return
        for task in self._tasks:
            task.cancel()
        self._scheduled.clear()
        self.listening = asyncio.Event()
        self._tasks = [
            loop.create_task(self._listen(), name="leaderboard-broadcaster"),
            loop.create_task(self._receive(), name="leaderboard-receiver"),
            loop.create_task(self._refresh_membership(), name="leaderboard-membership"),
        ]

    async def stop(self) -> None:
        """Cancel every task and leave every group: tests give each test its own event loop and broadcaster state."""
        viewers = [v for board in self._boards.values() for v in board]
        for viewer in viewers:
            viewer.stop()
        tasks = [*self._tasks, *self._pending]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)
        layer = _layer()
        for slug in self._joined:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(layer.group_discard(leaderboard_group(slug), self._channel_name), 1)
        self._tasks = []
        self._pending.clear()
        self._scheduled.clear()
        self._boards.clear()
        self._joined.clear()
        for slug in self.viewers:
            LIVE_VIEWERS.labels(board=slug).set(0)
        self.viewers.clear()
        self._loop = None
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    # --------------------------------------------------------------- viewers

    async def join(self, slug: str, send: Callable[[str], Awaitable[None]]) -> Viewer:
        """Register a viewer; on return this process is in the board's group, so read the snapshot after this."""
        await self._ensure_running()
        viewer = Viewer(slug, send)
        self._boards.setdefault(slug, set()).add(viewer)
        try:
            await self._sync_membership(slug)
        except BaseException:
            self._forget(viewer)
            raise
        return viewer

    def start(self, viewer: Viewer, after_seq: int) -> None:
        """The viewer has its snapshot: send it what follows, and count it."""
        viewer.start(after_seq)
        self.viewers[viewer.slug] = self.viewers.get(viewer.slug, 0) + 1
        LIVE_VIEWERS.labels(board=viewer.slug).set(self.viewers[viewer.slug])

    async def leave(self, viewer: Viewer) -> None:
        viewer.stop()
        if not self._forget(viewer):
            return  # registered on an event loop that has since been replaced
        if viewer.started:
            self.viewers[viewer.slug] = max(0, self.viewers.get(viewer.slug, 1) - 1)
            LIVE_VIEWERS.labels(board=viewer.slug).set(self.viewers[viewer.slug])
        try:
            await self._sync_membership(viewer.slug)
        except Exception:  # the channel stays in the group until it expires; its messages find no viewer here
            logger.warning("live board group discard failed", exc_info=True, extra={"board": viewer.slug})

    def _forget(self, viewer: Viewer) -> bool:
        board = self._boards.get(viewer.slug)
        if board is None or viewer not in board:
            return False
        board.discard(viewer)
        if not board:
            del self._boards[viewer.slug]
        return True

    async def _sync_membership(self, slug: str) -> None:
        """Put this process's channel in the board's group while it has viewers here, and only then."""
        assert self._membership is not None
        async with self._membership:  # one change at a time, so a join racing the last leave ends up joined
            wanted = bool(self._boards.get(slug))
            if wanted == (slug in self._joined):
                return
            layer = _layer()
            if wanted:
                await layer.group_add(leaderboard_group(slug), self._channel_name)
                self._joined.add(slug)
            else:
                self._joined.discard(slug)
                await layer.group_discard(leaderboard_group(slug), self._channel_name)

    async def _refresh_membership(self) -> None:
        # channels-redis drops a member group_expiry seconds after it was added: re-add well before that.
        layer = _layer()
        interval = min(MEMBERSHIP_REFRESH, getattr(layer, "group_expiry", 86400) / 3)
        while True:
            await asyncio.sleep(interval)
            assert self._membership is not None
            async with self._membership:
                for slug in list(self._joined):
                    try:
                        await layer.group_add(leaderboard_group(slug), self._channel_name)
                    except Exception:
                        logger.warning("live board membership refresh failed", exc_info=True, extra={"board": slug})

    async def _receive(self) -> None:
        layer = _layer()
        backoff = 0.5
        while True:
            try:
                message = await layer.receive(self._channel_name)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("live board receiver lost the channel layer; retrying", exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
                continue
            if message.get("type") == "top10":
                for viewer in self._boards.get(message["board"], ()):
                    viewer.offer(message["seq"], message["text"])

    # --------------------------------------------------------------- broadcasts

    async def _listen(self) -> None:
        backoff = 0.5
        while True:
            # Explicit timeouts: the reads below pass their own (1 s), so the socket timeout covers only the
            # (p)subscribe replies and health checks; an idle subscription is pinged, so a silent drop shows.
            client = aioredis.from_url(
                settings.REDIS_URL,
                socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
                socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
                health_check_interval=30,
            )
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
        task = self._loop.create_task(self._broadcast(slug, received or time.monotonic()))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _broadcast(self, slug: str, received: float) -> None:
        # Leading edge: a lone change goes out at once; changes within MIN_INTERVAL of a read wait for its end.
        try:
            wait_ms = await self._in_thread(self._elect, slug)
            if wait_ms is None:
                return  # another broadcast is pending, here or in another process, and will read this change
            if wait_ms > 0:
                await asyncio.sleep(wait_ms / 1000)
            self._scheduled.discard(slug)  # changes from now on schedule the next broadcast
            prepared = await self._in_thread(self._prepare, slug)
            if prepared is not None:
                seq, text = prepared
                message = {"type": "top10", "board": slug, "seq": seq, "text": text}
                await _layer().group_send(leaderboard_group(slug), message)
                LIVE_BROADCASTS.inc()
                LIVE_BROADCAST_DELAY.observe(time.monotonic() - received)
        except Exception:
            logger.exception("leaderboard broadcast failed", extra={"board": slug})
        finally:
            self._scheduled.discard(slug)

    @staticmethod
    def _elect(slug: str) -> int | None:
        _, _, pending_key, cooldown_key = live_keys(slug)
        wait_ms = get_redis().eval(_ELECT_LUA, 2, pending_key, cooldown_key, PENDING_TTL_MS)
        return None if wait_ms is None else int(wait_ms)

    @staticmethod
    def _prepare(slug: str) -> tuple[int, str] | None:
        from django.db import close_old_connections

        close_old_connections()
        try:
            return Broadcaster._prepare_text(slug)
        finally:
            close_old_connections()

    @staticmethod
    def _prepare_text(slug: str) -> tuple[int, str] | None:
        _, _, pending_key, cooldown_key = live_keys(slug)
        # Before reading: a change after this point elects the next sender, which waits out the cooldown.
        with get_redis().pipeline() as pipe:
            pipe.delete(pending_key)
            pipe.set(cooldown_key, "1", px=MIN_INTERVAL_MS)
            pipe.execute()
        entries = top_entries(slug)
        if entries is None:
            return None
        seq = advance(slug, entries)
        if seq is None:
            return None
        return seq, json.dumps({"type": "top10", "seq": seq, "entries": entries}, separators=(",", ":"))


broadcaster = Broadcaster()
