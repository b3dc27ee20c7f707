"""How every page spells money, times, countries and upstream trouble: one helper per kind of value.

- Money: ``$1,234.50``, always 2 decimals; prices per impression (CPM, bids) below a cent keep
  their significant digits (``$0.0042``); a non-zero amount that would read ``$0.00`` reads ``<$0.01``.
- Times: in the person's zone (``User.time_zone``, activated by ``TimeZoneMiddleware``) with the
  zone's name: ``2026-12-03 09:40 UTC``.
- Countries: ``Germany``, not ``DE``.
- Upstream failures: what happened and what we do about it, never internal state.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import timezone
from django.utils.dateformat import format as date_format

from adplatform.core.countries import COUNTRY_NAMES

CENT = Decimal("0.01")


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return amount if amount.is_finite() else None


def format_money(value, *, rate: bool = False, currency: str = "$") -> str:
    """``$1,234.50``; ``rate=True`` for CPMs and bids keeps sub-cent digits (``$0.0042``). ``—`` for nothing."""
    amount = _decimal(value)
    if amount is None:
        return "—"
    sign = "-" if amount < 0 else ""
    magnitude = abs(amount)
    if magnitude and magnitude < CENT:
        if rate:
            text = f"{magnitude.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP):f}".rstrip("0")
            if text.endswith("."):  # pragma: no cover - a sub-cent value always has digits
                text += "00"
            return f"{sign}{currency}{text}" if text != "0." else f"<{currency}0.0001"
        rounded = magnitude.quantize(CENT, rounding=ROUND_HALF_UP)
        if rounded == 0:
            return f"{'>-' if sign else '<'}{currency}0.01"
    rounded = magnitude.quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{sign}{currency}{rounded:,.2f}"


def format_when(value: datetime | None, *, seconds: bool = False) -> str:
    """``2026-12-03 09:40 UTC`` in the active (the person's) zone; ``—`` for nothing."""
    if value is None:
        return "—"
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, "Y-m-d H:i:s T" if seconds else "Y-m-d H:i T")


def format_clock_utc(value: datetime) -> str:
    """``06:29 UTC``: the short form the status lines use."""
    return value.astimezone(UTC).strftime("%H:%M UTC")


def country_name(code: str | None) -> str:
    if not code:
        return "Unknown"
    return COUNTRY_NAMES.get(str(code).upper(), str(code))


_SERVER_ERROR = re.compile(r"\b5\d\d\b")


def upstream_problem(error: str, when: datetime | None) -> str:
    """A stored sync error as people read it: what failed, and that we retry by ourselves.

    The sync records errors such as ``Roblox unavailable: circuit open for apis.roblox.com: not
    calling it for 29.5s; retrying in about 30 s``; owners see ``Couldn't reach Roblox; retrying
    automatically (last try 06:29 UTC)``.
    """
    text = (error or "").strip()
    last = f" (last try {format_clock_utc(when)})" if when else ""
    lowered = text.lower()
    if not text:
        return ""
    unreachable = ("roblox unavailable", "circuit", "timed out", "timeout", "connection", "unavailable")
    if any(word in lowered for word in unreachable) or _SERVER_ERROR.search(lowered):
        if "429" in lowered or "rate" in lowered:
            return f"Roblox asked us to slow down; retrying automatically{last}."
        return f"Couldn't reach Roblox; retrying automatically{last}."
    if "not found on roblox" in lowered:
        what = "place" if "place" in lowered else ("universe" if "universe" in lowered else "item")
        return f"Roblox has no {what} with this id: check the id{last}."
    if lowered.startswith("roblox refused"):
        return f"Roblox refused the request; we try again at the next sync{last}."
    return text
