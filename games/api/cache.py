"""What the game-server API serves, kept in process memory per game.

Game servers poll their game and containers often; the serialized bodies are
kept for ``CONTAINER_CACHE_SECONDS`` so a steady-state request makes no
database query, and an owner's change is served everywhere within that TTL
(the contract allows 5 seconds). Entries are plain, already-serialized data
and must be treated as read-only by callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from adplatform.core.localcache import TTLCache
from games.models import Game
from games.selectors import game_server_containers


@dataclass(frozen=True)
class ContainerSnapshot:
    items: tuple[dict[str, Any], ...]  # ordered by id
    by_id: dict[int, dict[str, Any]]


_TTL = float(getattr(settings, "CONTAINER_CACHE_SECONDS", 3.0))
_containers: TTLCache[ContainerSnapshot] = TTLCache(ttl=_TTL)
_games: TTLCache[dict[str, Any] | None] = TTLCache(ttl=_TTL)


def _load_containers(game_id: int) -> ContainerSnapshot:
    from games.api.serializers import GameServerContainerSerializer

    items = tuple(dict(row) for row in GameServerContainerSerializer(game_server_containers(game_id), many=True).data)
    return ContainerSnapshot(items=items, by_id={item["id"]: item for item in items})


def _load_game(game_id: int) -> dict[str, Any] | None:
    from games.api.serializers import GameServerGameSerializer

    game = Game.objects.filter(pk=game_id).first()
    return dict(GameServerGameSerializer(game).data) if game is not None else None


def game_containers(game_id: int) -> ContainerSnapshot:
    """The game's containers as the game-server API shows them."""
    return _containers.get_or_load(game_id, lambda: _load_containers(game_id))


def game_details(game_id: int) -> dict[str, Any] | None:
    """The game as the game-server API shows it; None once it was deleted."""
    return _games.get_or_load(game_id, lambda: _load_game(game_id))


def clear() -> None:
    _containers.clear()
    _games.clear()
