"""A simulator of Roblox game servers that talks to the platform's real HTTP API, as a game does.

Each simulated server runs in its own thread with its own keep-alive HTTP connection and its
own request budget (Roblox lets one game server make 500 external HTTP requests a minute, so
the budget is kept below that, with room held back for event batches). Players join and leave;
for every ACTIVE container the server asks for a decision as a player joins and again as the
ad rotates; impressions carry viewability samples (some do not meet the standard), clicks and
interactions follow at realistic rates, and all events are queued and sent in batches. Each
player gets a score token on joining and the server posts signed score updates with the game's
action types. Most players who join are regulars coming back (``SimConfig.roster``, shared by every
server, each online on one server at a time), so scores build up over sessions and the leaderboard
moves as they overtake each other; the rest are new players.

Only the standard library talks HTTP here (``http.client``): ``requests`` is reserved for
``integrations/roblox/http.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import math
import random
import sys
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

ROBLOX_REQUESTS_PER_MINUTE = 500
DEFAULT_ACTIONS = {"coin_collected": 85, "checkpoint_reached": 13, "boss_defeated": 2}
COUNTRIES = ["US"] * 30 + ["GB"] * 6 + ["DE"] * 5 + ["BR"] * 8 + ["PH"] * 5 + ["CA"] * 4 + ["FR"] * 4 + ["MX"] * 4 + [
    "IN", "JP", "KR", "AU", "ES", "IT", "PL", "NL", "ID", "TR",
]  # fmt: skip
DEVICES = ["mobile"] * 55 + ["desktop"] * 30 + ["tablet"] * 8 + ["console"] * 6 + ["vr"]
SEGMENTS = ["rpg", "obby", "simulator", "tycoon", "fps", "roleplay"]

CLICK_RATE = 0.02  # of viewable impressions
INTERACTION_RATE = {"NPC": 0.25, "MINIGAME": 0.15, "DISPLAY": 0.01}
SEEN_RATE = 0.9  # a decision whose ad the player actually comes to see
NON_VIEWABLE_RATE = 0.3
RESERVE = 40  # requests a minute held back from optional work, so event batches always go out


@dataclass
class SimConfig:
    base_url: str
    api_key: str
    signing_secret: str
    servers: int = 2
    players: int = 8
    duration: float = 30.0  # seconds; 0 runs until stop() (Ctrl-C)
    rate: float = 1.0
    request_budget: int = 480  # per server and minute, at most Roblox's 500
    batch_interval: float = 2.0
    batch_size: int = 100
    actions: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_ACTIONS))
    login_action: str | None = "daily_login"  # credited as a player joins (once a day per player on the server)
    seed: int | None = None
    timeout: float = 10.0
    roster: list[tuple[int, str]] = field(default_factory=list)  # returning players: (Roblox user id, name)
    returning: float = 0.8  # of joins, the share that is a roster player (when one is offline)


class Stats:
    """Counters shared by every server thread (one lock, cheap increments)."""

    FIELDS = (
        "requests", "joins", "leaves", "decisions", "fills", "campaign_fills", "house_fills", "events_sent",
        "events_accepted", "events_duplicates", "events_rejected", "tokens", "scores_credited", "scores_refused",
        "errors", "throttled",
    )  # fmt: skip

    def __init__(self):
        self._lock = threading.Lock()
        self.values = dict.fromkeys(self.FIELDS, 0)
        self.unfilled: Counter[str] = Counter()
        self.rejections: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()
        self.error_kinds: Counter[str] = Counter()
        self.reported: Counter[str] = Counter()  # events queued by kind ("impression viewable", "click", ...)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.values[name] += n

    def count(self, counter: str, key: str, n: int = 1) -> None:
        with self._lock:
            getattr(self, counter)[key] += n

    def __getitem__(self, name: str) -> int:
        return self.values[name]

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                **self.values,
                "unfilled": dict(self.unfilled),
                "rejections": dict(self.rejections),
                "refusals": dict(self.refusals),
                "error_kinds": dict(self.error_kinds),
                "reported": dict(self.reported),
            }


class Roster:
    """The regulars every server draws from: a player is online on one server at a time, then free again."""

    def __init__(self, players: list[tuple[int, str]]):
        self._offline = list(dict(players).items())  # one entry per id, in the given order
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._offline)

    def checkout(self, rng: random.Random) -> tuple[int, str] | None:
        with self._lock:
            if not self._offline:
                return None
            return self._offline.pop(rng.randrange(len(self._offline)))

    def release(self, player_id: int, username: str) -> None:
        with self._lock:
            self._offline.append((player_id, username))


def regulars(count: int, first_id: int = 95_000_001) -> list[tuple[int, str]]:
    """``count`` made-up regulars with stable ids, so their scores add up across simulator runs."""
    names = [
        "ParkourPip", "LagLord", "ObbyOtter", "NeonNugget", "CrateCrusher", "DashDino", "MangoMage", "PogoPenguin",
        "BoltBeaver", "QuartzQuokka", "RuneRabbit", "TikiTurtle", "VoxelViper", "WaffleWolf", "YetiYoyo", "ZapZebra",
    ]  # fmt: skip
    return [(first_id + n, f"{names[n % len(names)]}{'' if n < len(names) else n // len(names)}") for n in range(count)]


class RequestBudget:
    """A sliding one-minute window of one server's requests, never above ``limit``."""

    def __init__(self, limit: int):
        self.limit = limit
        self._times: deque[float] = deque()
        self._lock = threading.Lock()
        self.total = 0
        self.max_per_minute = 0

    def _trim(self, now: float) -> None:
        while self._times and now - self._times[0] >= 60.0:
            self._times.popleft()

    def in_last_minute(self) -> int:
        with self._lock:
            self._trim(time.monotonic())
            return len(self._times)

    def take(self, *, reserve: int = 0, wait_until: float | None = None, stop: threading.Event | None = None) -> bool:
        """Take one request from the budget. Without ``wait_until`` it answers at once; with it, it waits."""
        while True:
            with self._lock:
                now = time.monotonic()
                self._trim(now)
                if len(self._times) < self.limit - reserve:
                    self._times.append(now)
                    self.total += 1
                    self.max_per_minute = max(self.max_per_minute, len(self._times))
                    return True
                free_in = 60.0 - (now - self._times[0]) + 0.01 if self._times else 0.05
            if wait_until is None or now >= wait_until:
                return False
            pause = min(free_in, wait_until - now, 0.5)
            if stop is not None:
                stop.wait(pause)
            else:
                time.sleep(pause)


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def code(self) -> str:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("code") or "")
        return ""

    def retry_after(self, default: float = 5.0) -> float:
        try:
            return max(0.0, float(self.headers.get("retry-after", default)))
        except ValueError:
            return default


class ServerClient:
    """One game server's HTTP connection (keep-alive), counted against its request budget."""

    def __init__(self, config: SimConfig, budget: RequestBudget, stats: Stats):
        parts = urlsplit(config.base_url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.config = config
        self.budget = budget
        self.stats = stats
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            self._conn = cls(self.host, self.port, timeout=self.config.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def send(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None):
        """One request (the budget already taken). ``None`` when no answer came (Roblox's RequestAsync throws)."""
        all_headers = {"X-API-Key": self.config.api_key, "Accept": "application/json", **(headers or {})}
        if body is not None:
            all_headers.setdefault("Content-Type", "application/json")
        self.stats.add("requests")
        for attempt in range(2):  # a keep-alive connection the server closed is retried once on a new one
            conn = self._connection()
            try:
                conn.request(method, self.prefix + path, body=body, headers=all_headers)
                raw = conn.getresponse()
                data = raw.read()
                response_headers = {k.lower(): v for k, v in raw.getheaders()}
                if response_headers.get("connection", "").lower() == "close":
                    self.close()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                if attempt:
                    return self._failed(method, path, exc)
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                return self._failed(method, path, exc)
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return Response(raw.status, parsed, response_headers)

    def _failed(self, method: str, path: str, exc: Exception) -> None:
        self.stats.add("errors")
        self.stats.count("error_kinds", f"{method} {path.split('?')[0]}: {type(exc).__name__}")
        logger.warning("simulator request failed: %s %s: %s", method, path, exc)
        return None


@dataclass
class Slot:
    """What one player has in one container: the current decision and the events it will still produce."""

    container_id: int
    next_decision_at: float
    decision: dict[str, Any] | None = None
    pending: list[tuple[float, dict[str, Any]]] = field(default_factory=list)


@dataclass
class SimPlayer:
    id: int
    username: str
    country: str
    device: str
    age_bracket: str
    ads_allowed: bool
    segments: list[str]
    leave_at: float
    next_score_at: float
    token: str | None = None
    token_at: float = 0.0
    score_blocked_until: float = 0.0
    action_blocked_until: dict[str, float] = field(default_factory=dict)  # cooldowns and hourly maximums
    regular: bool = False
    slots: dict[int, Slot] = field(default_factory=dict)

    def as_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "country": self.country,
            "device": self.device,
            "age_bracket": self.age_bracket,
            "ads_allowed": self.ads_allowed,
            "segments": self.segments,
        }


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def viewability_sample(rng: random.Random) -> dict[str, float | int]:
    """How an ad was seen: most meet the in-game standard, some miss it on one measure."""
    sample = {
        "duration_ms": int(rng.uniform(1000, 9000)),
        "screen_coverage": round(rng.uniform(0.016, 0.12), 4),
        "visible_fraction": round(rng.uniform(0.55, 1.0), 3),
        "angle_deg": round(rng.uniform(0, 50), 1),
    }
    if rng.random() < NON_VIEWABLE_RATE:
        miss = rng.choice(["duration_ms", "screen_coverage", "visible_fraction", "angle_deg"])
        sample[miss] = {
            "duration_ms": lambda: int(rng.uniform(150, 950)),  # walked past
            "screen_coverage": lambda: round(rng.uniform(0.002, 0.014), 4),  # far away
            "visible_fraction": lambda: round(rng.uniform(0.05, 0.45), 3),  # behind something
            "angle_deg": lambda: round(rng.uniform(60, 88), 1),  # seen edge-on
        }[miss]()
    return sample


def is_viewable_sample(view: dict[str, float | int]) -> bool:
    """The in-game viewability standard (ROBLOX.md), as the SDK measures it on the client."""
    return (
        view["duration_ms"] >= 1000
        and view["screen_coverage"] >= 0.015
        and view["visible_fraction"] >= 0.5
        and view["angle_deg"] <= 55
    )


class GameServer(threading.Thread):
    def __init__(
        self,
        index: int,
        config: SimConfig,
        stats: Stats,
        stop: threading.Event,
        seed: int,
        roster: Roster | None = None,
    ):
        super().__init__(name=f"sim-server-{index}", daemon=True)
        self.index = index
        self.config = config
        self.stats = stats
        self.stop_event = stop
        self.rng = random.Random(seed)  # noqa: S311 - simulation, not secrets
        self.server_id = f"sim-{uuid.UUID(int=self.rng.getrandbits(128))}"
        self.budget = RequestBudget(min(config.request_budget, ROBLOX_REQUESTS_PER_MINUTE))
        self.client = ServerClient(config, self.budget, stats)
        self.containers: list[dict[str, Any]] = []
        self.containers_at = -math.inf
        self.players: list[SimPlayer] = []
        self.joins_due: list[float] = []
        self.queue: list[dict[str, Any]] = []
        self.last_flush = time.monotonic()
        self.paused_until = 0.0  # after a 429 with Retry-After
        self.scores_paused_until = 0.0
        self.error_backoff_until = 0.0
        self.roster = roster if roster is not None else Roster(config.roster)
        self.action_keys = list(config.actions)
        self.action_weights = list(config.actions.values())

    # ------------------------------------------------------------------ requests

    def _request(self, method: str, path: str, payload: Any = None, *, optional: bool, headers=None, raw=None):
        """Send within the budget. Optional work (decisions, scores) gives way to event batches."""
        now = time.monotonic()
        if now < self.paused_until or now < self.error_backoff_until:
            if optional:
                return None
            wait = max(self.paused_until, self.error_backoff_until) - now
            if self.stop_event.is_set():  # the final flush waits for real
                time.sleep(min(wait, 30.0))
            else:
                self.stop_event.wait(wait)
        if optional:
            if not self.budget.take(reserve=min(RESERVE, self.budget.limit // 4)):
                return None
        elif not self.budget.take(wait_until=time.monotonic() + 65, stop=None):
            return None
        body = raw if raw is not None else (json.dumps(payload).encode() if payload is not None else None)
        response = self.client.send(method, path, body, headers)
        if response is None:
            self.error_backoff_until = time.monotonic() + 1.0
            return None
        if response.status == 429 and not path.startswith("/api/v1/scores/update"):
            wait = response.retry_after()
            self.stats.add("throttled")
            self.paused_until = time.monotonic() + wait
            logger.warning("simulator %s throttled on %s; waiting %.1f s", self.server_id, path, wait)
        elif response.status >= 500:
            self.stats.add("errors")
            self.stats.count("error_kinds", f"{method} {path}: {response.status} {response.code}".strip())
            logger.warning("simulator %s: %s %s answered %s", self.server_id, method, path, response.status)
            self.error_backoff_until = time.monotonic() + 1.0
        return response

    # ------------------------------------------------------------------ containers

    def _refresh_containers(self, now: float) -> None:
        if now - self.containers_at < 60 and self.containers:
            return
        response = self._request("GET", "/api/v1/containers?limit=200", optional=bool(self.containers))
        self.containers_at = now
        if response is None or response.status != 200:
            if response is not None and response.status < 500:
                self._error("GET /api/v1/containers", response)
            self.containers_at = now - 50  # try again in 10 s
            return
        results = response.body.get("results", []) if isinstance(response.body, dict) else response.body or []
        self.containers = [c for c in results if c.get("status") == "ACTIVE"]

    # ------------------------------------------------------------------ players

    def _schedule_join(self, now: float, initial: bool = False) -> None:
        if initial:
            spread = min(5.0, self.config.duration / 4 if self.config.duration else 5.0)
            self.joins_due.append(now + self.rng.uniform(0, spread))
        else:
            self.joins_due.append(now + self.rng.expovariate(self.config.rate / 5.0))

    def _join(self, now: float) -> None:
        rng = self.rng
        regular = self.roster.checkout(rng) if rng.random() < self.config.returning else None
        if regular is not None:
            player_id, username = regular
        else:
            player_id = rng.randrange(100_000_000, 6_000_000_000)
            username = f"Sim{player_id % 10_000_000}"
        age = rng.choices(["13+", "under13", "unknown"], weights=[70, 22, 8])[0]
        player = SimPlayer(
            id=player_id,
            username=username,
            regular=regular is not None,
            country=rng.choice(COUNTRIES),
            device=rng.choice(DEVICES),
            age_bracket=age,
            ads_allowed=age != "under13" and rng.random() > 0.08,
            segments=rng.sample(SEGMENTS, rng.randint(0, 2)),
            leave_at=now + max(20.0, rng.expovariate(self.config.rate / 120.0)),
            next_score_at=now + rng.uniform(1, 4) / self.config.rate,
        )
        self.players.append(player)
        self.stats.add("joins")
        self._mint_token(player, now)
        if player.token and self.config.login_action:
            self._score(player, self.config.login_action)
        for container in self.containers:
            player.slots[container["id"]] = Slot(container["id"], next_decision_at=now + rng.uniform(0, 1.5))

    def _leave(self, player: SimPlayer, now: float) -> None:
        self.players.remove(player)
        self.stats.add("leaves")
        if player.regular:
            self.roster.release(player.id, player.username)
        if player.token:  # PlayerRemoving: revoke the session's tokens when there is budget to spare
            self._request("POST", "/api/v1/scores/tokens/revoke", {"player_id": player.id}, optional=True)
        self._schedule_join(now)

    def _mint_token(self, player: SimPlayer, now: float) -> None:
        response = self._request(
            "POST", "/api/v1/scores/tokens", {"player_id": player.id, "username": player.username}, optional=True
        )
        if response is not None and response.status == 201:
            player.token = response.body["token"]
            player.token_at = now
            self.stats.add("tokens")
        elif response is not None:
            self._error("POST /api/v1/scores/tokens", response)

    # ------------------------------------------------------------------ scores

    def _pick_action(self) -> str:
        return self.rng.choices(self.action_keys, weights=self.action_weights)[0]

    def _score(self, player: SimPlayer, action: str) -> None:
        now = time.monotonic()
        if now < self.scores_paused_until or now < player.score_blocked_until:
            return
        if now < player.action_blocked_until.get(action, 0.0):
            return  # a real server knows the action is on cooldown and does not send it
        if player.token is None or now - player.token_at > 12 * 60:
            self._mint_token(player, now)
            if player.token is None:
                return
        body = {
            "action_type": action,
            "action_id": uuid.uuid4().hex,
            "nonce": uuid.uuid4().hex,
            "timestamp": int(time.time()),
        }
        raw = json.dumps(body, separators=(",", ":")).encode()
        signature = hmac.new(self.config.signing_secret.encode(), raw, hashlib.sha256).hexdigest()
        headers = {"Authorization": f"Bearer {player.token}", "X-Signature": signature}
        response = self._request("POST", "/api/v1/scores/update", raw=raw, headers=headers, optional=True)
        if response is None:
            return
        if response.status == 200:
            self.stats.add("scores_credited")
            return
        code = response.code or str(response.status)
        self.stats.add("scores_refused")
        self.stats.count("refusals", code)
        if response.status == 429:
            reason = (response.body or {}).get("error", {}).get("details", {}).get("reason", "")
            until = time.monotonic() + response.retry_after(10.0)
            if reason in ("key_rate", "blocked"):
                self.scores_paused_until = until
            elif reason in ("cooldown", "max_per_hour"):  # this action only: the player goes on playing
                player.action_blocked_until[action] = until
            else:
                player.score_blocked_until = until
        elif code in ("token_expired", "token_revoked", "token_invalid"):
            player.token = None
        elif response.status < 500 and code not in ("action_duplicate", "nonce_reused", "action_type_invalid"):
            logger.info("simulator score update refused: %s", code)

    # ------------------------------------------------------------------ ads

    def _decide(self, player: SimPlayer, slot: Slot, container: dict[str, Any], now: float) -> None:
        payload = {"container_id": slot.container_id, "player": player.as_api(), "server_id": self.server_id}
        response = self._request("POST", "/api/v1/decisions", payload, optional=True)
        if response is None:
            slot.next_decision_at = now + 2.0
            return
        if response.status == 404:
            self.containers_at = -math.inf  # the container went away: reload the list
            slot.next_decision_at = math.inf
            return
        if response.status != 200:
            if response.status != 429:
                self._error("POST /api/v1/decisions", response)
            slot.next_decision_at = now + 5.0
            return
        self.stats.add("decisions")
        body = response.body or {}
        rotation = max(8.0, self.rng.uniform(20, 40) / self.config.rate)
        slot.next_decision_at = now + rotation
        slot.pending.clear()
        if not body.get("filled"):
            self.stats.count("unfilled", str(body.get("reason") or "unknown"))
            slot.decision = None
            return
        self.stats.add("fills")
        self.stats.add("campaign_fills" if body.get("source") == "campaign" else "house_fills")
        slot.decision = body
        if not body.get("tracking_token") or self.rng.random() > SEEN_RATE:
            return
        view = viewability_sample(self.rng)
        seen_at = now + self.rng.uniform(0.2, 2.0)
        impression_at = seen_at + min(view["duration_ms"] / 1000.0, rotation - 1)
        base = {
            "decision_id": body["decision_id"],
            "tracking_token": body["tracking_token"],
            "player_id": player.id,
        }
        slot.pending.append((impression_at, {**base, "type": "impression", "viewability": view}))
        viewable = is_viewable_sample(view)
        if viewable and self.rng.random() < CLICK_RATE:
            slot.pending.append((impression_at + self.rng.uniform(0.6, 4.0), {**base, "type": "click"}))
        if viewable and self.rng.random() < INTERACTION_RATE.get(container.get("type", "DISPLAY"), 0.01):
            slot.pending.append((impression_at + self.rng.uniform(1.0, 6.0), {**base, "type": "interaction"}))

    def _report(self, event: dict[str, Any]) -> None:
        """Queue one event for the next batch (a fresh event_id; retries of the batch reuse it)."""
        self.queue.append({"event_id": str(uuid.uuid4()), **event, "occurred_at": _now_iso()})
        kind = event["type"]
        if kind == "impression":
            kind += " viewable" if is_viewable_sample(event["viewability"]) else " not viewable"
        self.stats.count("reported", kind)

    def _player_tick(self, player: SimPlayer, now: float) -> None:
        by_id = {c["id"]: c for c in self.containers}
        for container in self.containers:
            player.slots.setdefault(container["id"], Slot(container["id"], next_decision_at=now))
        for container_id, slot in player.slots.items():
            due = [item for item in slot.pending if item[0] <= now]
            if due:
                slot.pending = [item for item in slot.pending if item[0] > now]
                for _, event in sorted(due, key=lambda item: item[0]):
                    self._report(event)
            if container_id in by_id and slot.next_decision_at <= now and not slot.pending:
                self._decide(player, slot, by_id[container_id], now)
        if now >= player.next_score_at:
            player.next_score_at = now + max(1.0, self.rng.expovariate(self.config.rate / 8.0))
            self._score(player, self._pick_action())

    # ------------------------------------------------------------------ events

    def _flush(self, *, final: bool = False) -> None:
        attempts = 0
        while self.queue and attempts < 10:
            attempts += 1
            batch = self.queue[: min(self.config.batch_size, 500)]
            response = self._request(
                "POST", "/api/v1/events", {"events": batch, "server_id": self.server_id}, optional=False
            )
            self.last_flush = time.monotonic()
            if response is None or response.status == 429 or response.status >= 500:
                if final and response is not None and response.status == 429:
                    continue  # _request waits out Retry-After before the next attempt
                if final:
                    self.stats.count("error_kinds", "events not sent at the end")
                return  # kept in the queue; the same event_ids are sent again (counted once)
            del self.queue[: len(batch)]
            if response.status != 202:
                self._error("POST /api/v1/events", response)
                continue
            body = response.body or {}
            self.stats.add("events_sent", len(batch))
            self.stats.add("events_accepted", int(body.get("accepted", 0)))
            self.stats.add("events_duplicates", int(body.get("duplicates", 0)))
            rejected = body.get("rejected") or []
            self.stats.add("events_rejected", len(rejected))
            for item in rejected:
                self.stats.count("rejections", str(item.get("code")))
            if not final and len(self.queue) < self.config.batch_size:
                return

    def _error(self, what: str, response: Response) -> None:
        self.stats.add("errors")
        self.stats.count("error_kinds", f"{what}: {response.status} {response.code}".strip())
        logger.warning("simulator %s: %s answered %s %s", self.server_id, what, response.status, response.body)

    # ------------------------------------------------------------------ loop

    def run(self) -> None:
        try:
            self._run()
        except Exception:
            self.stats.add("errors")
            self.stats.count("error_kinds", "server thread crashed")
            logger.exception("simulator server %s crashed", self.server_id)
        finally:
            self.client.close()

    def _run(self) -> None:
        start = time.monotonic()
        for _ in range(self.config.players):
            self._schedule_join(start, initial=True)
        while not self.stop_event.is_set():
            now = time.monotonic()
            self._refresh_containers(now)
            for due in [t for t in self.joins_due if t <= now]:
                self.joins_due.remove(due)
                self._join(now)
            for player in list(self.players):
                if player.leave_at <= now:
                    self._leave(player, now)
                else:
                    self._player_tick(player, now)
            if len(self.queue) >= self.config.batch_size or (
                self.queue and now - self.last_flush >= self.config.batch_interval
            ):
                self._flush()
            self.stop_event.wait(0.1)
        # Shutting down: what the players saw so far is reported, like a server's BindToClose.
        now = time.monotonic()
        for player in self.players:
            for slot in player.slots.values():
                for at, event in sorted(slot.pending, key=lambda item: item[0]):
                    if event["type"] == "impression" and at - now < 1.0:
                        self._report(event)
        self._flush(final=True)


@dataclass
class SimResult:
    elapsed: float
    stats: dict[str, Any]
    servers: list[dict[str, Any]]

    @property
    def max_requests_per_minute(self) -> int:
        return max((s["max_per_minute"] for s in self.servers), default=0)


class Simulation:
    def __init__(
        self,
        config: SimConfig,
        out: TextIO | None = None,
        progress_interval: float | None = None,
        quiet: bool = False,
    ):
        if config.request_budget > ROBLOX_REQUESTS_PER_MINUTE:
            raise ValueError(f"request_budget must be at most {ROBLOX_REQUESTS_PER_MINUTE} (Roblox's limit).")
        self.config = config
        self.out = out if out is not None else sys.stdout
        self.tty = bool(getattr(self.out, "isatty", lambda: False)())
        self.progress_interval = progress_interval or (1.0 if self.tty else 5.0)
        # quiet: one progress line rewritten in place on a terminal, none in a log (the summary comes at the end)
        self.progress = self.tty or not quiet
        self.stats = Stats()
        self.stop_event = threading.Event()
        seeds = random.Random(config.seed)  # noqa: S311
        self.roster = Roster(config.roster)
        self.servers = [
            GameServer(i, config, self.stats, self.stop_event, seeds.getrandbits(64), self.roster)
            for i in range(config.servers)
        ]
        self.started = 0.0

    def stop(self) -> None:
        self.stop_event.set()

    def progress_line(self) -> str:
        s = self.stats
        elapsed = max(time.monotonic() - self.started, 0.001)
        window = [server.budget.in_last_minute() for server in self.servers]
        per_min = sum(window) * (60.0 / elapsed if elapsed < 60 else 1.0)
        players = sum(len(server.players) for server in self.servers)
        return (
            f"[{elapsed:6.0f}s] players {players}  decisions {s['decisions']} (fills {s['fills']})  "
            f"events {s['events_accepted']} accepted / {s['events_rejected']} rejected  "
            f"scores {s['scores_credited']} credited / {s['scores_refused']} refused  "
            f"errors {s['errors']}  {per_min:.0f} req/min in all "
            f"(busiest server {max(window, default=0)} in the last minute)"
        )

    def run(self) -> SimResult:
        self.started = time.monotonic()
        for server in self.servers:
            server.start()
        deadline = self.started + self.config.duration if self.config.duration else math.inf
        next_progress = self.started + self.progress_interval
        try:
            while not self.stop_event.is_set() and time.monotonic() < deadline:
                if not any(server.is_alive() for server in self.servers):
                    break
                self.stop_event.wait(min(0.2, max(0.0, deadline - time.monotonic())))
                if time.monotonic() >= next_progress:
                    next_progress += self.progress_interval
                    if self.progress:
                        self._print_progress()
        except KeyboardInterrupt:
            self.out.write("\nStopping: sending the events still queued...\n")
        finally:
            self.stop_event.set()
            for server in self.servers:
                server.join(timeout=90)
        if self.tty:
            self.out.write("\r\x1b[2K")
        self.out.write(self.progress_line() + "\n")
        self.out.flush()
        return SimResult(
            elapsed=time.monotonic() - self.started,
            stats=self.stats.snapshot(),
            servers=[
                {"server_id": s.server_id, "requests": s.budget.total, "max_per_minute": s.budget.max_per_minute}
                for s in self.servers
            ],
        )

    def _print_progress(self) -> None:
        line = self.progress_line()
        if self.tty:
            self.out.write("\r\x1b[2K" + line)
        else:
            self.out.write(line + "\n")
        self.out.flush()


def format_summary(result: SimResult, config: SimConfig) -> str:
    s = result.stats
    fill_rate = s["fills"] / s["decisions"] * 100 if s["decisions"] else 0.0
    lines = [
        f"Simulated {config.servers} server(s) x {config.players} player(s) for {result.elapsed:.1f} s "
        f"against {config.base_url} (rate x{config.rate:g}).",
        f"  players:    {s['joins']} joined, {s['leaves']} left",
        f"  decisions:  {s['decisions']} ({s['fills']} filled, {fill_rate:.0f}%: {s['campaign_fills']} campaign, "
        f"{s['house_fills']} house)",
        f"  events:     {s['events_sent']} sent, {s['events_accepted']} accepted, {s['events_duplicates']} duplicates, "
        f"{s['events_rejected']} rejected",
        f"  scores:     {s['tokens']} tokens, {s['scores_credited']} credited, {s['scores_refused']} refused",
        f"  requests:   {s['requests']} ({s['throttled']} throttled, {s['errors']} errors); busiest server "
        f"{result.max_requests_per_minute} in one minute (budget {config.request_budget}, Roblox allows "
        f"{ROBLOX_REQUESTS_PER_MINUTE})",
    ]
    for title, key in (
        ("unfilled", "unfilled"), ("rejected", "rejections"), ("refused", "refusals"), ("errors", "error_kinds")
    ):  # fmt: skip
        if s[key]:
            detail = ", ".join(f"{k} {v}" for k, v in sorted(s[key].items(), key=lambda kv: -kv[1]))
            lines.append(f"  {title + ':':11} {detail}")
    return "\n".join(lines)
