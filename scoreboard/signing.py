"""Per-server signing keys: score signing that works with Roblox's opaque ``Secret`` objects.

On a live Roblox server ``HttpService:GetSecret`` returns a ``Secret`` that Luau can place in a request header
but never read, so a game cannot compute an HMAC with its game key's signing secret. Instead the game server
trades its API key (sent as ``X-API-Key``, built from the ``Secret``) for a short-lived signing key bound to
its ``game.JobId`` (:func:`server_key_issue`), signs score updates with it (``X-Signing-Key`` names the key,
``X-Signature`` carries the HMAC as before) and asks for a fresh one before ``refresh_after``.

Nothing about a server key is stored. Its id is a self-authenticating token
``ssk1.<payload>.<mac>`` (payload: game key id, game id, server id, issue and expiry times, a random salt),
and its secret is derived from the payload with a key derived from ``SECRET_KEY``:

* ``mac    = HMAC-SHA256(master, "id:" + payload)``    checked in constant time;
* ``secret = HMAC-SHA256(master, "secret:" + payload)`` hex, handed to the game server once, over TLS.

So the database and Redis hold no key material at all (not even a hash), a key cannot be forged or extended
without ``SECRET_KEY``, and revoking the game key (or deactivating the game) ends every server key it issued
at once: each use re-checks the game key (:func:`scoreboard.services.score_signing_key`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from django.conf import settings

from adplatform.core.api.errors import DomainError


class KeyIdentity(Protocol):
    """What this module reads of a game API key (``scoreboard.services.SigningKey`` is one): the services
    import this module, never the reverse."""

    @property
    def key_id(self) -> int: ...
    @property
    def game_id(self) -> int: ...


PREFIX = "ssk1"
DEFAULT_TTL_SECONDS = 3600
MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 24 * 3600
MAX_KEY_ID_CHARS = 600
MAX_SERVER_ID_CHARS = 100

_masters: dict[str, bytes] = {}


def _master() -> bytes:
    secret_key = settings.SECRET_KEY
    master = _masters.get(secret_key)
    if master is None:
        master = hmac.new(secret_key.encode(), b"score-server-signing-key:v1", hashlib.sha256).digest()
        _masters.clear()
        _masters[secret_key] = master
    return master


def server_key_ttl() -> int:
    ttl = int(getattr(settings, "SCORE_SERVER_KEY_TTL_SECONDS", DEFAULT_TTL_SECONDS))
    return max(MIN_TTL_SECONDS, min(ttl, MAX_TTL_SECONDS))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(label: bytes, payload: str) -> bytes:
    return hmac.new(_master(), label + payload.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class ServerKey:
    """A signing key as issued: ``key_id`` goes in ``X-Signing-Key``, ``secret`` keys the HMAC."""

    key_id: str
    secret: str
    server_id: str
    issued_at: datetime
    expires_at: datetime
    refresh_after: datetime


@dataclass(frozen=True)
class ServerKeyClaims:
    api_key_id: int
    game_id: int
    server_id: str
    issued_at: int
    expires_at: int


def server_key_issue(*, game_id: int, api_key_id: int, server_id: str) -> ServerKey:
    """Issue a signing key for one game server (``POST /api/v1/scores/signing-keys``, ``X-API-Key``).

    Valid for ``SCORE_SERVER_KEY_TTL_SECONDS`` (an hour by default); the server should fetch its next one
    after ``refresh_after`` (half the life), so a key in use never expires under it.
    """
    server_id = (server_id or "").strip()
    if not server_id or len(server_id) > MAX_SERVER_ID_CHARS:
        raise DomainError(
            "validation_error",
            "Invalid input.",
            details={"server_id": [f"The Roblox server's game.JobId, 1 to {MAX_SERVER_ID_CHARS} characters."]},
        )
    now = int(time.time())
    ttl = server_key_ttl()
    payload = _b64(
        json.dumps(
            {"k": api_key_id, "g": game_id, "s": server_id, "iat": now, "exp": now + ttl, "n": secrets.token_hex(8)},
            separators=(",", ":"),
        ).encode()
    )
    key_id = f"{PREFIX}.{payload}.{_b64(_derive(b'id:', payload))}"
    return ServerKey(
        key_id=key_id,
        secret=_derive(b"secret:", payload).hex(),
        server_id=server_id,
        issued_at=datetime.fromtimestamp(now, UTC),
        expires_at=datetime.fromtimestamp(now + ttl, UTC),
        refresh_after=datetime.fromtimestamp(now + ttl // 2, UTC),
    )


def _invalid(message: str = "X-Signing-Key is not a signing key this platform issued.") -> DomainError:
    return DomainError("signing_key_invalid", message)


def server_key_verify(*, key_id: str) -> tuple[ServerKeyClaims, str]:
    """The claims and secret of a server key id; 401 ``signing_key_invalid`` / ``signing_key_expired``."""
    key_id = (key_id or "").strip()
    parts = key_id.split(".")
    if len(key_id) > MAX_KEY_ID_CHARS or len(parts) != 3 or parts[0] != PREFIX:
        raise _invalid()
    _, payload, mac = parts
    try:
        given = _unb64(mac)
    except (ValueError, binascii.Error):
        raise _invalid() from None
    if not hmac.compare_digest(given, _derive(b"id:", payload)):
        raise _invalid()
    try:
        data = json.loads(_unb64(payload))
        claims = ServerKeyClaims(
            api_key_id=int(data["k"]),
            game_id=int(data["g"]),
            server_id=str(data["s"]),
            issued_at=int(data["iat"]),
            expires_at=int(data["exp"]),
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise _invalid() from None
    if claims.expires_at <= time.time():
        raise DomainError(
            "signing_key_expired",
            "The server signing key has expired; fetch a new one from /api/v1/scores/signing-keys.",
        )
    return claims, _derive(b"secret:", payload).hex()


def server_key_secret_for(*, key_id: str, api_key: KeyIdentity) -> str:
    """The secret of ``key_id`` when it was issued to ``api_key`` (the key behind the player's token)."""
    claims, secret = server_key_verify(key_id=key_id)
    if claims.api_key_id != api_key.key_id or claims.game_id != api_key.game_id:
        raise _invalid("X-Signing-Key was issued to another game key than the one that minted the score token.")
    return secret
