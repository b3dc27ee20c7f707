"""Score tokens and the game keys that sign updates: issue, verify, revoke; failures counted and blocked.

A token is an HS256 JWT keyed per game from ``SECRET_KEY``. Revocations live in PostgreSQL with a copy in
Redis for the update path. Token and signature failures are counted per game and address and per game and
key; past a threshold the address or key is blocked for a while (429 ``rate_limited`` with
``details.reason = "blocked"``), logged as a warning and counted in ``scoreboard_blocks_total``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import redis
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from adplatform.core.api.errors import DomainError
from adplatform.core.localcache import TTLCache
from adplatform.core.redis import get_redis
from games import keycache
from games.models import GameApiKey
from scoreboard import metrics
from scoreboard.models import MAX_ROBLOX_ID, Player, RevokedToken
from scoreboard.services.common import MAX_TOKEN_TTL, _setting, _token_ttl, _truncate_ms
from scoreboard.services.errors import _blocked, _player_banned, _redis_down, _token_expired, _token_invalid
from scoreboard.services.keys import _block_key, _fail_key, _not_before_key, _revocations_ready_key, _revoked_key
from scoreboard.services.players import player_upsert

logger = logging.getLogger(__name__)


JWT_ALGORITHM = "HS256"


@dataclass(frozen=True)
class SigningKey:
    """What the update path needs of a game API key, cached in process (by id; tokens carry it as ``kid``)."""

    key_id: int
    game_id: int
    game_slug: str
    game_active: bool
    signing_secret: str
    revoked: bool


_signing_keys: TTLCache[SigningKey | None] = TTLCache(
    ttl=getattr(settings, "GAME_API_KEY_CACHE_SECONDS", 5.0), name=keycache.KEY_IDS
)


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


_jwt_keys: dict[tuple[str, int], bytes] = {}


def _jwt_key(game_id: int) -> bytes:
    """The per-game HS256 key: HMAC(SECRET_KEY, "score-jwt:<game id>"); a token of one game is no token of another."""
    cache_key = (settings.SECRET_KEY, game_id)
    key = _jwt_keys.get(cache_key)
    if key is None:
        key = hmac.new(settings.SECRET_KEY.encode(), f"score-jwt:{game_id}".encode(), hashlib.sha256).digest()
        _jwt_keys[cache_key] = key
    return key


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
        raise _player_banned()
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
        player_id is None
        or None in numbers
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
            "player_id": player_pk
            if player_pk is not None and Player.objects.filter(pk=player_pk, game_id=game_id).exists()
            else None,
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
        if not_before is not None:  # the filter excludes None; the column is nullable
            pipe.set(_not_before_key(game_id, roblox_id), f"{not_before.timestamp():.3f}", ex=MAX_TOKEN_TTL + 5)
    pipe.set(_revocations_ready_key(game_id), 1)
    pipe.execute()
    logger.info("score token revocations reloaded into redis", extra={"game_id": game_id})


def revoked_tokens_purge() -> int:
    """Delete revocations of tokens that have expired anyway."""
    deleted, _ = RevokedToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


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
