"""What game pages show of ad delivery, measured by the app above (ads registers itself at start).

games is below ads in the house's layers: it defines the hook and never imports ads. ``ads.apps`` registers the
provider; without one the pages show no delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_figures: Callable[[str, list[int], int], dict[int, Any]] | None = None
_empty: Callable[[], Any] | None = None


def register(*, figures: Callable[[str, list[int], int], dict[int, Any]], empty: Callable[[], Any]) -> None:
    """``figures(column, ids, days)``: ``{id: figures}`` of the games (``game_id``) or containers (``container_id``)
    over the last ``days`` days; ``empty()``: the figures of nothing delivered."""
    global _figures, _empty
    _figures, _empty = figures, empty


def delivery(column: str, ids: list[int], days: int) -> dict[int, Any]:
    return _figures(column, ids, days) if _figures is not None and ids else {}


def nothing() -> Any:
    return _empty() if _empty is not None else None
