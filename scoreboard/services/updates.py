"""The signed score update (``POST /api/v1/scores/update``): signature, pre-check, then the credit.

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

import hashlib
import hmac
import re
import time

import redis

from adplatform.core.api.errors import DomainError
from adplatform.core.ratelimit import FixedWindow
from adplatform.core.redis import LuaScript
from scoreboard import signing
from scoreboard.services.action_types import action_rules
from scoreboard.services.common import _setting, _timestamp_window
from scoreboard.services.crediting import ScoreUpdate, score_credit
from scoreboard.services.errors import _blocked, _redis_down, _retry_after
from scoreboard.services.keys import _block_key, _nonce_key, _not_before_key, _revocations_ready_key, _revoked_key, _sb
from scoreboard.services.tokens import (
    ScoreClaims,
    SigningKey,
    _auth_failure,
    _revocations_reload,
    score_signing_key,
)
from scoreboard.services.update_body import ScoreUpdateBody, update_body_decode

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


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
    player_rate = FixedWindow.parse(_setting("SCORE_RATE_PER_PLAYER", "120/min"))
    key_rate = FixedWindow.parse(_setting("SCORE_RATE_PER_KEY", "60000/min"))
    keys = [
        _block_key(g, "key", str(claims.key_id)),
        _block_key(g, "ip", ip or "unknown"),
        _revocations_ready_key(g),
        _revoked_key(g, claims.jti),
        _not_before_key(g, claims.player_id),
        player_rate.key(f"{_sb(g)}:rl:p:{claims.player_id}", now),
        key_rate.key(f"{_sb(g)}:rl:k:{claims.key_id}", now),
        _nonce_key(g, nonce),
    ]
    # A nonce must be refused for as long as its request could still be accepted: the timestamp may lie
    # up to the window ahead of the first sighting, and stays acceptable for the window after it.
    nonce_ttl = 2 * _timestamp_window() + 1
    args = [f"{claims.issued_at:.3f}", player_rate.limit, player_rate.period, key_rate.limit, key_rate.period]
    args.append(nonce_ttl)
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
        wait = player_rate.retry_after(now)
        raise DomainError(
            "rate_limited", "Too many score updates for this player.",
            details={"reason": "player_rate"}, headers=_retry_after(wait),
        )  # fmt: skip
    if verdict == "rate_limited_key":
        wait = key_rate.retry_after(now)
        raise DomainError(
            "rate_limited", "Too many score updates for this game key.",
            details={"reason": "key_rate"}, headers=_retry_after(wait),
        )  # fmt: skip
    if verdict == "nonce_reused":
        raise DomainError("nonce_reused", "This nonce was already used; send a new one with every request.")
    raise DomainError("service_unavailable", "The score service could not check the request.")  # reload loop


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
        secret = signing.server_key_secret_for(key_id=server_key, api_key=key)
    signature = _signature_check(key=key, raw_body=raw_body, signature=signature, ip=ip, secret=secret)
    return score_apply(claims=claims, key=key, body=update_body_decode(raw_body), signature=signature, ip=ip)


def score_apply(
    *, claims: ScoreClaims, key: SigningKey, body: ScoreUpdateBody, signature: str, ip: str | None
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
