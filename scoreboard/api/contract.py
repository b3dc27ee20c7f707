"""The declarations of ``POST /api/v1/scores/update``: its signed body (``scoreboard.update_body``, validated by
the service after the signature check) and its answer."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from adplatform.api.contract import Contract
from scoreboard.update_body import ScoreUpdateBody

__all__ = ["ScoreUpdateBody", "ScoreUpdateResult"]


class ScoreUpdateResult(Contract, kw_only=True):
    player_id: int
    score: int
    previous_score: int
    increment: int
    rank: Annotated[int | None, Meta(description="1-based rank after the update (null if unknown).")]
