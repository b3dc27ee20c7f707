"""Helpers shared by the clients."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from integrations.roblox.errors import RobloxBadResponse


def unique_ids(ids: Iterable[int]) -> list[int]:
    """The ids once each, in the order given; refuses anything but positive integers."""
    seen: dict[int, None] = {}
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"Roblox ids are positive integers, got {value!r}")
        seen.setdefault(value, None)
    return list(seen)


def chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def data_items(body: Any, what: str) -> list[dict[str, Any]]:
    """The ``data`` array of a legacy list response (``{"data": [...]}``)."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise RobloxBadResponse(f"unexpected {what} response from Roblox: no data array")
    return [item for item in body["data"] if isinstance(item, dict)]


def join_ids(ids: list[int]) -> str:
    return ",".join(str(i) for i in ids)
