"""The declaration of one engagement event of ``POST /api/v1/events`` (validated per event by ``ads.events``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from msgspec import Meta

from adplatform.core.api.contract import Contract, prepare
from ads.models import EngagementType

# Roblox's HttpService:GenerateGUID() wraps the UUID in braces; both forms, with or without dashes
UUID_TEXT = Annotated[
    str,
    Meta(
        pattern=r"^\{?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\}?$",
        description="A UUID, also in braces as Roblox's GenerateGUID() writes it.",
    ),
]
EmptyList = Annotated[list[Any], Meta(max_length=0, description="Roblox's JSONEncode writes an empty table as [].")]


MAX_EVENTS = 500
Fraction = Annotated[float, Meta(ge=0, le=1)]


class Viewability(Contract, kw_only=True):
    duration_ms: Annotated[float, Meta(ge=0, le=86_400_000)] = 0
    screen_coverage: Fraction = 0
    visible_fraction: Fraction = 0
    angle_deg: Annotated[float, Meta(ge=0, le=180)] = 0


class Event(Contract, kw_only=True):
    """One event. Each is checked on its own: one bad event is rejected, never the batch."""

    event_id: UUID_TEXT
    type: Literal[tuple(EngagementType.values)]  # type: ignore[valid-type]
    decision_id: UUID_TEXT
    tracking_token: str = ""
    player_id: int
    occurred_at: Annotated[
        datetime,
        Meta(
            description="ISO 8601 with a timezone.",
            # what msgspec's datetime takes, with the offset this endpoint requires (the schema's own check)
            extra_json_schema={"pattern": r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"},
        ),
    ]
    viewability: Annotated[Viewability | EmptyList | None, Meta(description="Impressions only.")] = None
    metadata: Annotated[dict[str, Any] | EmptyList | None, Meta(description="At most 2 KB of JSON.")] = None

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:  # the schema's pattern requires the offset too
            raise ValueError("occurred_at: an ISO 8601 time with a timezone.")


# msgspec type info built now, at import, not by two threads at once on the first requests
prepare(Event)
