"""``POST /api/v1/scores/update/batch``: many players' score updates in one signed request.

A Roblox server may send only 500 HTTP requests a minute, so a game that credits many actions batches them.
The whole body is signed once with the server's signing key (:mod:`scoreboard.signing`); each item carries its
player's score token and its own ``nonce``, and gets its own result: exactly what a single update would have
answered (status and body), so one bad item never fails the others.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict
from typing import Any

from adplatform.core.api.errors import DomainError, error_body
from scoreboard import services, signing
from scoreboard.services.update_body import update_body_convert

MAX_BATCH = 100
MAX_BATCH_BYTES = 100 * 1024


def _item_error(index: int, exc: DomainError) -> dict[str, Any]:
    return {"index": index, "status": exc.status, **error_body(exc.code, exc.message, exc.details)}


def _signature_invalid() -> DomainError:
    return DomainError(
        "signature_invalid", "X-Signature must be the hex HMAC-SHA256 of the raw body, keyed with the server key."
    )


def score_submit_batch(*, raw_body: bytes, server_key: str | None, signature: str | None, ip: str | None) -> dict:
    """Check the batch's signature with its server key, then credit each item as ``score_submit`` would."""
    if not server_key:
        raise signing._invalid("Send the server signing key's id as X-Signing-Key.")
    claims, secret = signing.server_key_verify(key_id=server_key)
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    given = (signature or "").strip().lower()
    if len(given) != 64 or not hmac.compare_digest(expected, given):
        raise _signature_invalid()
    if len(raw_body) > MAX_BATCH_BYTES:
        raise DomainError("batch_too_large", f"At most {MAX_BATCH_BYTES} bytes a batch; split it.")
    try:
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise DomainError("malformed_json", "The body is not valid JSON.") from None
    updates = data.get("updates") if isinstance(data, dict) else None
    if not isinstance(updates, list) or not updates:
        raise DomainError(
            "validation_error", "Invalid input.", details={"updates": ["A non-empty list of score updates."]}
        )
    if len(updates) > MAX_BATCH:
        raise DomainError("batch_too_large", f"At most {MAX_BATCH} updates a batch; split it.")
    results: list[dict[str, Any]] = []
    credited = 0
    for index, item in enumerate(updates):
        try:
            results.append({"index": index, "status": 200, "result": _one(item, claims=claims, ip=ip, sig=given)})
            credited += 1
        except DomainError as exc:
            results.append(_item_error(index, exc))
    return {"credited": credited, "results": results}


def _one(item: Any, *, claims: signing.ServerKeyClaims, ip: str | None, sig: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise DomainError("validation_error", "Invalid input.", details={"non_field_errors": ["Send a JSON object."]})
    token = item.get("token")
    if not isinstance(token, str) or not token:
        raise DomainError("token_invalid", "Each update carries its player's score token as `token`.")
    player = services.score_token_verify(token=token)
    key = services.score_signing_key(claims=player)
    if player.key_id != claims.api_key_id or player.game_id != claims.game_id:
        raise DomainError("token_invalid", "This score token was minted by another game key than the server key's.")
    body = update_body_convert(item)
    update = services.score_apply(claims=player, key=key, body=body, signature=sig, ip=ip)
    return {
        k: v for k, v in asdict(update).items() if k in ("player_id", "score", "previous_score", "increment", "rank")
    }
