"""Every write of the scoreboard: score tokens, signed score updates, bans, action types, rebuilds, snapshots.

The score update (:func:`score_submit`) is a hot path. Its checks run in this
order, cheapest and most fundamental first:

1. the Bearer JWT (HS256, key derived per game from ``SECRET_KEY``; done by
   :func:`score_token_authenticate`, which the API's authentication class calls);
2. the game key that issued the token, then ``X-Signature`` = hex HMAC-SHA256
   of the raw body with that key's signing secret (constant-time compare);
3. the body, and its ``timestamp`` within ``SCORE_TIMESTAMP_WINDOW`` seconds;
4. one Redis round trip (a Lua script): blocks, revoked tokens, per-player and
   per-key rate limits, and the nonce (``SET NX EX`` for the whole window);
5. the action type (an in-process cache), then one PostgreSQL transaction that
   locks the player's ``Score`` row (``FOR UPDATE``), checks revocation and ban
   (and cooldown, hourly maximum and streak for action types with rules), and
   writes the history row and the new score; without rules this is a single
   statement, one round trip; every statement is prepared once per connection;
6. after the commit, one Lua script updates the sorted set and publishes the
   change (:mod:`scoreboard.leaderboard`).

Redis down at step 4 is a 503 and nothing is credited: replay protection is
never skipped. Token and signature failures are counted per game and address
and per game and key; past a threshold the address or key is blocked for a
while (429 ``rate_limited`` with ``details.reason = "blocked"``), logged as a
warning and counted in ``scoreboard_blocks_total``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import math
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import psycopg
import redis
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from adplatform.api.errors import DomainError
from adplatform.api.throttling import parse_rate
from adplatform.localcache import TTLCache
from adplatform.redis import LuaScript, get_redis
from games import keycache
from games.models import Game, GameApiKey
from scoreboard import leaderboard, metrics
from scoreboard.models import (
    MAX_ROBLOX_ID,
    ActionType,
    Player,
    RevokedToken,
    Score,
    ScoreboardSnapshot,
    ScoreHistory,
    ScoreSource,
)
from scoreboard.update_body import update_body_decode

logger = logging.getLogger(__name__)

MAX_TOKEN_TTL = 900  # shared/API.md: a score token lives at most 15 minutes
JWT_ALGORITHM = "HS256"
MAX_BODY_BYTES = 4096
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def _setting(name: str, default):
    return getattr(settings, name, default)


def _token_ttl() -> int:
    return max(1, min(int(_setting("SCORE_TOKEN_TTL_SECONDS", MAX_TOKEN_TTL)), MAX_TOKEN_TTL))


def _timestamp_window() -> int:
    return int(_setting("SCORE_TIMESTAMP_WINDOW", 300))


# --------------------------------------------------------------------------- Redis keys (scoreboard hot state)


def _sb(game_id: int) -> str:
    # One hash tag per game: the pre-check script's keys all live in one Redis Cluster slot.
    return f"sb:{{{game_id}}}"


def _nonce_key(game_id: int, nonce: str) -> str:
    return f"{_sb(game_id)}:nonce:{nonce}"


def _revoked_key(game_id: int, jti: str) -> str:
    return f"{_sb(game_id)}:revoked:{jti}"


def _not_before_key(game_id: int, player_id: int) -> str:
    return f"{_sb(game_id)}:nbf:{player_id}"


def _revocations_ready_key(game_id: int) -> str:
    return f"{_sb(game_id)}:revocations"


def _block_key(game_id: int, scope: str, ident: str) -> str:
    return f"{_sb(game_id)}:block:{scope}:{ident}"


def _fail_key(game_id: int, scope: str, ident: str) -> str:
    return f"{_sb(game_id)}:fail:{scope}:{ident}"


# --------------------------------------------------------------------------- caches


@dataclass(frozen=True)
class SigningKey:
    """What the update path needs of a game API key, cached in process (by id; tokens carry it as ``kid``)."""

    key_id: int
    game_id: int
    game_slug: str
    game_active: bool
    signing_secret: str
    revoked: bool


@dataclass(frozen=True)
class ActionRule:
    """An action type as the update path reads it (cached in process per game)."""

    id: int
    key: str
    base_score: int
    cooldown_seconds: int
    max_per_hour: int | None
    is_active: bool
    streak_window: int | None = None
    streak_step_percent: int = 0
    streak_max_percent: int = 100

    @classmethod
    def of(cls, action_type: ActionType) -> ActionRule:
        streak = (action_type.rules or {}).get("streak") or {}
        return cls(
            id=action_type.pk,
            key=action_type.key,
            base_score=action_type.base_score,
            cooldown_seconds=action_type.cooldown_seconds,
            max_per_hour=action_type.max_per_hour,
            is_active=action_type.is_active,
            streak_window=streak.get("window_seconds"),
            streak_step_percent=streak.get("step_percent", 0),
            streak_max_percent=streak.get("max_percent", 100),
        )

    @property
    def reads_history(self) -> bool:
        return bool(self.cooldown_seconds or self.max_per_hour or self.streak_window)


_signing_keys: TTLCache[SigningKey | None] = TTLCache(
    ttl=getattr(settings, "GAME_API_KEY_CACHE_SECONDS", 5.0), name=keycache.KEY_IDS
)
_action_rules: TTLCache[dict[str, ActionRule]] = TTLCache(ttl=getattr(settings, "SCORE_ACTION_TYPE_CACHE_SECONDS", 5.0))
_jwt_keys: dict[tuple[str, int], bytes] = {}
_dirty_boards: set[int] = set()


def _signing_key(key_id: int) -> SigningKey | None:
    def load() -> SigningKey | None:
        key = GameApiKey.objects.select_related("game").filter(pk=key_id).first()
        if key is None:
            return None
        return SigningKey(
            key_id=key.pk,
            game_id=key.game_id,
            game_slug=key.game.slug,
            game_active=key.game.is_active,
            signing_secret=key.signing_secret,
            revoked=key.revoked_at is not None,
        )

    return _signing_keys.get_or_load(key_id, load)


def action_rules(game_id: int) -> dict[str, ActionRule]:
    """The game's action types by key (active or not), from the in-process cache."""
    return _action_rules.get_or_load(
        game_id, lambda: {a.key: ActionRule.of(a) for a in ActionType.objects.filter(game_id=game_id)}
    )


def _jwt_key(game_id: int) -> bytes:
    """The per-game HS256 key: HMAC(SECRET_KEY, "score-jwt:<game id>"); a token of one game is no token of another."""
    cache_key = (settings.SECRET_KEY, game_id)
    key = _jwt_keys.get(cache_key)
    if key is None:
        key = hmac.new(settings.SECRET_KEY.encode(), f"score-jwt:{game_id}".encode(), hashlib.sha256).digest()
        _jwt_keys[cache_key] = key
    return key


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _truncate_ms(when: datetime) -> datetime:
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def _retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def _redis_down(exc: Exception) -> DomainError:
    logger.warning("score service refused: redis unavailable", extra={"error": type(exc).__name__})
    return DomainError(
        "service_unavailable",
        "The score service is unavailable (Redis); nothing was credited. Retry later.",
        headers=_retry_after(5),
    )


# --------------------------------------------------------------------------- players


def player_upsert(*, game_id: int, player_id: int, username: str = "") -> Player:
    """The game's player with this Roblox user id, created with an empty score when new."""
    player = Player.objects.filter(game_id=game_id, roblox_user_id=player_id).first()
    if player is None:
        with transaction.atomic():
            player, created = Player.objects.get_or_create(
                game_id=game_id, roblox_user_id=player_id, defaults={"username": username}
            )
            if created:
                Score.objects.create(player=player, game_id=game_id)
    if username and player.username != username:
        player.username = username
        player.save(update_fields=["username", "updated_at"])
    return player


@transaction.atomic
def player_ban(*, player: Player, reason: str = "", by=None) -> Player:
    """Ban a player: score updates are refused (403) and the player leaves the leaderboard."""
    now = timezone.now()
    Player.objects.filter(pk=player.pk).update(is_banned=True, banned_at=now, ban_reason=reason, updated_at=now)
    player.is_banned, player.banned_at, player.ban_reason = True, now, reason
    score = Score.objects.filter(player=player).first()
    _after_commit_board(player=player, score=score, op="d")
    logger.info("player banned", extra={"player_id": player.pk, "game_id": player.game_id, "by": _who(by)})
    return player


@transaction.atomic
def player_unban(*, player: Player, by=None) -> Player:
    """Lift a ban: the player's score (kept while banned) is back on the leaderboard."""
    now = timezone.now()
    Player.objects.filter(pk=player.pk).update(is_banned=False, banned_at=None, ban_reason="", updated_at=now)
    player.is_banned, player.banned_at, player.ban_reason = False, None, ""
    score = Score.objects.filter(player=player).first()
    if score is not None and score.reached_at is not None:
        _after_commit_board(player=player, score=score, op="p")
    logger.info("player unbanned", extra={"player_id": player.pk, "game_id": player.game_id, "by": _who(by)})
    return player


def _who(user) -> int | None:
    return getattr(user, "pk", None)


def _after_commit_board(*, player: Player, score: Score | None, op: str) -> None:
    game_id, slug = player.game_id, Game.objects.filter(pk=player.game_id).values_list("slug", flat=True).first()

    def apply() -> None:
        try:
            leaderboard.board_apply(
                board_id=game_id,
                slug=slug or "",
                player_id=player.roblox_user_id,
                version=score.version if score else 0,
                score=score.score if score else 0,
                reached_ms=_ms(score.reached_at) if score and score.reached_at else 0,
                username=player.username,
                op=op,
                now_ms=int(time.time() * 1000),
            )
        except redis.RedisError:
            metrics.BOARD_SYNC_FAILURES.inc()
            _dirty_boards.add(game_id)
            logger.error("leaderboard not updated: redis unavailable", extra={"game_id": game_id, "op": op})

    transaction.on_commit(apply)


# --------------------------------------------------------------------------- score tokens


@dataclass(frozen=True)
class ScoreClaims:
    """A verified score token. It is also what ``request.user``/``request.auth`` hold on the update endpoint."""

    player_id: int  # the Roblox user id (``sub``)
    player_pk: int
    game_id: int
    key_id: int
    jti: str
    issued_at: float
    expires_at: int

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def pk(self) -> str:
        return f"score-player:{self.player_pk}"


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    jti: str
    player: Player


@transaction.atomic
def score_token_issue(*, game_id: int, key_id: int, player_id: int, username: str = "") -> IssuedToken:
    """Mint a player's score token (HS256, at most 15 minutes) for a game server holding the game's key.

    Claims: ``sub`` (Roblox user id, a string as RFC 7519 wants), ``game``,
    ``kid`` (the issuing key: its signing secret checks the updates), ``pid``
    (the player row), ``jti``, ``iat`` (to the millisecond) and ``exp``.
    """
    player = player_upsert(game_id=game_id, player_id=player_id, username=username)
    if player.is_banned:
        raise DomainError("player_banned", "This player is banned from the game's leaderboard.")
    now = time.time()
    expires = int(now) + _token_ttl()
    jti = uuid.uuid4().hex
    claims = {
        "sub": str(player_id),
        "game": game_id,
        "kid": key_id,
        "pid": player.pk,
        "jti": jti,
        "iat": math.floor(now * 1000) / 1000,
        "exp": expires,
    }
    token = jwt.encode(claims, _jwt_key(game_id), algorithm=JWT_ALGORITHM)
    metrics.TOKENS_ISSUED.inc()
    return IssuedToken(token=token, expires_at=datetime.fromtimestamp(expires, tz=UTC), jti=jti, player=player)


def _token_invalid(message: str = "The score token is malformed or badly signed.") -> DomainError:
    return DomainError("token_invalid", message, headers={"WWW-Authenticate": 'Bearer realm="scores"'})


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ROBLOX_ID:
        return None
    return value


def _unverified_game(token: str) -> int:
    """The ``game`` claim before any check (it picks the verification key); 0 when there is none."""
    try:
        segment = token.split(".")[1]
        payload = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return 0
    return (_positive_int(payload.get("game")) or 0) if isinstance(payload, dict) else 0


# Game servers send each player's token with every update: a token verified once is remembered (by its exact
# string) for as long as any token lives, and its expiry is still checked on every use. A shorter memory
# only repeats the HMAC and JSON work: a signature that verified once verifies again, and revocation is
# checked in Redis on every update anyway.
_verified_tokens: TTLCache[ScoreClaims] = TTLCache(ttl=MAX_TOKEN_TTL, max_entries=20_000)


def score_token_verify(*, token: str) -> ScoreClaims:
    """Check a score token's signature, expiry and shape (no Redis, no database)."""
    if not token or len(token) > 2048:
        raise _token_invalid()
    claims = _verified_tokens.get_or_load(token, lambda: _token_decode(token))
    if claims.expires_at <= time.time():
        raise _token_expired()
    return claims


def _token_expired() -> DomainError:
    return DomainError(
        "token_expired",
        "The score token has expired; ask the game server for a new one.",
        headers={"WWW-Authenticate": 'Bearer realm="scores", error="invalid_token"'},
    )


def _token_decode(token: str) -> ScoreClaims:
    game_id = _unverified_game(token)
    if not game_id:
        raise _token_invalid()
    try:
        payload = jwt.decode(
            token,
            _jwt_key(game_id),
            algorithms=[JWT_ALGORITHM],
            options={"require": ["sub", "game", "kid", "pid", "jti", "iat", "exp"], "verify_iat": False},
        )
    except jwt.ExpiredSignatureError:
        raise _token_expired() from None
    except jwt.PyJWTError:
        raise _token_invalid() from None
    sub, iat, exp, jti = payload["sub"], payload["iat"], payload["exp"], payload["jti"]
    player_id = int(sub) if isinstance(sub, str) and sub.isdigit() and len(sub) <= 19 else None
    numbers = [_positive_int(payload["kid"]), _positive_int(payload["pid"]), _positive_int(player_id)]
    if (
        None in numbers
        or payload["game"] != game_id
        or not isinstance(jti, str)
        or not 0 < len(jti) <= 64
        or isinstance(iat, bool)
        or not isinstance(iat, int | float)
        or not isinstance(exp, int)
        or exp - iat > MAX_TOKEN_TTL + 1  # never honour a longer life than we issue, whoever signed it
    ):
        raise _token_invalid()
    return ScoreClaims(
        player_id=player_id,
        player_pk=payload["pid"],
        game_id=game_id,
        key_id=payload["kid"],
        jti=jti,
        issued_at=float(iat),
        expires_at=exp,
    )


def score_token_authenticate(*, authorization: str | None, ip: str | None) -> ScoreClaims:
    """The ``Authorization: Bearer`` header's token, verified; bad tokens count towards blocking the address."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _token_invalid("Send the player's score token as `Authorization: Bearer <token>`.")
    try:
        return score_token_verify(token=token)
    except DomainError as exc:
        if exc.code == "token_invalid":
            _auth_failure(error=exc, game_id=_unverified_game(token), key_id=None, ip=ip)
        raise


@transaction.atomic
def score_token_revoke(*, game_id: int, token: str | None = None, player_id: int | None = None, by=None) -> None:
    """Revoke one token (by its ``jti``) or every token of one player of the game.

    PostgreSQL keeps the revocation (``RevokedToken`` / ``Player.tokens_not_before``)
    and Redis a copy for the update path, written in the same transaction: if
    Redis cannot take it, nothing is revoked and the caller gets a 503.
    """
    if token is not None:
        try:
            claims = score_token_verify(token=token)
        except DomainError as exc:
            if exc.code == "token_expired":
                return  # already refused everywhere
            raise ValidationError({"token": "This is not a valid score token."}) from None
        if claims.game_id != game_id:
            raise ValidationError({"token": "This token was not issued for this game."})
        _jti_revoke(
            game_id=game_id,
            jti=claims.jti,
            player_pk=claims.player_pk,
            expires_at=claims.expires_at,
            reason=RevokedToken.Reason.STAFF if by is not None else RevokedToken.Reason.GAME_SERVER,
            by=by,
        )
        return
    if player_id is None:
        raise ValidationError({"token": "Send `token` or `player_id`."})
    player = Player.objects.filter(game_id=game_id, roblox_user_id=player_id).first()
    if player is not None:
        player_tokens_revoke(player=player, by=by)


def _jti_revoke(*, game_id: int, jti: str, player_pk: int | None, expires_at: int, reason: str, by=None) -> None:
    RevokedToken.objects.get_or_create(
        jti=jti,
        defaults={
            "game_id": game_id,
            "player_id": player_pk if Player.objects.filter(pk=player_pk, game_id=game_id).exists() else None,
            "expires_at": datetime.fromtimestamp(expires_at, tz=UTC),
            "reason": reason,
            "revoked_by": by,
        },
    )
    ttl = max(1, math.ceil(expires_at - time.time()) + 1)
    try:
        get_redis().set(_revoked_key(game_id, jti), 1, ex=ttl)
    except redis.RedisError as exc:
        raise _redis_down(exc) from exc
    metrics.TOKENS_REVOKED.labels(scope="token").inc()
    logger.info("score token revoked", extra={"game_id": game_id, "jti": jti, "by": getattr(by, "pk", None)})


@transaction.atomic
def player_tokens_revoke(*, player: Player, by=None) -> Player:
    """Refuse every score token of this player issued until now (newer tokens work)."""
    now = _truncate_ms(timezone.now())
    Player.objects.filter(pk=player.pk).update(tokens_not_before=now, updated_at=timezone.now())
    player.tokens_not_before = now
    try:
        get_redis().set(
            _not_before_key(player.game_id, player.roblox_user_id), f"{now.timestamp():.3f}", ex=MAX_TOKEN_TTL + 5
        )
    except redis.RedisError as exc:
        raise _redis_down(exc) from exc
    metrics.TOKENS_REVOKED.labels(scope="player").inc()
    logger.info(
        "score tokens of player revoked",
        extra={"game_id": player.game_id, "player_id": player.pk, "by": getattr(by, "pk", None)},
    )
    return player


def _revocations_reload(game_id: int) -> None:
    """Copy the game's live revocations from PostgreSQL to Redis (after a flush or restart lost them)."""
    now = timezone.now()
    pipe = get_redis().pipeline(transaction=False)
    for jti, expires_at in RevokedToken.objects.filter(game_id=game_id, expires_at__gt=now).values_list(
        "jti", "expires_at"
    ):
        pipe.set(_revoked_key(game_id, jti), 1, ex=max(1, math.ceil((expires_at - now).total_seconds()) + 1))
    recent = now - timedelta(seconds=MAX_TOKEN_TTL + 5)
    for roblox_id, not_before in Player.objects.filter(game_id=game_id, tokens_not_before__gt=recent).values_list(
        "roblox_user_id", "tokens_not_before"
    ):
        pipe.set(_not_before_key(game_id, roblox_id), f"{not_before.timestamp():.3f}", ex=MAX_TOKEN_TTL + 5)
    pipe.set(_revocations_ready_key(game_id), 1)
    pipe.execute()
    logger.info("score token revocations reloaded into redis", extra={"game_id": game_id})


def revoked_tokens_purge() -> int:
    """Delete revocations of tokens that have expired anyway."""
    deleted, _ = RevokedToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


# --------------------------------------------------------------------------- failures and blocks

# KEYS: pairs of (failure counter, block key)   ARGV: window threshold block_seconds
# Returns per pair: block ttl (-2/-1 when not blocked), 1 when this failure started the block, the count.
_FAILURE_LUA = """
local out = {}
for i = 1, #KEYS, 2 do
  local c = redis.call('INCR', KEYS[i])
  if c == 1 then redis.call('EXPIRE', KEYS[i], tonumber(ARGV[1])) end
  local ttl = redis.call('TTL', KEYS[i + 1])
  local started = 0
  if ttl < 0 and c >= tonumber(ARGV[2]) then
    redis.call('SET', KEYS[i + 1], '1', 'EX', tonumber(ARGV[3]))
    redis.call('DEL', KEYS[i])
    ttl = tonumber(ARGV[3])
    started = 1
  end
  out[#out + 1] = ttl
  out[#out + 1] = started
  out[#out + 1] = c
end
return out
"""


def _auth_failure(*, error: DomainError, game_id: int, key_id: int | None, ip: str | None) -> None:
    """Count a token or signature failure against the address (and key); raise 429 once it is blocked."""
    metrics.AUTH_FAILURES.labels(kind=error.code).inc()
    scopes = [("ip", ip or "unknown")]
    if key_id is not None:
        scopes.append(("key", str(key_id)))
    keys: list[str] = []
    for scope, ident in scopes:
        keys += [_fail_key(game_id, scope, ident), _block_key(game_id, scope, ident)]
    window = int(_setting("SCORE_AUTH_FAILURE_WINDOW", 60))
    threshold = int(_setting("SCORE_AUTH_FAILURE_LIMIT", 20))
    block_seconds = int(_setting("SCORE_AUTH_BLOCK_SECONDS", 300))
    try:
        reply = get_redis().eval(_FAILURE_LUA, len(keys), *keys, window, threshold, block_seconds)
    except redis.RedisError:
        logger.warning("score auth failure not counted: redis unavailable")
        raise error from None
    logger.info("score request refused: %s", error.code, extra={"game_id": game_id, "key_id": key_id, "ip": ip})
    blocked_for = 0
    for i, (scope, ident) in enumerate(scopes):
        ttl, started, count = (int(v) for v in reply[i * 3 : i * 3 + 3])
        if started:
            metrics.BLOCKS.labels(scope=scope).inc()
            logger.warning(
                "score submissions blocked after repeated %s",
                error.code,
                extra={"game_id": game_id, "scope": scope, "ident": ident, "failures": count, "seconds": ttl},
            )
        if ttl > 0:
            blocked_for = max(blocked_for, ttl)
    if blocked_for:
        raise _blocked(blocked_for) from error
    raise error


def _blocked(seconds: int) -> DomainError:
    return DomainError(
        "rate_limited",
        "Too many failed token or signature checks from this key or address; it is blocked for a while.",
        details={"reason": "blocked", "retry_after": seconds},
        headers=_retry_after(seconds),
    )


# --------------------------------------------------------------------------- score updates


@dataclass(frozen=True)
class ScoreUpdate:
    player_id: int
    score: int
    previous_score: int
    increment: int
    rank: int | None
    action_type: str
    history_id: int
    streak: int
    multiplier_percent: int


@dataclass(frozen=True)
class _UpdateBody:
    action_type: str
    action_id: str
    nonce: str
    timestamp: float


def _signature_check(
    *, key: SigningKey, raw_body: bytes, signature: str | None, ip: str | None, secret: str | None = None
) -> str:
    """Constant-time check of ``X-Signature``; ``secret`` is a server signing key's, else the game key's own."""
    expected = hmac.new((secret or key.signing_secret).encode(), raw_body, hashlib.sha256).hexdigest()
    given = (signature or "").strip().lower()
    if not _HEX64.match(given) or not hmac.compare_digest(expected, given):
        error = DomainError(
            "signature_invalid",
            "X-Signature must be the hex HMAC-SHA256 of the raw body, keyed with the game key's signing secret"
            " (or with the secret of the server signing key named by X-Signing-Key).",
        )
        _auth_failure(error=error, game_id=key.game_id, key_id=key.key_id, ip=ip)
    return given


# KEYS: block_key block_ip revocations_ready revoked_jti not_before rl_player rl_key nonce
# ARGV: iat player_limit player_period key_limit key_period nonce_ttl
_PRECHECK_LUA = """
local ttl = redis.call('TTL', KEYS[1])
if ttl > 0 then return {'blocked', ttl} end
ttl = redis.call('TTL', KEYS[2])
if ttl > 0 then return {'blocked', ttl} end
if redis.call('EXISTS', KEYS[3]) == 0 then return {'reload', 0} end
if redis.call('EXISTS', KEYS[4]) == 1 then return {'revoked', 0} end
local nbf = redis.call('GET', KEYS[5])
if nbf and tonumber(ARGV[1]) < tonumber(nbf) then return {'revoked', 0} end
local c = redis.call('INCR', KEYS[6])
if c == 1 then redis.call('EXPIRE', KEYS[6], tonumber(ARGV[3]) + 1) end
if c > tonumber(ARGV[2]) then return {'rate_limited_player', 0} end
c = redis.call('INCR', KEYS[7])
if c == 1 then redis.call('EXPIRE', KEYS[7], tonumber(ARGV[5]) + 1) end
if c > tonumber(ARGV[4]) then return {'rate_limited_key', 0} end
if not redis.call('SET', KEYS[8], '1', 'NX', 'EX', tonumber(ARGV[6])) then return {'nonce_reused', 0} end
return {'ok', 0}
"""
_precheck_script = LuaScript(_PRECHECK_LUA)


def _precheck(*, claims: ScoreClaims, nonce: str, ip: str | None, now: float) -> None:
    """One round trip: blocks, revocations, rate limits, then the nonce (claimed only if all else passed)."""
    g = claims.game_id
    player_limit, player_period = parse_rate(_setting("SCORE_RATE_PER_PLAYER", "120/min"))
    key_limit, key_period = parse_rate(_setting("SCORE_RATE_PER_KEY", "60000/min"))
    player_window, key_window = int(now // player_period), int(now // key_period)
    keys = [
        _block_key(g, "key", str(claims.key_id)),
        _block_key(g, "ip", ip or "unknown"),
        _revocations_ready_key(g),
        _revoked_key(g, claims.jti),
        _not_before_key(g, claims.player_id),
        f"{_sb(g)}:rl:p:{claims.player_id}:{player_window}",
        f"{_sb(g)}:rl:k:{claims.key_id}:{key_window}",
        _nonce_key(g, nonce),
    ]
    # A nonce must be refused for as long as its request could still be accepted: the timestamp may lie
    # up to the window ahead of the first sighting, and stays acceptable for the window after it.
    nonce_ttl = 2 * _timestamp_window() + 1
    args = [f"{claims.issued_at:.3f}", player_limit, player_period, key_limit, key_period, nonce_ttl]
    for _attempt in range(2):
        verdict, seconds = _precheck_script(keys, args)
        verdict = verdict.decode()
        if verdict != "reload":
            break
        _revocations_reload(g)
    if verdict == "ok":
        return
    if verdict == "blocked":
        raise _blocked(int(seconds))
    if verdict == "revoked":
        raise DomainError(
            "token_revoked", "This score token was revoked.", headers={"WWW-Authenticate": 'Bearer realm="scores"'}
        )
    if verdict == "rate_limited_player":
        wait = (player_window + 1) * player_period - now
        raise DomainError(
            "rate_limited", "Too many score updates for this player.",
            details={"reason": "player_rate"}, headers=_retry_after(wait),
        )  # fmt: skip
    if verdict == "rate_limited_key":
        wait = (key_window + 1) * key_period - now
        raise DomainError(
            "rate_limited", "Too many score updates for this game key.",
            details={"reason": "key_rate"}, headers=_retry_after(wait),
        )  # fmt: skip
    if verdict == "nonce_reused":
        raise DomainError("nonce_reused", "This nonce was already used; send a new one with every request.")
    raise DomainError("service_unavailable", "The score service could not check the request.")  # reload loop


def score_signing_key(*, claims: ScoreClaims) -> SigningKey:
    """The live game key that issued the token (cached); 401 when it is gone, revoked or its game deactivated."""
    key = _signing_key(claims.key_id)
    if key is None or key.game_id != claims.game_id:
        raise _token_invalid("The key that issued this token does not exist.")
    if key.revoked or not key.game_active:
        raise DomainError(
            "token_revoked",
            "The game key that issued this token was revoked, or the game is deactivated.",
            headers={"WWW-Authenticate": 'Bearer realm="scores"'},
        )
    return key


def score_submit(
    *,
    claims: ScoreClaims,
    raw_body: bytes,
    signature: str | None,
    ip: str | None,
    server_key: str | None = None,
) -> ScoreUpdate:
    """Credit one signed action of a player (``POST /api/v1/scores/update``): see the module docstring.

    ``server_key`` is the ``X-Signing-Key`` header: the body is then signed with that per-server key
    (:mod:`scoreboard.signing`), which must belong to the game key that issued the token.
    """
    key = score_signing_key(claims=claims)
    secret = None
    if server_key is not None:
        from scoreboard import signing

        secret = signing.server_key_secret_for(key_id=server_key, api_key=key)
    signature = _signature_check(key=key, raw_body=raw_body, signature=signature, ip=ip, secret=secret)
    return score_apply(claims=claims, key=key, body=update_body_decode(raw_body), signature=signature, ip=ip)


def score_apply(
    *, claims: ScoreClaims, key: SigningKey, body: _UpdateBody, signature: str, ip: str | None
) -> ScoreUpdate:
    """Credit one update whose token and signature were checked: timestamp window, nonce, limits, rules."""
    now = time.time()
    window = _timestamp_window()
    if abs(now - body.timestamp) > window:
        raise DomainError(
            "timestamp_out_of_window",
            f"`timestamp` must be within {window} seconds of server time.",
            details={"server_time": int(now)},
        )
    try:
        _precheck(claims=claims, nonce=body.nonce, ip=ip, now=now)
    except redis.RedisError as exc:
        raise _redis_down(exc) from exc
    action = action_rules(claims.game_id).get(body.action_type)
    if action is None or not action.is_active:
        raise DomainError(
            "action_type_invalid",
            f"`{body.action_type}` is not an active action type of this game.",
            details={"action_type": body.action_type},
        )
    return score_credit(
        game_id=claims.game_id,
        slug=key.game_slug,
        player_pk=claims.player_pk,
        action=action,
        action_id=body.action_id,
        token_iat=claims.issued_at,
        api_key_id=key.key_id,
        token_jti=claims.jti,
        signature=signature,
        nonce=body.nonce,
        ip=ip,
    )


@dataclass
class _Locked:
    """The player's score row, locked for the transaction, with what the checks need of the player."""

    score_id: int
    score: int
    reached_at: datetime | None
    player_pk: int
    roblox_user_id: int
    username: str
    is_banned: bool
    tokens_not_before: datetime | None


# The hot path speaks SQL: the ORM's query compilation cost more than the queries (measured). Each
# statement runs prepared (:func:`_run_prepared`).
_LOCK_SQL = f"""
SELECT s.id, s.score, s.reached_at, p.id, p.roblox_user_id, p.username, p.is_banned, p.tokens_not_before
FROM {Score._meta.db_table} s JOIN {Player._meta.db_table} p ON p.id = s.player_id
WHERE s.player_id = %s AND s.game_id = %s
FOR UPDATE OF s
"""  # noqa: S608 - table names from our models; values are parameters

_RECENT_SQL = f"""
SELECT created_at, streak FROM {ScoreHistory._meta.db_table}
WHERE player_id = %s AND action_type_id = %s
ORDER BY created_at DESC LIMIT %s
"""  # noqa: S608

# One round trip: the history row, then the score pointing at it (version = the history id).
_CREDIT_SQL = f"""
WITH h AS (
  INSERT INTO {ScoreHistory._meta.db_table} (game_id, player_id, action_type_id, action_id, increment, previous_score,
    new_score, streak, multiplier_percent, source, api_key_id, token_jti, signature, nonce, ip_address, created_at,
    updated_at)
  VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
  RETURNING id
)
UPDATE {Score._meta.db_table}
SET score = %s, reached_at = %s, last_action_id = %s, last_action_at = %s, version = (SELECT id FROM h),
    updated_at = %s
WHERE id = %s
RETURNING version
"""  # noqa: S608


def _ensure_score_row(*, game_id: int, player_pk: int) -> bool:
    """A player made outside the token path (admin, an old row) gets its score row now; False if no player."""
    if not Player.objects.filter(pk=player_pk, game_id=game_id).exists():
        return False
    Score.objects.bulk_create([Score(player_id=player_pk, game_id=game_id)], ignore_conflicts=True)
    return True


def _lock_score(*, game_id: int, player_pk: int) -> _Locked | None:
    rows = _run_prepared(_LOCK_SQL, [player_pk, game_id])
    if not rows and _ensure_score_row(game_id=game_id, player_pk=player_pk):
        rows = _run_prepared(_LOCK_SQL, [player_pk, game_id])
    return _Locked(*rows[0]) if rows else None


def _rules_outcome(*, action: ActionRule, player_pk: int, now: datetime) -> tuple[int, int]:
    """Check cooldown and hourly maximum; return (streak, multiplier percent). Reads at most one index range."""
    if not action.reads_history:
        return 1, 100
    recent = _run_prepared(_RECENT_SQL, [player_pk, action.id, max(action.max_per_hour or 1, 1)])
    last_at, last_streak = recent[0] if recent else (None, 0)
    if action.cooldown_seconds and last_at is not None:
        elapsed = (now - last_at).total_seconds()
        if elapsed < action.cooldown_seconds:
            wait = action.cooldown_seconds - elapsed
            raise DomainError(
                "rate_limited",
                f"`{action.key}` is on cooldown for this player ({action.cooldown_seconds} s between credits).",
                details={"reason": "cooldown", "retry_after": math.ceil(wait)},
                headers=_retry_after(wait),
            )
    if action.max_per_hour:
        hour_ago = now - timedelta(hours=1)
        in_hour = [at for at, _ in recent if at > hour_ago]
        if len(in_hour) >= action.max_per_hour:
            wait = (in_hour[-1] - hour_ago).total_seconds()
            raise DomainError(
                "rate_limited",
                f"`{action.key}` was credited {action.max_per_hour} times this hour for this player.",
                details={"reason": "max_per_hour", "retry_after": math.ceil(wait)},
                headers=_retry_after(wait),
            )
    if action.streak_window and last_at is not None and (now - last_at).total_seconds() <= action.streak_window:
        streak = last_streak + 1
    else:
        streak = 1
    percent = min(100 + action.streak_step_percent * (streak - 1), action.streak_max_percent)
    return streak, max(percent, 100) if action.streak_window else 100


@dataclass(frozen=True)
class _Credited:
    roblox_user_id: int
    username: str
    previous: int
    new_score: int
    reached_at: datetime
    version: int
    streak: int = 1
    percent: int = 100


# Action types without rules (most of them) are credited by one statement: lock the score row, check the
# player, insert the history row (a duplicate action id inserts nothing) and move the score, committed
# as one. Concurrent credits of a player queue on the row lock and each sees the score the previous one
# committed (READ COMMITTED re-reads a row it waited for). It runs as a prepared statement
# (:func:`_run_prepared`), so every parameter carries its type.
_CREDIT_ONE_STATEMENT_SQL = f"""
WITH locked AS (
  SELECT s.id, s.score, p.id AS player_pk, p.roblox_user_id, p.username, p.is_banned,
         (p.tokens_not_before IS NOT NULL AND %(iat)s::float8 IS NOT NULL
          AND to_timestamp(%(iat)s::float8) < p.tokens_not_before) AS revoked
  FROM {Score._meta.db_table} s JOIN {Player._meta.db_table} p ON p.id = s.player_id
  WHERE s.player_id = %(player_pk)s::bigint AND s.game_id = %(game_id)s::bigint
  FOR UPDATE OF s
), h AS (
  INSERT INTO {ScoreHistory._meta.db_table} (game_id, player_id, action_type_id, action_id, increment,
    previous_score, new_score, streak, multiplier_percent, source, api_key_id, token_jti, signature, nonce,
    ip_address, created_at, updated_at)
  SELECT %(game_id)s::bigint, player_pk, %(action_type_id)s::bigint, %(action_id)s::varchar, %(increment)s::bigint,
         score, score + %(increment)s::bigint, 1, 100, %(source)s::varchar, %(api_key_id)s::bigint,
         %(jti)s::varchar, %(signature)s::varchar, %(nonce)s::varchar, %(ip)s::inet, %(now)s::timestamptz,
         %(now)s::timestamptz
  FROM locked WHERE NOT is_banned AND NOT revoked
  ON CONFLICT (game_id, action_id) DO NOTHING
  RETURNING id, previous_score, new_score
), u AS (
  UPDATE {Score._meta.db_table} AS s
  SET score = h.new_score, last_action_id = %(action_id)s::varchar, last_action_at = %(now)s::timestamptz,
      version = h.id, updated_at = %(now)s::timestamptz,
      reached_at = CASE WHEN %(increment)s::bigint <> 0 OR s.reached_at IS NULL THEN %(now)s::timestamptz
                   ELSE s.reached_at END
  FROM h, locked WHERE s.id = locked.id
  RETURNING s.reached_at
)
SELECT locked.roblox_user_id, locked.username, locked.is_banned, locked.revoked, h.id, h.previous_score,
       h.new_score, u.reached_at
FROM locked LEFT JOIN h ON true LEFT JOIN u ON true
"""  # noqa: S608


def _run_prepared(sql: str, params: dict[str, Any] | list[Any]) -> list[tuple]:
    """Run a fixed hot-path statement as a server-side prepared statement; return its rows.

    Django's cursors bind parameters on the client, so PostgreSQL parses and plans the statement on every
    call, and planning the credit statement cost more than running it (measured: 0.26 ms of 0.45 ms). A
    plain psycopg cursor on Django's connection has it prepared once per connection. The connection is
    checked and opened as Django's own cursors do (``CONN_HEALTH_CHECKS``), errors come out as Django's
    exceptions (which also retires a broken connection at the end of the request), and the statement runs
    in whatever transaction the connection is in. Django's query hooks (``execute_wrapper``, the
    django-prometheus query counters) do not see these statements.
    """
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django opens connections with preparation off (None), which psycopg applies even to prepare=True.
        # A threshold never reached prepares only what asks for it; Django's client-side cursors never do.
        raw.prepare_threshold = 2**31
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchall()


def _credit_one_statement(*, game_id: int, player_pk: int, action: ActionRule, action_id: str, now: datetime,
                          token_iat: float | None, **audit) -> _Credited:  # fmt: skip
    params = {
        "game_id": game_id, "player_pk": player_pk, "action_type_id": action.id, "action_id": action_id,
        "increment": action.base_score, "now": now, "iat": token_iat, **audit,
    }  # fmt: skip
    rows = _run_prepared(_CREDIT_ONE_STATEMENT_SQL, params)
    if not rows and _ensure_score_row(game_id=game_id, player_pk=player_pk):
        rows = _run_prepared(_CREDIT_ONE_STATEMENT_SQL, params)
    if not rows:
        raise _token_invalid("The token's player does not exist in this game.")
    roblox_user_id, username, banned, revoked, version, previous, new_score, reached_at = rows[0]
    if revoked:
        raise DomainError("token_revoked", "The player's score tokens were revoked.")
    if banned:
        raise DomainError("player_banned", "This player is banned from the game's leaderboard.")
    if version is None:
        raise _duplicate(action_id)
    return _Credited(roblox_user_id, username, previous, new_score, reached_at, version)


def _credit_with_rules(*, game_id: int, player_pk: int, action: ActionRule, action_id: str, now: datetime,
                       token_iat: float | None, **audit) -> _Credited:  # fmt: skip
    """Cooldown, hourly maximum and streaks read the player's recent credits under the row lock."""
    try:
        with transaction.atomic():
            locked = _lock_score(game_id=game_id, player_pk=player_pk)
            if locked is None:
                raise _token_invalid("The token's player does not exist in this game.")
            if (
                token_iat is not None
                and locked.tokens_not_before is not None
                and token_iat < locked.tokens_not_before.timestamp()
            ):
                raise DomainError("token_revoked", "The player's score tokens were revoked.")
            if locked.is_banned:
                raise DomainError("player_banned", "This player is banned from the game's leaderboard.")
            streak, percent = _rules_outcome(action=action, player_pk=locked.player_pk, now=now)
            increment = action.base_score * percent // 100
            previous = locked.score
            new_score = previous + increment
            reached_at = now if increment or locked.reached_at is None else locked.reached_at
            [(version,)] = _run_prepared(
                _CREDIT_SQL,
                [
                    game_id, locked.player_pk, action.id, action_id, increment, previous, new_score, streak, percent,
                    audit["source"], audit["api_key_id"], audit["jti"], audit["signature"], audit["nonce"],
                    audit["ip"], now, now,
                    new_score, reached_at, action_id, now, now, locked.score_id,
                ],
            )  # fmt: skip
    except IntegrityError as exc:
        if "score_history_action_id_unique_per_game" in str(exc):
            raise _duplicate(action_id) from None
        raise
    return _Credited(locked.roblox_user_id, locked.username, previous, new_score, reached_at, version, streak, percent)


def _duplicate(action_id: str) -> DomainError:
    return DomainError(
        "action_duplicate", "This action id was already credited; nothing changed.", details={"action_id": action_id}
    )


def score_credit(
    *,
    game_id: int,
    slug: str,
    player_pk: int,
    action: ActionRule,
    action_id: str,
    at: datetime | None = None,
    token_iat: float | None = None,
    source: str = ScoreSource.GAME_SERVER,
    api_key_id: int | None = None,
    token_jti: str = "",
    signature: str = "",
    nonce: str = "",
    ip: str | None = None,
) -> ScoreUpdate:
    """Credit one action to a player: history row and score in one transaction, the board after the commit.

    The caller has done the request checks (:func:`score_submit`); the demo
    seed calls this directly with ``at`` in the past. Raises ``token_invalid``
    (no such player), ``token_revoked`` (tokens older than the player's
    revocation), ``player_banned``, ``rate_limited`` (cooldown, hourly
    maximum) and ``action_duplicate``.
    """
    now = _truncate_ms(at or timezone.now())
    credit = _credit_with_rules if action.reads_history else _credit_one_statement
    done = credit(
        game_id=game_id, player_pk=player_pk, action=action, action_id=action_id, now=now, token_iat=token_iat,
        source=source, api_key_id=api_key_id, jti=token_jti, signature=signature, nonce=nonce, ip=ip,
    )  # fmt: skip
    published: dict[str, Any] = {}

    def publish() -> None:
        published["rank"] = _board_after_credit(
            game_id=game_id,
            slug=slug,
            player_id=done.roblox_user_id,
            username=done.username,
            version=done.version,
            score=done.new_score,
            reached_at=done.reached_at,
        )

    # Right away when the credit committed on its own; when the caller's transaction commits otherwise.
    transaction.on_commit(publish)
    return ScoreUpdate(
        player_id=done.roblox_user_id,
        score=done.new_score,
        previous_score=done.previous,
        increment=done.new_score - done.previous,
        rank=published.get("rank"),
        action_type=action.key,
        history_id=done.version,
        streak=done.streak,
        multiplier_percent=done.percent,
    )


def _board_after_credit(
    *, game_id: int, slug: str, player_id: int, username: str, version: int, score: int, reached_at: datetime
) -> int | None:
    """Apply a committed change to the Redis board (one script: sorted set + publish); return the rank."""
    try:
        if game_id in _dirty_boards:
            # An earlier change of this process missed the board: have it rebuilt from PostgreSQL.
            leaderboard.board_forget(game_id)
            _dirty_boards.discard(game_id)
        change = leaderboard.board_apply(
            board_id=game_id,
            slug=slug,
            player_id=player_id,
            version=version,
            score=score,
            reached_ms=_ms(reached_at),
            username=username,
            now_ms=int(time.time() * 1000),
        )
        if change.ready:
            return change.rank
        if leaderboard_ensure(game_id=game_id, slug=slug, reason="missing_on_update"):
            standing = leaderboard.board_standing(game_id, player_id, radius=0)
            return standing.rank if isinstance(standing, leaderboard.BoardStanding) else None
        return None
    except redis.RedisError:
        metrics.BOARD_SYNC_FAILURES.inc()
        _dirty_boards.add(game_id)
        logger.error(
            "leaderboard not updated after a credit: redis unavailable; the board will be rebuilt",
            extra={"game_id": game_id, "player_id": player_id},
        )
        return None


# --------------------------------------------------------------------------- leaderboards


def _board_rows(game_id: int) -> Iterator[leaderboard.BoardRow]:
    rows = (
        Score.objects.filter(game_id=game_id, reached_at__isnull=False)
        .values_list(
            "player__roblox_user_id", "player__username", "score", "reached_at", "version", "player__is_banned"
        )
        .order_by()
        .iterator(chunk_size=5000)
    )
    for player_id, username, score, reached_at, version, banned in rows:
        yield leaderboard.BoardRow(
            player_id=player_id,
            username=username,
            score=score,
            reached_ms=_ms(reached_at),
            version=version,
            removed=banned,
        )


def leaderboard_rebuild(*, game_id: int, slug: str | None = None, reason: str = "command") -> int | None:
    """Rebuild a game's sorted set from PostgreSQL; the number of players on it, or None if one is running."""
    if slug is None:
        slug = Game.objects.filter(pk=game_id).values_list("slug", flat=True).first() or ""
    started = time.monotonic()
    count = leaderboard.board_rebuild(
        board_id=game_id, slug=slug, rows=_board_rows(game_id), now_ms=int(time.time() * 1000)
    )
    if count is not None:
        metrics.BOARD_REBUILDS.labels(reason=reason).inc()
        logger.info(
            "leaderboard rebuilt",
            extra={
                "game_id": game_id,
                "players": count,
                "reason": reason,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
    return count


def leaderboard_ensure(*, game_id: int, slug: str, reason: str = "missing", wait: float = 5.0) -> bool:
    """Make sure the board exists: rebuild it, or wait for the rebuild another process runs. True when ready."""
    if leaderboard.board_ready(game_id):
        return True
    if leaderboard_rebuild(game_id=game_id, slug=slug, reason=reason) is not None:
        return True
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if leaderboard.board_ready(game_id):
            return True
    return False


@transaction.atomic
def leaderboard_snapshot_take(*, game: Game, size: int = 10) -> ScoreboardSnapshot:
    """Record the top of the game's board as PostgreSQL has it (the truth, whatever Redis holds)."""
    from scoreboard.selectors import leaderboard_top_from_db, scored_players

    entries = [
        {"rank": e.rank, "player_id": e.player_id, "username": e.username, "score": e.score}
        for e in leaderboard_top_from_db(game.pk, size)
    ]
    snapshot = ScoreboardSnapshot.objects.create(
        game=game, taken_at=timezone.now(), total_players=scored_players(game.pk).count(), entries=entries
    )
    metrics.SNAPSHOTS.inc()
    return snapshot


def leaderboard_snapshots_take_all() -> list[ScoreboardSnapshot]:
    """One snapshot per active game that has at least one scored player (the periodic job)."""
    games = Game.objects.filter(is_active=True, scores__reached_at__isnull=False).distinct().order_by("pk")
    snapshots = [leaderboard_snapshot_take(game=game) for game in games]
    logger.info(
        "leaderboard snapshots taken",
        extra={"games": len(snapshots), "players": sum(s.total_players for s in snapshots)},
    )
    return snapshots


# --------------------------------------------------------------------------- action types

ACTION_TYPE_FIELDS = {"key", "name", "base_score", "cooldown_seconds", "max_per_hour", "is_active", "rules"}
_STREAK_LIMITS = {"window_seconds": (1, 604800), "step_percent": (0, 1000), "max_percent": (100, 1000)}


def action_type_rules_clean(rules: Any) -> dict:
    """Validate the ``rules`` object (schema in :class:`scoreboard.models.ActionType`); return it normalised."""
    if rules in (None, ""):
        return {}
    if not isinstance(rules, dict):
        raise ValidationError({"rules": 'A JSON object, such as {"streak": {"window_seconds": 86400, ...}}.'})
    unknown = set(rules) - {"streak"}
    if unknown:
        raise ValidationError({"rules": f"Unknown rules: {', '.join(sorted(unknown))} (known: streak)."})
    cleaned: dict = {}
    streak = rules.get("streak")
    if streak is not None:
        if not isinstance(streak, dict) or set(streak) - set(_STREAK_LIMITS) or "window_seconds" not in streak:
            raise ValidationError(
                {"rules": 'streak is {"window_seconds": int, "step_percent": int, "max_percent": int}.'}
            )
        values = {"step_percent": 10, "max_percent": 200, **streak}
        for name, (low, high) in _STREAK_LIMITS.items():
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValidationError({"rules": f"streak.{name} must be a whole number from {low} to {high}."})
        cleaned["streak"] = values
    return cleaned


def _action_type_save(action_type: ActionType) -> ActionType:
    action_type.rules = action_type_rules_clean(action_type.rules)
    action_type.full_clean()
    try:
        with transaction.atomic():
            action_type.save()
    except IntegrityError as exc:
        raise ValidationError({"key": "The game already has an action type with this key."}) from exc
    game_id = action_type.game_id
    transaction.on_commit(lambda: _action_rules.invalidate(game_id))
    return action_type


@transaction.atomic
def action_type_create(*, game: Game, data: dict[str, Any]) -> ActionType:
    """Add an action type to a game; game servers can credit it at once (other processes within 5 s)."""
    unknown = set(data) - ACTION_TYPE_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "Unknown field."))
    if ActionType.objects.filter(game=game, key=data.get("key")).exists():
        raise ValidationError({"key": "The game already has an action type with this key."})
    action_type = _action_type_save(ActionType(game=game, **data))
    logger.info("action type created", extra={"game_id": game.pk, "action_type": action_type.key})
    return action_type


@transaction.atomic
def action_type_update(*, action_type: ActionType, data: dict[str, Any]) -> ActionType:
    """Change an action type. The key is what game scripts send, so it never changes."""
    unknown = set(data) - ACTION_TYPE_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "Unknown field."))
    if "key" in data and data["key"] != action_type.key:
        raise ValidationError({"key": "The key cannot change (game scripts send it); add a new action type."})
    for field, value in data.items():
        setattr(action_type, field, value)
    action_type = _action_type_save(action_type)
    logger.info("action type updated", extra={"game_id": action_type.game_id, "action_type": action_type.key})
    return action_type
