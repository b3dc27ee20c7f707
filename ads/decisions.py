"""The ad decision engine: eligibility, effective CPM, second-price auction, pacing, caps and budgets.

Hot path rules (DESIGN.md): no PostgreSQL query in the steady state and exactly one
Redis round trip per decision. The campaign index lives in process memory and is
rebuilt in the background when the serving version (returned by the decision script
itself) changes or every ``SERVING_INDEX_MAX_AGE`` seconds. One Lua script checks the
frequency cap, pacing and the total and daily budgets of the ranked candidates,
reserves the winner's price, and appends the decision to a Redis stream that a worker
drains into PostgreSQL.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec
import redis
from django.conf import settings
from django.db.models import Count, Prefetch, Q

from adplatform.core.api.errors import DomainError
from adplatform.core.redis import LuaScript, get_redis
from adplatform.core.serving import SERVING_VERSION_KEY
from ads import budget, metrics, tokens
from ads.models import (
    ApprovalState,
    Campaign,
    CampaignStatus,
    Creative,
    ModerationStatus,
    Pacing,
    Pricing,
    RobloxReview,
)
from ads.streams import DECISION_STREAM
from games.models import AdContainer, AssetModeration, ContainerStatus, PlaylistItem

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
CENT_MICROS = 10_000
SIX = Decimal("0.000001")
PRIOR_CTR = Decimal("0.01")  # 1% expected click-through before a campaign has history
PRIOR_WEIGHT = 1000  # the prior counts as this many impressions
MAX_CANDIDATES = 8  # candidates handed to the script, best first


# --------------------------------------------------------------------------- the in-memory index


@dataclass(frozen=True)
class CreativeInfo:
    id: int
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class CampaignInfo:
    id: int
    advertiser_id: int
    category: str
    pricing: str
    bid: Decimal  # CPM bid, or CPC bid for CPC campaigns
    ctr: Decimal
    ecpm: Decimal
    pacing: str  # EVEN spreads each day's budget along the day; ASAP spends as fast as traffic allows
    start_ts: float
    end_ts: float
    cap_count: int
    cap_period: int
    countries_in: frozenset[str]
    countries_out: frozenset[str]
    devices: frozenset[str]
    segments: frozenset[str]
    days: frozenset[int]
    hours: frozenset[int]
    games_in: frozenset[int]
    games_out: frozenset[int]
    container_types: frozenset[str]
    creatives: dict[str, tuple[CreativeInfo, ...]]
    roblox_ad_campaign_id: str = ""  # Roblox Ads Manager's ad-integration campaign id (compliance)
    # Derived once per index build, not per request: the effective CPM in micros (the auction's integer
    # arithmetic) and the campaign's Redis key names (ads.budget names them).
    ecpm_micros: int = field(init=False, repr=False, compare=False)
    state_key: str = field(init=False, repr=False, compare=False)
    daily_prefix: str = field(init=False, repr=False, compare=False)
    frequency_prefix: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        derived = {
            "ecpm_micros": budget.to_micros(self.ecpm.quantize(SIX)),
            "state_key": budget.state_key(self.id),
            "daily_prefix": budget.daily_key_prefix(self.id),
            "frequency_prefix": budget.frequency_key_prefix(self.id),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)  # a frozen dataclass sets its derived fields once


@dataclass(frozen=True)
class HouseItem:
    playlist_item_id: int
    payload: dict[str, Any]


@dataclass(frozen=True)
class ContainerInfo:
    id: int
    game_id: int
    type: str
    status: str
    floor: Decimal
    blocked_categories: frozenset[str]
    house: tuple[HouseItem, ...]
    # Campaigns that may ever serve here (type, games, category) and bid at least the floor, best
    # effective CPM first: only per-player rules remain per request, and a request stops scanning as
    # soon as the auction's outcome is settled (see ``shortlist``), however many campaigns there are.
    candidates: tuple[CampaignInfo, ...] = ()
    # The same, but bidding under the floor: only consulted to tell ``below_floor`` from no campaign.
    under_floor: tuple[CampaignInfo, ...] = ()


@dataclass
class ServingIndex:
    version: int
    built_at: float
    containers: dict[int, ContainerInfo]
    campaigns: tuple[CampaignInfo, ...]
    notes: dict[str, int] = field(default_factory=dict)


def _creative_payload(creative: Creative) -> dict[str, Any]:
    return {
        "id": creative.pk,
        "kind": creative.kind,
        "roblox_asset_id": creative.roblox_asset_id,
        "content": creative.content_uri,
        "npc": {"model_asset_id": creative.npc_model_asset_id, "dialogue": creative.npc_dialogue}
        if creative.kind == "NPC"
        else None,
        "minigame": creative.minigame if creative.kind == "MINIGAME" else None,
        "click_action": creative.click_action or {"type": "none"},
        # Ads Manager's placement id: the game wires the ad label with AdService:RegisterDisclosureButton.
        "placement_id": creative.roblox_placement_id,
    }


def _ctr_stats() -> dict[int, tuple[int, int]]:
    """``campaign id -> (impressions, clicks)`` for CTR estimates (filled in by the events app when present)."""
    try:
        from ads import reporting
    except ImportError:
        return {}
    return reporting.campaign_ctr_counts()


def build_index(version: int) -> ServingIndex:
    """Read everything serving needs from PostgreSQL (off the request path)."""
    now = time.time()
    containers: dict[int, ContainerInfo] = {}
    items_qs = PlaylistItem.objects.select_related("asset").order_by("position")
    for container in AdContainer.objects.select_related("game", "playlist").prefetch_related(
        Prefetch("playlist__items", queryset=items_qs)
    ):
        house: tuple[HouseItem, ...] = ()
        if (
            container.playlist_id is not None
            and container.playlist is not None
            and container.playlist.container_type == container.type
        ):
            house = tuple(
                HouseItem(
                    item.pk,
                    {
                        "id": None,
                        "kind": container.type,
                        "roblox_asset_id": item.asset.roblox_asset_id,
                        "content": item.asset.content_uri,
                        "npc": None,
                        "minigame": None,
                        "click_action": {"type": "none"},
                        "display_seconds": item.display_seconds,
                    },
                )
                for item in container.playlist.items.all()
                if not item.asset.is_blocked
            )
        containers[container.pk] = ContainerInfo(
            id=container.pk,
            game_id=container.game_id,
            type=container.type,
            status=container.status if container.game.is_active else ContainerStatus.INACTIVE,
            floor=container.floor_price_cpm,
            blocked_categories=frozenset(container.blocked_categories or []),
            house=house,
        )

    # Roblox's ad-integration rules (ads.compliance): a creative serves once Roblox approved its asset (the
    # game owner's) and Ads Manager gave it a placement id; a campaign needs its ad-integration campaign id.
    approved = (
        Creative.objects.filter(moderation_status=ModerationStatus.APPROVED, roblox_review=RobloxReview.APPROVED)
        .exclude(roblox_placement_id="")
        .exclude(asset__moderation_state=AssetModeration.BLOCKED)
    )
    campaigns = (
        Campaign.objects.filter(
            status=CampaignStatus.ACTIVE,
            advertiser__approval=ApprovalState.APPROVED,
            end_at__gt=datetime.fromtimestamp(now, UTC),
        )
        .exclude(roblox_campaign_id="")
        .select_related("advertiser")
        .prefetch_related(Prefetch("creatives", queryset=approved, to_attr="serving_creatives"))
        .annotate(n=Count("creatives", filter=Q(creatives__moderation_status=ModerationStatus.APPROVED)))
    )
    stats = _ctr_stats()
    infos = []
    for campaign in campaigns:
        if not campaign.serving_creatives:
            continue
        impressions, clicks = stats.get(campaign.pk, (0, 0))
        ctr = (Decimal(clicks) + PRIOR_CTR * PRIOR_WEIGHT) / (Decimal(impressions) + PRIOR_WEIGHT)
        ecpm = campaign.max_bid if campaign.pricing == Pricing.CPM else campaign.max_bid * ctr * 1000
        by_kind: dict[str, list[CreativeInfo]] = {}
        for creative in campaign.serving_creatives:
            by_kind.setdefault(creative.kind, []).append(
                CreativeInfo(creative.pk, creative.kind, _creative_payload(creative))
            )
        t = campaign.targeting or {}
        infos.append(
            CampaignInfo(
                id=campaign.pk,
                advertiser_id=campaign.advertiser_id,
                category=campaign.advertiser.category,
                pricing=campaign.pricing,
                bid=campaign.max_bid,
                ctr=ctr,
                ecpm=ecpm.quantize(SIX),
                pacing=campaign.pacing,
                start_ts=campaign.start_at.timestamp(),
                end_ts=campaign.end_at.timestamp(),
                cap_count=campaign.frequency_cap_count or 0,
                cap_period=campaign.frequency_cap_period_seconds or 0,
                countries_in=frozenset(t.get("countries_included", [])),
                countries_out=frozenset(t.get("countries_excluded", [])),
                devices=frozenset(t.get("devices", [])),
                segments=frozenset(t.get("segments", [])),
                days=frozenset(t.get("days_of_week", [])),
                hours=frozenset(t.get("hours_utc", [])),
                # A campaign registered for a game serves only there (Ads Manager registers it per game).
                games_in=frozenset([campaign.game_id]) if campaign.game_id else frozenset(t.get("games_included", [])),
                games_out=frozenset(t.get("games_excluded", [])),
                container_types=frozenset(t.get("container_types", [])),
                creatives={kind: tuple(items) for kind, items in by_kind.items()},
                roblox_ad_campaign_id=campaign.roblox_campaign_id,
            )
        )
    by_ecpm = sorted(infos, key=lambda c: c.ecpm, reverse=True)
    for container_id, info in list(containers.items()):
        serving = [c for c in by_ecpm if _statically_eligible(c, info)]
        containers[container_id] = replace(
            info,
            candidates=tuple(c for c in serving if _bids(c, info.floor)),
            under_floor=tuple(c for c in serving if not _bids(c, info.floor)),
        )
    metrics.INDEX_RELOADS.inc()
    index = ServingIndex(version=version, built_at=time.monotonic(), containers=containers, campaigns=tuple(infos))
    logger.info(
        "serving index built",
        extra={"serving_version": version, "containers": len(containers), "campaigns": len(infos)},
    )
    return index


# --------------------------------------------------------------------------- the script

# One round trip decides: the script checks, in rank order, each candidate's budget state (limits and spend
# live in Redis, see ads/budget.py), frequency cap and pacing, reserves the first that passes, and streams the
# decision. It acts only on the index it was given: when the serving version moved on (a campaign paused, a
# container switched off, in any process), it answers "stale" and does nothing, so a change is in force
# everywhere from the moment it is bumped. When a candidate's budget state is missing it answers "missing"
# and does nothing, so the engine can wait for the one shared build instead of skipping the campaign.
#
# KEYS: 1 stream, 2 version, then 3 per candidate: budget hash, day, frequency.
# ARGV: 1 the decision record (JSON, as if unfilled or house), 2 candidate count, 3 expiry (unix seconds),
#       4 the candidates as one JSON array of arrays (one argument, not several per candidate: packing
#       arguments is most of a decision's client-side Redis cost): price, cap count, cap period, pacing
#       share of the day elapsed (-1: ASAP), today's share of the remaining schedule, campaign id, creative
#       id, pricing, clearing CPM; 5 the index's serving version ('' accepts any); 6 '1' to skip candidates
#       whose state is missing instead of answering "missing".
# Returns {version, status, missing, refusal}: status -1 stale, -2 missing, 0 unfilled, i the winner's rank;
# refusal says why the best refused candidate was refused.
DECIDE_LUA = """
local version = redis.call('GET', KEYS[2]) or '0'
if ARGV[5] ~= '' and version ~= ARGV[5] then return {version, -1, {}, ''} end
local n = tonumber(ARGV[2])
local cands = {}
if n > 0 then cands = cjson.decode(ARGV[4]) end
local states = {}
local missing = {}
for i = 1, n do
  local s = redis.call('HMGET', KEYS[i * 3], 'ready', 'total', 'daily', 'spent')
  states[i] = s
  if not s[1] then table.insert(missing, i) end
end
if #missing > 0 and ARGV[6] ~= '1' then return {version, -2, missing, ''} end
local refusal = ''
for i = 1, n do
  local s = states[i]
  if s[1] then
    local k = i * 3
    local c = cands[i]
    local price = c[1]
    local total = tonumber(s[2] or '0')
    local daily = tonumber(s[3] or '-1')
    local spent = tonumber(s[4] or '0')
    local today = tonumber(redis.call('GET', KEYS[k + 1]) or '0')
    local why = ''
    if spent + price > total then
      why = 'budget_exhausted'
    elseif daily >= 0 and today + price > daily then
      why = 'daily_budget_exhausted'
    elseif c[2] > 0 and tonumber(redis.call('GET', KEYS[k + 2]) or '0') >= c[2] then
      why = 'frequency_capped'
    elseif c[4] >= 0 then
      -- EVEN: today's target is what is left at the start of the day times today's share of the
      -- schedule, at most the daily budget; what may be spent by now is that times the share elapsed.
      local target = (total - spent + today) * c[5]
      if daily >= 0 and daily < target then target = daily end
      if today + price > target * c[4] then why = 'paced' end
    end
    if why == '' then
      redis.call('HINCRBY', KEYS[k], 'spent', price)
      redis.call('INCRBY', KEYS[k + 1], price)
      redis.call('EXPIRE', KEYS[k + 1], 259200)
      if c[2] > 0 then
        if redis.call('INCR', KEYS[k + 2]) == 1 then redis.call('EXPIRE', KEYS[k + 2], c[3]) end
      end
      redis.call('XADD', KEYS[1], '*', 'b', ARGV[1], 'k', c[6], 'r', c[7], 'm', c[8],
                 'c', c[9], 'v', price, 'x', ARGV[3])
      return {version, i, missing, ''}
    end
    if refusal == '' then refusal = why end
  end
end
if refusal == '' and #missing > 0 then refusal = 'budget_state_missing' end
if refusal ~= '' then
  redis.call('XADD', KEYS[1], '*', 'b', ARGV[1], 'y', refusal)
else
  redis.call('XADD', KEYS[1], '*', 'b', ARGV[1])
end
return {version, 0, missing, refusal}
"""

STALE, MISSING = -1, -2


def pacing_shares(c: CampaignInfo, now: float, lookahead: float) -> tuple[float, float]:
    """EVEN pacing's two shares for ``now``: of today's serving window elapsed (plus a short lookahead, so
    spend follows the plan closely rather than lagging it), and of the remaining schedule that today is.
    ``(-1, 0)`` for ASAP."""
    if c.pacing != Pacing.EVEN:
        return -1.0, 0.0
    day_start = now - now % 86400
    start = max(day_start, c.start_ts)
    end = min(day_start + 86400, c.end_ts)
    if end <= start:
        return 1.0, 1.0
    elapsed = min(1.0, max(0.0, (now + lookahead - start) / (end - start)))
    return elapsed, (end - start) / max(end - start, c.end_ts - start)


# --------------------------------------------------------------------------- the engine


@dataclass(frozen=True)
class Player:
    id: int
    country: str = ""
    device: str = ""
    age_bracket: str = "unknown"
    ads_allowed: bool = False
    segments: frozenset[str] = frozenset()

    @property
    def paid_eligible(self) -> bool:
        return self.ads_allowed and self.age_bracket != "under13"


@dataclass
class Candidate:
    campaign: CampaignInfo
    creative: CreativeInfo
    price_micros: int = 0  # clearing price in eCPM terms, in millionths of a dollar
    charge_micros: int = 0  # what a win reserves: CPM price / 1000, or the CPC price, in micros

    @property
    def price_cpm(self) -> Decimal:
        return Decimal(self.price_micros).scaleb(-6)

    @property
    def charge(self) -> Decimal:
        return Decimal(self.charge_micros).scaleb(-6)

    @property
    def price_text(self) -> str:
        """The clearing CPM with its six decimals, as the API and the stream carry it."""
        return _micros_text(self.price_micros)


def _micros_text(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _statically_eligible(c: CampaignInfo, container: ContainerInfo) -> bool:
    """Rules that depend only on the container (checked once per index build)."""
    if container.type not in c.creatives:
        return False
    if c.games_in and container.game_id not in c.games_in:
        return False
    if container.game_id in c.games_out:
        return False
    if c.container_types and container.type not in c.container_types:
        return False
    return c.category not in container.blocked_categories


def _eligible(c: CampaignInfo, player: Player, now: float, dt: datetime) -> bool:
    """Rules that depend on the moment and the player (checked per request)."""
    if not c.start_ts <= now < c.end_ts:
        return False
    if c.days and dt.weekday() not in c.days:
        return False
    if c.hours and dt.hour not in c.hours:
        return False
    if c.countries_in and player.country not in c.countries_in:
        return False
    if player.country and player.country in c.countries_out:
        return False
    if c.devices and player.device not in c.devices:
        return False
    return not (c.segments and not (c.segments & player.segments))


def _bids(c: CampaignInfo, floor: Decimal) -> bool:
    return c.ecpm >= floor and c.ecpm > 0


def shortlist(ordered: tuple[CampaignInfo, ...], player: Player, now: float, dt: datetime) -> list[CampaignInfo]:
    """The eligible campaigns the auction needs, from ``ordered`` (best effective CPM first).

    The auction hands at most ``MAX_CANDIDATES`` to the script, and each of those pays the best bid
    below it from another advertiser. So the scan stops once it holds ``MAX_CANDIDATES`` (with the
    whole group tied at the last one's bid, so the random tie-break stays fair) and, strictly below
    that bid, campaigns of two different advertisers: every shortlisted campaign then has its
    runner-up inside the list, and nothing further down could change a price or a rank.
    """
    picked: list[CampaignInfo] = []
    threshold: Decimal | None = None
    below: set[int] = set()
    for c in ordered:
        if threshold is not None and c.ecpm < threshold and len(below) >= 2:
            break
        if not _eligible(c, player, now, dt):
            continue
        picked.append(c)
        if threshold is None:
            if len(picked) == MAX_CANDIDATES:
                threshold = c.ecpm
        elif c.ecpm < threshold:
            below.add(c.advertiser_id)
    return picked


def run_auction(candidates: list[Candidate], floor: Decimal, rng: random.Random) -> list[Candidate]:
    """Rank by effective CPM (random tie-break) and set each one's second price if it wins.

    A winner pays the larger of the best effective CPM below it from *another* advertiser and the
    floor, plus 0.01, never more than its own effective CPM. Bids under the floor do not take part.
    """
    # In integer micros (prices have six decimals; the index quantized every effective CPM): exact, and
    # several times cheaper than Decimal arithmetic on the hot path. CPC charges divide by the CTR estimate,
    # which only Decimal does exactly, so they keep it.
    floor_micros = budget.to_micros(floor)
    bidding = [c for c in candidates if c.campaign.ecpm_micros >= floor_micros and c.campaign.ecpm_micros > 0]
    random_key = rng.random
    # best first; equal effective CPMs in random order (one draw each: a uniform tie-break)
    bidding.sort(key=lambda c: (c.campaign.ecpm_micros, random_key()), reverse=True)
    count = len(bidding)
    for i, cand in enumerate(bidding):
        campaign = cand.campaign
        runner_up = 0  # the best effective CPM below from another advertiser
        for j in range(i + 1, count):
            other = bidding[j].campaign
            if other.advertiser_id != campaign.advertiser_id:
                runner_up = other.ecpm_micros
                break
        price = min(campaign.ecpm_micros, max(runner_up, floor_micros) + CENT_MICROS)
        cand.price_micros = price
        if campaign.pricing == Pricing.CPC:
            cpc = (Decimal(price).scaleb(-6) / (campaign.ctr * 1000)).quantize(SIX, rounding=ROUND_HALF_UP)
            cand.charge_micros = budget.to_micros(min(campaign.bid, cpc))
        else:
            cand.charge_micros = (price + 500) // 1000  # price / 1000, rounded half up, in micros
    return [c for c in bidding if c.charge_micros > 0]


@dataclass
class DecisionResult:
    body: dict[str, Any]
    outcome: str
    reason: str


class DecisionEngine:
    def __init__(self, clock=time.time) -> None:
        self._index: ServingIndex | None = None
        self._lock = threading.Lock()
        self._reloading = False
        self._rng = random.Random()  # noqa: S311 - auction tie-breaks, not secrets
        self.clock = clock  # injected in the pacing simulation
        self._day: tuple[int, str] = (-1, "")

    # -- index lifecycle

    def index(self) -> ServingIndex:
        index = self._index
        if index is None:
            with self._lock:
                if self._index is None:
                    self._index = build_index(self._read_version())
                index = self._index
        elif time.monotonic() - index.built_at > settings.SERVING_INDEX_MAX_AGE:
            self._reload_in_background(index.version)
        return index

    def _read_version(self) -> int:
        try:
            return int(get_redis().get(SERVING_VERSION_KEY) or 0)
        except redis.RedisError:
            return -1

    def _reload_in_background(self, version: int) -> None:
        """The timer's reload (CTR estimates drift without a version bump): off the request path."""
        with self._lock:
            if self._reloading:
                return
            self._reloading = True

        def reload() -> None:
            from django.db import connection

            try:
                index = build_index(self._read_version())
                with self._lock:
                    self._index = index
            except Exception:
                logger.exception("serving index reload failed")
            finally:
                self._reloading = False
                if settings.DECISION_ENGINE_BACKGROUND:
                    connection.close()

        if settings.DECISION_ENGINE_BACKGROUND:
            threading.Thread(target=reload, name="serving-index-reload", daemon=True).start()
        else:
            reload()

    def _refresh(self, version: int, seen: ServingIndex) -> ServingIndex:
        """The index for serving ``version``: one build per process, the other threads wait for it."""
        with self._lock:
            current = self._index
            if current is not None and current is not seen and current.version == version:
                return current
            self._index = build_index(version)
            return self._index

    def reload_now(self) -> ServingIndex:
        """Rebuild synchronously (tests, and a container unknown to an old index)."""
        index = build_index(self._read_version())
        with self._lock:
            self._index = index
        return index

    def reset(self) -> None:
        self._index = None

    # -- deciding

    def decide(self, *, container_id: int, game_id: int, player: Player, server_id: str = "") -> DecisionResult:
        started = time.perf_counter()
        index = self.index()
        container = index.containers.get(container_id)
        if container is None:
            index, container = self._unknown_container(index, container_id)
        if container is None or container.game_id != game_id:
            raise DomainError("not_found", "No such container in this game.")

        now = self.clock()
        dt = datetime.fromtimestamp(now, UTC)
        decision_id = str(uuid.uuid4())
        expires = now + settings.DECISION_RESERVATION_SECONDS
        base = {"id": decision_id, "game": game_id, "container": container.id, "player": player.id,
                "country": player.country, "device": player.device, "server": server_id[:100], "at": now}  # fmt: skip
        house = None
        allow_missing = False
        # At most: the index moved on (rebuild, retry), state was missing (wait for its build, retry), and a
        # last try that skips what is still missing. Each try but the deciding one changes nothing in Redis.
        for _attempt in range(4):
            ranked, reason = self._rank(container, player, now, dt)
            house = (
                self._rng.choice(container.house)
                if container.status == ContainerStatus.ACTIVE and container.house
                else None
            )
            record = {**base, "state": "HOUSE", "reason": reason, "item": house.playlist_item_id} if house else {
                **base, "state": "UNFILLED", "reason": reason}  # fmt: skip
            try:
                version, status, missing, refusal = _decide_script(
                    *self._script_call(ranked, player, now, dt, expires, record, index.version, allow_missing)
                )
            except redis.RedisError:
                logger.warning("decision degraded: redis unavailable")
                metrics.decision_counted("unfilled", "degraded")
                metrics.DECISION_LATENCY.observe(time.perf_counter() - started)
                return DecisionResult({"filled": False, "reason": "degraded"}, "unfilled", "degraded")
            if status == STALE:
                index = self._refresh(int(version), index)
                container = index.containers.get(container_id)
                if container is None or container.game_id != game_id:
                    raise DomainError("not_found", "No such container in this game.")
                continue
            if status == MISSING:
                ids = [ranked[i - 1].campaign.id for i in missing]
                try:
                    still = budget.budget_ensure(campaign_ids=ids, wait=settings.DECISION_BUDGET_WAIT_SECONDS)
                except Exception:
                    logger.exception("budget state build failed")
                    still = ids
                allow_missing = bool(still)
                continue
            break
        else:  # the index kept moving: serve nothing rather than from an index known to be old
            metrics.DECISION_LATENCY.observe(time.perf_counter() - started)
            metrics.decision_counted("unfilled", "degraded")
            return DecisionResult({"filled": False, "reason": "degraded"}, "unfilled", "degraded")
        metrics.DECISION_LATENCY.observe(time.perf_counter() - started)
        if refusal:
            refusal = refusal.decode() if isinstance(refusal, bytes) else refusal

        if status > 0:
            cand = ranked[status - 1]
            metrics.RESERVATIONS.inc()
            metrics.decision_counted("campaign", "")
            claims = tokens.TrackingClaims(
                decision_id=decision_id, container_id=container.id, game_id=game_id, player_id=player.id,
                campaign_id=cand.campaign.id, creative_id=cand.creative.id, pricing=cand.campaign.pricing,
                price_micros=cand.charge_micros, issued_at=int(now), expires_at=int(expires),
            )  # fmt: skip
            body = {
                "filled": True,
                "source": "campaign",
                "decision_id": decision_id,
                "expires_at": _iso(expires),
                "campaign_id": cand.campaign.id,
                "roblox_ad_campaign_id": cand.campaign.roblox_ad_campaign_id,
                "creative": cand.creative.payload,
                "price_cpm": cand.price_text,
                "pricing": cand.campaign.pricing,
                "tracking_token": tokens.sign(claims),
            }
            return DecisionResult(body, "campaign", "")
        if refusal and reason == "no_eligible_campaign":
            reason = refusal
        if house is not None:
            metrics.decision_counted("house", reason)
            claims = tokens.TrackingClaims(
                decision_id=decision_id, container_id=container.id, game_id=game_id, player_id=player.id,
                campaign_id=None, creative_id=None, pricing="", price_micros=0, issued_at=int(now),
                expires_at=int(expires),
            )  # fmt: skip
            body = {
                "filled": True,
                "source": "house",
                "decision_id": decision_id,
                "expires_at": _iso(expires),
                "creative": house.payload,
                "tracking_token": tokens.sign(claims),
            }
            return DecisionResult(body, "house", reason)
        metrics.decision_counted("unfilled", reason)
        return DecisionResult({"filled": False, "reason": reason, "decision_id": decision_id}, "unfilled", reason)

    def _unknown_container(self, index: ServingIndex, container_id: int) -> tuple[ServingIndex, ContainerInfo | None]:
        """A container this index does not know: created since it was built (the serving version says so),
        or unknown for good. One Redis read; a rebuild only when the version moved on, or, as a fallback for
        a lost bump, when the index is older than ``SERVING_UNKNOWN_CONTAINER_RELOAD``."""
        version = self._read_version()
        if version != index.version:
            index = self._refresh(version, index)
        elif time.monotonic() - index.built_at > settings.SERVING_UNKNOWN_CONTAINER_RELOAD:
            index = self.reload_now()
        return index, index.containers.get(container_id)

    def _rank(self, container: ContainerInfo, player: Player, now: float, dt: datetime) -> tuple[list[Candidate], str]:
        """The auction's ranked candidates for this request, and the reason to give if none is served."""
        if container.status != ContainerStatus.ACTIVE:
            return [], "container_inactive"
        if not player.paid_eligible:
            return [], "player_not_eligible"
        kind, choice = container.type, self._rng.choice
        candidates = []
        for c in shortlist(container.candidates, player, now, dt):
            creatives = c.creatives[kind]
            # one creative (the common case) needs no draw; several rotate at random
            candidates.append(Candidate(c, creatives[0] if len(creatives) == 1 else choice(creatives)))
        ranked = run_auction(candidates, container.floor, self._rng)[:MAX_CANDIDATES]
        if (candidates and not ranked) or (
            not candidates and any(_eligible(c, player, now, dt) for c in container.under_floor)
        ):
            return ranked, "below_floor"
        return ranked, "no_eligible_campaign"

    def _script_call(self, ranked, player, now, dt, expires, record, version, allow_missing):
        keys = [DECISION_STREAM, SERVING_VERSION_KEY]
        day_number, day = self._day
        if day_number != int(now // 86400):  # the day's stamp, formatted once a day rather than per decision
            day = budget.day_stamp(dt)
            self._day = (int(now // 86400), day)
        lookahead = settings.PACING_LOOKAHEAD_SECONDS
        player_id = str(player.id)
        packed = []
        for cand in ranked:
            c = cand.campaign
            keys += [c.state_key, c.daily_prefix + day, c.frequency_prefix + player_id]
            elapsed, share = pacing_shares(c, now, lookahead) if c.pacing == Pacing.EVEN else (-1.0, 0.0)
            packed.append([cand.charge_micros, c.cap_count, c.cap_period, elapsed, share, str(c.id),
                           str(cand.creative.id), c.pricing, cand.price_text])  # fmt: skip
        args = [_dumps(record), len(ranked), int(expires), _dumps(packed) if packed else "", str(version),
                "1" if allow_missing else "0"]  # fmt: skip
        return keys, args


_dumps = msgspec.json.Encoder().encode  # bytes, as redis-py sends them
_decide_script = LuaScript(DECIDE_LUA)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


engine = DecisionEngine()


def ad_decide(*, container_id: int, game_id: int, player: Player, server_id: str = "") -> DecisionResult:
    """Decide what one container shows one player (the service behind ``POST /api/v1/decisions``)."""
    return engine.decide(container_id=container_id, game_id=game_id, player=player, server_id=server_id)
