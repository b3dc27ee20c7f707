"""Redis keys of the scoreboard's hot state (nonces, revocations, blocks, failure counters, rate limits)."""

from __future__ import annotations


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
