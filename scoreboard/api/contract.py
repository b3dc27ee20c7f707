"""The declarations of ``POST /api/v1/scores/update``: its signed body (``scoreboard.services.update_body``,
validated by the service after the signature check) and its answer."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import UNSET, Meta, UnsetType

from adplatform.core.api.contract import Contract, ErrorDetail, prepare
from scoreboard.batch import MAX_BATCH
from scoreboard.services.update_body import ScoreUpdateBody

__all__ = ["ScoreBatch", "ScoreBatchItem", "ScoreBatchResult", "ScoreUpdateBody", "ScoreUpdateResult"]


class ScoreUpdateResult(Contract, kw_only=True):
    player_id: int
    score: int
    previous_score: int
    increment: int
    rank: Annotated[int | None, Meta(description="1-based rank after the update (null if unknown).")]


# --------------------------------------------------------------------------- POST /api/v1/scores/update/batch


class ScoreBatchItem(ScoreUpdateBody, kw_only=True):
    """One item: its player's score token and a score update body (validated by ``ScoreUpdateBody`` itself)."""

    token: Annotated[str, Meta(min_length=1, description="The player's score token.")]


class ScoreBatch(Contract, kw_only=True):
    # each item is checked on its own by the service (one bad item never fails the others)
    updates: Annotated[
        list[Any],
        Meta(min_length=1, description=f"At most {MAX_BATCH} (more is 413 `batch_too_large`).",
             extra_json_schema={"maxItems": MAX_BATCH}),
    ]  # fmt: skip

    schema_includes = (ScoreBatchItem,)
    schema_extra = {"properties": {"updates": {"items": {"$ref": "#/components/schemas/ScoreBatchItem"}}}}


class ScoreBatchOutcome(Contract, kw_only=True):
    index: int
    status: int
    result: ScoreUpdateResult | UnsetType = UNSET
    error: ErrorDetail | UnsetType = UNSET


class ScoreBatchResult(Contract, kw_only=True):
    credited: int
    results: Annotated[list[ScoreBatchOutcome], Meta(description="In request order.")]


# msgspec type info built now, at import, not by two threads at once on the first requests
prepare(ScoreUpdateResult, ScoreBatchItem, ScoreBatch, ScoreBatchOutcome, ScoreBatchResult)
