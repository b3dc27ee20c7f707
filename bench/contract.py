"""The hot paths' request validation: the old hand parsers against the msgspec declarations, in one run.

    DEBUG=true .venv/bin/python bench/contract.py [--rounds 7] [--number 20000]

Each body is representative of what game servers send (bench/decisions.py, bench/events.py and
bench/scores.py send the same shapes). The baseline is the hand parser the declarations replaced,
copied here as it was (json.loads, then field checks); the new path is ``adplatform.core.api.contract.decode``
through the endpoint's Struct, ending in the same value the service takes (a ``Player``, the checked
event fields, the score update body). Token verification, common to both event paths, is left out of
both. Rounds alternate old and new; the median round decides, and the ratio old/new is printed (above
1 means the declaration is faster). No database or Redis is touched.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
import time
import timeit
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.project.settings")
os.environ.setdefault("DEBUG", "true")

import django

django.setup()

from django.utils import timezone  # noqa: E402
from django.utils.dateparse import parse_datetime  # noqa: E402

from adplatform.core.api.contract import decode  # noqa: E402
from ads import events as ad_events  # noqa: E402
from ads.api.contract import DecisionBatchRequest, DecisionRequest, EventBatch  # noqa: E402
from ads.countries import COUNTRY_CODES  # noqa: E402
from ads.decisions import Player  # noqa: E402
from ads.models import Device, EngagementType  # noqa: E402
from scoreboard.services.update_body import update_body_decode  # noqa: E402

# --------------------------------------------------------------------------- the baseline: the old hand parsers

_MAX_ID = 2**63 - 1
_AGE_BRACKETS = frozenset({"under13", "13+", "unknown"})
_DEVICES = frozenset(Device.values)


class _Invalid(Exception):
    pass


def _positive_id(value) -> bool:
    return type(value) is int and 0 < value <= _MAX_ID


def old_parse_decision_request(data) -> tuple[int, Player, str]:
    if not isinstance(data, dict):
        raise _Invalid({"non_field_errors": ["Expected a JSON object."]})
    errors: dict = {}
    container_id = data.get("container_id")
    if not _positive_id(container_id):
        errors["container_id"] = ["A positive integer is required."]
    raw = data.get("player")
    player_errors: dict = {}
    if not isinstance(raw, dict):
        errors["player"] = ["An object is required."]
        raw = {}
    player_id = raw.get("id")
    if not _positive_id(player_id):
        player_errors["id"] = ["The Roblox user id, a positive integer."]
    country = raw.get("country") or ""
    if not isinstance(country, str) or (country and country.strip().upper() not in COUNTRY_CODES):
        player_errors["country"] = ["An ISO 3166 two-letter country code, e.g. US."]
        country = ""
    device = raw.get("device") or ""
    if not isinstance(device, str):
        player_errors["device"] = [f"One of {', '.join(sorted(_DEVICES))}."]
        device = ""
    elif device and device not in _DEVICES:
        player_errors["device"] = [f"One of {', '.join(sorted(_DEVICES))}."]
    age = raw.get("age_bracket") or "unknown"
    if not isinstance(age, str) or age not in _AGE_BRACKETS:
        player_errors["age_bracket"] = ["One of under13, 13+, unknown."]
    ads_allowed = raw.get("ads_allowed", False)
    if type(ads_allowed) is not bool:
        player_errors["ads_allowed"] = ["Must be true or false."]
    segments = raw.get("segments") or []
    if (
        not isinstance(segments, list)
        or len(segments) > 50
        or not all(isinstance(s, str) and len(s) <= 50 for s in segments)
    ):
        player_errors["segments"] = ["A list of at most 50 short names."]
        segments = []
    server_id = data.get("server_id") or ""
    if not isinstance(server_id, str) or len(server_id) > 100:
        errors["server_id"] = ["A string of at most 100 characters."]
    if player_errors:
        errors["player"] = player_errors
    if errors:
        raise _Invalid(errors)
    player = Player(
        id=player_id,  # type: ignore[arg-type]  # the old parser, verbatim: the baseline
        country=country.strip().upper(),
        device=device,
        age_bracket=age,
        ads_allowed=ads_allowed,
        segments=frozenset(s.strip().lower() for s in segments),
    )
    return container_id, player, server_id  # type: ignore[return-value]  # the old parser, verbatim: the baseline


def old_parse_batch(data):
    ids = data.get("container_ids")
    if not isinstance(ids, list) or not ids:
        raise _Invalid("container_ids")
    house_only = data.get("house_only", False)
    if type(house_only) is not bool:
        raise _Invalid("house_only")
    _, player, server_id = old_parse_decision_request(
        {"container_id": 1, "player": data.get("player"), "server_id": data.get("server_id")}
    )
    return ids, player, server_id, house_only


def _number(value, low, high):
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Invalid("number")
    if not low <= value <= high:
        raise _Invalid("range")
    return float(value)


def _old_viewability(raw):
    if raw is None or raw == [] or raw == {}:
        return None
    if not isinstance(raw, dict):
        raise _Invalid("viewability")
    return {
        "duration_ms": int(_number(raw.get("duration_ms", 0), 0, 86_400_000)),
        "screen_coverage": _number(raw.get("screen_coverage", 0), 0, 1),
        "visible_fraction": _number(raw.get("visible_fraction", 0), 0, 1),
        "angle_deg": _number(raw.get("angle_deg", 0), 0, 180),
    }


def _old_uuid(value):
    try:
        return uuid.UUID(str(value).strip())
    except (ValueError, AttributeError):
        raise _Invalid("uuid") from None


_TYPES = frozenset(EngagementType.values)


def old_event_fields(raw, now):
    """The old ``ads.events._validate`` without the token check (common to both paths)."""
    if not isinstance(raw, dict):
        raise _Invalid("object")
    event_id = _old_uuid(raw.get("event_id"))
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in _TYPES:
        raise _Invalid("type")
    decision_id = _old_uuid(raw.get("decision_id"))
    _ = raw.get("tracking_token") or ""
    player = raw.get("player_id")
    if isinstance(player, bool) or not isinstance(player, int):
        raise _Invalid("player")
    occurred = parse_datetime(str(raw.get("occurred_at") or "")) if isinstance(raw.get("occurred_at"), str) else None
    if occurred is None or timezone.is_naive(occurred):
        raise _Invalid("occurred_at")
    viewability = _old_viewability(raw.get("viewability")) if kind == "impression" else None
    metadata = raw.get("metadata")
    if metadata in ([], None):
        metadata = {}
    if not isinstance(metadata, dict) or (metadata and len(json.dumps(metadata)) > 2000):
        raise _Invalid("metadata")
    return str(event_id), kind, str(decision_id), player, occurred.timestamp(), viewability, metadata


def old_events(body: bytes, now):
    data = json.loads(body)
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list) or len(events) > 500:
        raise _Invalid("events")
    server_id = data.get("server_id", "")
    if not isinstance(server_id, str) or len(server_id) > 100:  # EventBatchSerializer's checks, roughly
        raise _Invalid("server_id")
    return [old_event_fields(raw, now) for raw in events]


_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")
_SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")


def old_parse_update_body(raw_body: bytes):
    if len(raw_body) > 4096:
        raise _Invalid("size")
    data = json.loads(raw_body)
    if not isinstance(data, dict):
        raise _Invalid("object")
    errors: dict[str, list[str]] = {}

    def text(field, pattern, limit, hint):
        value = data.get(field)
        if value is None:
            errors[field] = ["This field is required."]
        elif not isinstance(value, str) or not 0 < len(value) <= limit or not pattern.match(value):
            errors[field] = [hint]
        return value if isinstance(value, str) else ""

    action_type = text("action_type", _SLUG, 64, "k")
    action_id = text("action_id", _PRINTABLE, 100, "a")
    nonce = text("nonce", _PRINTABLE, 100, "n")
    if "nonce" not in errors and len(nonce) < 8:
        errors["nonce"] = ["n"]
    timestamp = data.get("timestamp")
    if (
        timestamp is None
        or isinstance(timestamp, bool)
        or not isinstance(timestamp, int | float)
        or not math.isfinite(timestamp)
    ):
        errors["timestamp"] = ["t"]
    for field in ("score", "increment"):
        if field in data:
            errors[field] = ["s"]
    if errors:
        raise _Invalid(errors)
    return action_type, action_id, nonce, float(timestamp)  # type: ignore[arg-type]  # the old parser, verbatim: the baseline


# --------------------------------------------------------------------------- the new path (what the views run)


def new_decision(body: bytes):
    ask = decode(body, DecisionRequest)
    return ask.container_id, ask.player.decision_player(), ask.server_id or ""


def new_batch(body: bytes):
    ask = decode(body, DecisionBatchRequest)
    return ask.container_ids, ask.player.decision_player(house_only=ask.house_only), ask.server_id or ""


def new_events(body: bytes, now):
    batch = decode(body, EventBatch)
    out = []
    for raw in batch.events:
        event = ad_events._event(raw)  # the service's own per-event decode
        occurred = event.occurred_at
        out.append((ad_events._uuid(event.event_id), event.type, ad_events._uuid(event.decision_id), occurred))
    return out


# --------------------------------------------------------------------------- bodies

PLAYER = {"id": 123456789, "country": "US", "device": "mobile", "age_bracket": "13+", "ads_allowed": True,
          "segments": ["rpg", "racing"]}  # fmt: skip
DECISION = json.dumps({"container_id": 12, "player": PLAYER, "server_id": "roblox-job-id"}).encode()
BATCH = json.dumps(
    {"container_ids": list(range(1, 9)), "player": PLAYER, "server_id": "roblox-job-id"}
).encode()  # fmt: skip


def _events(n: int) -> bytes:
    now = timezone.now().isoformat().replace("+00:00", "Z")
    events: list[dict[str, Any]] = []
    for i in range(n):
        event: dict[str, Any] = {"event_id": str(uuid.uuid4()), "type": "impression" if i % 4 else "click",
                                 "decision_id": str(uuid.uuid4()), "tracking_token": "x" * 180,
                                 "player_id": 123456789, "occurred_at": now}  # fmt: skip
        if i % 4:
            event["viewability"] = {"duration_ms": 1400, "screen_coverage": 0.031, "visible_fraction": 0.8,
                                    "angle_deg": 30}  # fmt: skip
        events.append(event)
    return json.dumps({"events": events, "server_id": "roblox-job-id"}).encode()


SCORE = json.dumps(
    {"action_type": "coin_collected", "action_id": "a-7f3c9e2b", "nonce": "n-5d1e8a4c6b", "timestamp": time.time()}
).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=20000, help="calls per round for single bodies")
    args = parser.parse_args()
    now = timezone.now()
    events_10, events_100 = _events(10), _events(100)
    cases = [
        ("decision", DECISION, lambda b: old_parse_decision_request(json.loads(b)), new_decision, args.number),
        ("decision batch (8 ids)", BATCH, lambda b: old_parse_batch(json.loads(b)), new_batch, args.number),
        ("events (10)", events_10, lambda b: old_events(b, now), lambda b: new_events(b, now), args.number // 10),
        ("events (100)", events_100, lambda b: old_events(b, now), lambda b: new_events(b, now), args.number // 100),
        ("score update", SCORE, old_parse_update_body, update_body_decode, args.number),
    ]
    print(f"Request validation, old hand parser vs declaration; median of {args.rounds} alternating rounds")
    print(f"{'body':<24}{'old us/call':>13}{'new us/call':>13}{'old/new':>9}")
    for name, body, old, new, number in cases:
        assert old(body) and new(body), name  # both accept the body
        olds, news = [], []
        for _ in range(args.rounds):
            olds.append(timeit.timeit(lambda: old(body), number=number) / number)  # noqa: B023
            news.append(timeit.timeit(lambda: new(body), number=number) / number)  # noqa: B023
        o, n = statistics.median(olds), statistics.median(news)
        print(f"{name:<24}{o * 1e6:>13.2f}{n * 1e6:>13.2f}{o / n:>8.2f}x")


if __name__ == "__main__":
    main()
