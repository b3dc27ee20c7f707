"""Campaign targeting: validation and normalisation of the ``targeting`` object.

Every key is optional; a missing or empty list means "no restriction". Roblox's
JSON encoder turns ``{}`` into ``[]``, so an empty list is accepted for the
whole object too.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

from ads.countries import COUNTRY_CODES
from ads.models import Device
from games.models import ContainerType

TARGETING_KEYS = (
    "countries_included",
    "countries_excluded",
    "devices",
    "segments",
    "days_of_week",
    "hours_utc",
    "games_included",
    "games_excluded",
    "container_types",
)
_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")


def _as_list(value: Any, key: str, errors: dict[str, list[str]]) -> list | None:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        errors.setdefault(key, []).append("Must be a list.")
        return None
    return list(value)


def _ints(values: list, key: str, low: int, high: int | None, errors: dict[str, list[str]]) -> list[int]:
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().lstrip("-").isdigit():
            errors.setdefault(key, []).append(f"{value!r} is not a whole number.")
            continue
        number = int(value)
        if number < low or (high is not None and number > high):
            bound = f"{low} to {high}" if high is not None else f"at least {low}"
            errors.setdefault(key, []).append(f"{number} is out of range ({bound}).")
            continue
        out.append(number)
    return sorted(set(out))


def clean_targeting(raw: Any) -> dict[str, list]:
    """Return the normalised targeting (sorted, de-duplicated, upper-case countries) or raise ValidationError."""
    if raw in (None, "", []):
        return {}
    if not isinstance(raw, dict):
        raise ValidationError({"targeting": "Must be an object."})
    errors: dict[str, list[str]] = {}
    unknown = set(raw) - set(TARGETING_KEYS)
    for key in sorted(unknown):
        errors[key] = [f"Unknown targeting key; use {', '.join(TARGETING_KEYS)}."]
    clean: dict[str, list] = {}
    for key in TARGETING_KEYS:
        values = _as_list(raw.get(key), key, errors)
        if not values:
            continue
        if key in ("countries_included", "countries_excluded"):
            codes = sorted({str(v).strip().upper() for v in values})
            bad = [c for c in codes if c not in COUNTRY_CODES]
            if bad:
                errors[key] = [f"Unknown country codes: {', '.join(bad)} (use ISO 3166 two-letter codes)."]
            clean[key] = codes
        elif key == "devices":
            devices = sorted({str(v).strip().lower() for v in values})
            bad = [d for d in devices if d not in Device.values]
            if bad:
                errors[key] = [f"Unknown devices: {', '.join(bad)} (use {', '.join(Device.values)})."]
            clean[key] = devices
        elif key == "segments":
            segments = sorted({str(v).strip().lower() for v in values})
            bad = [s for s in segments if not _SEGMENT.match(s)]
            if bad:
                errors[key] = [f"Segments are short lower-case names; not {', '.join(map(repr, bad))}."]
            clean[key] = segments
        elif key == "days_of_week":
            clean[key] = _ints(values, key, 0, 6, errors)
        elif key == "hours_utc":
            clean[key] = _ints(values, key, 0, 23, errors)
        elif key in ("games_included", "games_excluded"):
            clean[key] = _ints(values, key, 1, None, errors)
        elif key == "container_types":
            types = sorted({str(v).strip().upper() for v in values})
            bad = [t for t in types if t not in ContainerType.values]
            if bad:
                errors[key] = [f"Unknown container types: {', '.join(bad)}."]
            clean[key] = types
    for a, b in (("countries_included", "countries_excluded"), ("games_included", "games_excluded")):
        both = set(clean.get(a, [])) & set(clean.get(b, []))
        if both:
            errors.setdefault(b, []).append(f"Both included and excluded: {', '.join(map(str, sorted(both)))}.")
    if errors:
        raise ValidationError({f"targeting.{key}": messages for key, messages in errors.items()})
    return {k: v for k, v in clean.items() if v}
