"""Every write of the scoreboard, one room per concern; callers use ``from scoreboard import services``.

* :mod:`.tokens`: score tokens (issue, verify, revoke), the game keys that sign updates, failures and blocks;
* :mod:`.updates`: the signed score update (signature, one Redis pre-check, then the credit);
* :mod:`.update_body`: the update's signed body, one msgspec declaration that validates it and documents it;
* :mod:`.crediting`: crediting one action in PostgreSQL (prepared SQL), with the credit rules;
* :mod:`.rankings`: the Redis boards (changes after commit, rebuilds, reads that may rebuild, snapshots);
* :mod:`.action_types`, :mod:`.players`: what may be credited, and to whom;
* :mod:`.keys`, :mod:`.errors`, :mod:`.common`: Redis keys, shared domain errors, settings and time helpers.

The names below are the public surface; patch a function where it is defined (``scoreboard.services.tokens``
...), since the rooms call each other directly, not through this package.
"""

from scoreboard.services.action_types import (
    ACTION_TYPE_FIELDS,
    ActionRule,
    action_rules,
    action_type_create,
    action_type_rules_clean,
    action_type_update,
)
from scoreboard.services.common import MAX_TOKEN_TTL
from scoreboard.services.crediting import ScoreUpdate, score_credit
from scoreboard.services.players import player_ban, player_unban, player_upsert
from scoreboard.services.rankings import (
    _board_rows,
    leaderboard_ensure,
    leaderboard_player,
    leaderboard_rebuild,
    leaderboard_snapshot_take,
    leaderboard_snapshots_take_all,
    leaderboard_top,
)
from scoreboard.services.tokens import (
    JWT_ALGORITHM,
    IssuedToken,
    ScoreClaims,
    SigningKey,
    _jwt_key,
    _signing_keys,
    player_tokens_revoke,
    revoked_tokens_purge,
    score_signing_key,
    score_token_authenticate,
    score_token_issue,
    score_token_revoke,
    score_token_verify,
)
from scoreboard.services.updates import score_apply, score_submit

__all__ = [
    "ACTION_TYPE_FIELDS",
    "JWT_ALGORITHM",
    "MAX_TOKEN_TTL",
    "ActionRule",
    "IssuedToken",
    "ScoreClaims",
    "ScoreUpdate",
    "SigningKey",
    "_board_rows",
    "_jwt_key",
    "_signing_keys",
    "action_rules",
    "action_type_create",
    "action_type_rules_clean",
    "action_type_update",
    "leaderboard_ensure",
    "leaderboard_player",
    "leaderboard_rebuild",
    "leaderboard_snapshot_take",
    "leaderboard_snapshots_take_all",
    "leaderboard_top",
    "player_ban",
    "player_tokens_revoke",
    "player_unban",
    "player_upsert",
    "revoked_tokens_purge",
    "score_apply",
    "score_credit",
    "score_signing_key",
    "score_submit",
    "score_token_authenticate",
    "score_token_issue",
    "score_token_revoke",
    "score_token_verify",
]
