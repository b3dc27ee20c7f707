"""games.roblox.com: experience details and votes, by universe id (at most 50 ids a call)."""

from __future__ import annotations

from collections.abc import Iterable

from integrations.roblox._util import chunks, data_items, join_ids, unique_ids
from integrations.roblox.http import request_json
from integrations.roblox.types import GameDetails, GameVotes

FAMILY = "games"
MAX_IDS_PER_CALL = 50


def games_details(universe_ids: Iterable[int]) -> dict[int, GameDetails]:
    """Details of each universe, keyed by universe id. Unknown universes are simply absent."""
    result: dict[int, GameDetails] = {}
    for chunk in chunks(unique_ids(universe_ids), MAX_IDS_PER_CALL):
        body = request_json(FAMILY, "GET", "/v1/games", params={"universeIds": join_ids(chunk)})
        wanted = set(chunk)
        for item in data_items(body, "games"):
            game = GameDetails.from_roblox(item)
            if game.id in wanted:
                result[game.id] = game
    return result


def games_votes(universe_ids: Iterable[int]) -> dict[int, GameVotes]:
    """Up and down votes of each universe, keyed by universe id. Unknown universes are absent."""
    result: dict[int, GameVotes] = {}
    for chunk in chunks(unique_ids(universe_ids), MAX_IDS_PER_CALL):
        body = request_json(FAMILY, "GET", "/v1/games/votes", params={"universeIds": join_ids(chunk)})
        wanted = set(chunk)
        for item in data_items(body, "game votes"):
            votes = GameVotes.from_roblox(item)
            if votes.id in wanted:
                result[votes.id] = votes
    return result
