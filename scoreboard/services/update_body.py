"""The signed body of ``POST /api/v1/scores/update`` (and of each item of the batch), declared once.

``ScoreUpdateBody`` validates the body after its signature is checked (``scoreboard.services.score_submit``)
and is the request schema of ``/api/schema/``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from msgspec import UNSET, Meta, UnsetType

from adplatform.core.api.contract import Contract, convert, decode, prepare
from adplatform.core.api.errors import DomainError

MAX_BODY_BYTES = 4096
_PRINTABLE = r"^[\x21-\x7e]+$"
_SERVER_COMPUTES = "The server computes the score from the action type; do not send it."


class ScoreUpdateBody(Contract, kw_only=True):
    action_type: Annotated[
        str, Meta(pattern=r"^[-a-zA-Z0-9_]{1,64}$", description="The key of an active action type of the game.")
    ]
    action_id: Annotated[
        str,
        Meta(
            min_length=1, max_length=100, pattern=_PRINTABLE, description="Unique per action and game; credited once."
        ),
    ]
    nonce: Annotated[str, Meta(min_length=8, max_length=100, pattern=_PRINTABLE, description="New for every request.")]
    timestamp: Annotated[float, Meta(description="Unix time in seconds; at most 300 s from server time.")]
    # Never sent: the increment comes from the action type's rules (declared so that sending one is a 400)
    score: Annotated[Any, Meta(description=_SERVER_COMPUTES)] | UnsetType = UNSET
    increment: Annotated[Any, Meta(description=_SERVER_COMPUTES)] | UnsetType = UNSET

    schema_extra = {"not": {"anyOf": [{"required": ["score"]}, {"required": ["increment"]}]}}

    def __post_init__(self) -> None:
        for name in ("score", "increment"):
            if getattr(self, name) is not UNSET:
                raise ValueError(f"{name}: {_SERVER_COMPUTES}")  # msgspec reports it as a ValidationError
        if not math.isfinite(self.timestamp):
            raise ValueError("timestamp: Unix time in seconds (a number).")


def update_body_decode(raw_body: bytes) -> ScoreUpdateBody:
    """The raw (signed) body checked by its declaration, or the API's 400."""
    if len(raw_body) > MAX_BODY_BYTES:
        raise DomainError(
            "validation_error", "Invalid input.", details={"non_field_errors": ["The body is too large."]}
        )
    return decode(raw_body, ScoreUpdateBody)


def update_body_convert(data: Any) -> ScoreUpdateBody:
    """One already parsed update (an item of ``POST /api/v1/scores/update/batch``) checked the same way."""
    return convert(data, ScoreUpdateBody)


# msgspec type info built now, at import, not by two threads at once on the first requests
prepare(ScoreUpdateBody)
