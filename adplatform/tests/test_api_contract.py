"""The hot endpoints answer what ``/api/schema/`` says, and refuse exactly what it refuses.

1. Real answers of decisions (campaign fill, house fill, unfilled), batch decisions, events and score updates,
   made with valid credentials and valid bodies, are checked by schemathesis against the served schema.
2. A table of good and bad bodies (wrong types inside valid shapes, nulls, strings for ints, huge and deeply
   nested bodies) is judged twice: by the served request schema (JSON Schema) and by the running endpoint
   (400 ``validation_error``/``malformed_json``, or for an event its ``validation_error`` rejection). The
   two verdicts must agree: the schema is the validator, not a description of it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from decimal import Decimal
from typing import Any
from unittest import mock

import jsonschema
import pytest
import schemathesis
from django.test import Client as DjangoClient
from django.utils import timezone
from werkzeug.test import Client

from ads.budget import budget_rebuild
from ads.decisions import engine
from ads.tests.factories import CampaignFactory, CreativeFactory
from games.tests.factories import AdContainerFactory, AssetFactory, PlaylistFactory, make_api_key
from scoreboard.tests.factories import ActionTypeFactory, GameServer

pytestmark = pytest.mark.django_db

VIEWABLE = {"duration_ms": 1400, "screen_coverage": 0.031, "visible_fraction": 0.8, "angle_deg": 30}


@pytest.fixture(autouse=True)
def _no_worker():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        yield


@pytest.fixture
def app():
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


@pytest.fixture
def served(client) -> dict[str, Any]:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def world():
    """A game with a paid campaign on one container, house content on another, and nothing on a third."""
    paid = AdContainerFactory(floor_price_cpm=Decimal("1"))
    house = AdContainerFactory(game=paid.game, type=paid.type, floor_price_cpm=Decimal("1000"))
    empty = AdContainerFactory(game=paid.game, type=paid.type, floor_price_cpm=Decimal("1000"))
    playlist = PlaylistFactory(game=paid.game, container_type=paid.type)
    playlist.items.create(position=1, asset=AssetFactory(), display_seconds=12)
    house.playlist = playlist
    house.save()
    campaign = CampaignFactory(status="ACTIVE", max_bid=Decimal("4"), pacing="ASAP", total_budget=Decimal("10"))
    CreativeFactory(campaign=campaign, kind=paid.type)
    budget_rebuild(campaign_ids=[campaign.pk])
    ActionTypeFactory(game=paid.game, key="coin_collected")
    engine.reset()
    _, raw, _ = make_api_key(paid.game)
    return {"paid": paid, "house": house, "empty": empty, "key": raw, "server": GameServer(paid.game)}


def player(**overrides) -> dict[str, Any]:
    return {"id": 4242, "country": "US", "device": "mobile", "age_bracket": "13+", "ads_allowed": True, **overrides}


class Answer:
    """Django's or werkzeug's response: status and body alike."""

    def __init__(self, status_code: int, data: bytes, raw: Any = None):
        self.status_code, self.data, self.raw = status_code, data, raw


def post(app, path: str, body: Any, headers: dict[str, str]):
    """Through the WSGI app (werkzeug, for schemathesis) when ``app`` is given, else Django's test client."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if app is not None:
        return Client(app).post(path, data=raw, headers=headers, content_type="application/json")
    response = DjangoClient().generic("POST", path, raw, content_type="application/json", headers=headers)
    return Answer(response.status_code, response.content)


def signed_update(app, world, body: Any, token: str):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    signature = hmac.new(world["server"].secret.encode(), raw, hashlib.sha256).hexdigest()
    return post(app, "/api/v1/scores/update", raw, {"Authorization": f"Bearer {token}", "X-Signature": signature})


# --------------------------------------------------------------------------- 1. real answers against /api/schema/


@pytest.mark.django_db(transaction=True)  # the WSGI app closes its connection after each request
def test_real_answers_of_every_hot_endpoint_match_the_served_schema(app, world):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
    key = {"X-API-Key": world["key"]}

    def check(path: str, response, status: int) -> dict[str, Any]:
        assert response.status_code == status, response.data
        schema[path]["POST"].validate_response(response)  # raises with the mismatch named
        return json.loads(response.data)

    decisions = {
        name: check("/api/v1/decisions", post(app, "/api/v1/decisions", {"container_id": world[name].pk,
                    "player": player(), "server_id": "job-1"}, key), 200)
        for name in ("paid", "house", "empty")
    }  # fmt: skip
    assert decisions["paid"]["source"] == "campaign" and decisions["paid"]["pricing"] == "CPM"
    assert "placement_id" in decisions["paid"]["creative"]
    assert decisions["house"]["source"] == "house" and decisions["house"]["creative"]["display_seconds"] == 12
    assert decisions["empty"]["filled"] is False and "creative" not in decisions["empty"]

    batch = check("/api/v1/decisions/batch", post(app, "/api/v1/decisions/batch", {
        "container_ids": [world["paid"].pk, world["house"].pk, world["empty"].pk, "x", 10**12],
        "player": player(id=4243)}, key), 200)  # fmt: skip
    assert [d.get("status") for d in batch["decisions"]] == [None, None, None, 400, 404]

    paid = decisions["paid"]
    now = timezone.now().isoformat()
    events = [
        {"event_id": str(uuid.uuid4()), "type": "impression", "decision_id": paid["decision_id"],
         "tracking_token": paid["tracking_token"], "player_id": 4242, "occurred_at": now, "viewability": VIEWABLE},
        {"event_id": str(uuid.uuid4()), "type": "click", "decision_id": paid["decision_id"],
         "tracking_token": "forged", "player_id": 4242, "occurred_at": now},
    ]  # fmt: skip
    result = check("/api/v1/events", post(app, "/api/v1/events", {"events": events}, key), 202)
    assert result["accepted"] == 1 and result["rejected"][0]["code"] == "token_invalid"

    token = world["server"].token(4242)
    update = signed_update(app, world, GameServer.body(), token)
    assert check("/api/v1/scores/update", update, 200)["increment"] > 0

    issued = world["server"].keyed().post("/api/v1/scores/signing-keys", {"server_id": "job-1"}, format="json")
    server_key = issued.json()
    raw = json.dumps({"updates": [{"token": token, **GameServer.body()}, {"token": token, "action_type": "x"}]})
    signature = hmac.new(server_key["secret"].encode(), raw.encode(), hashlib.sha256).hexdigest()
    answer = post(app, "/api/v1/scores/update/batch", raw.encode(),
                  {"X-Signing-Key": server_key["key_id"], "X-Signature": signature})  # fmt: skip
    outcomes = check("/api/v1/scores/update/batch", answer, 200)["results"]
    assert [o["status"] for o in outcomes] == [200, 400]


# --------------------------------------------------------------------------- 2. the schema's verdict is the code's


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 to JSON Schema: ``nullable`` becomes a union with null."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def schema_accepts(served: dict[str, Any], component: str, body: Any) -> bool:
    if isinstance(body, bytes):  # nested deeper than a JSON parser takes: no validator sees a document
        try:
            body = json.loads(body)
        except RecursionError:
            return False
    document: dict[str, Any] = {"components": {"schemas": _json_schema(served["components"]["schemas"])}}
    document["$ref"] = f"#/components/schemas/{component}"
    try:
        jsonschema.Draft202012Validator(document).validate(body)
    except (jsonschema.ValidationError, RecursionError):
        return False
    return True


def deep(levels: int) -> bytes:
    return b"[" * levels + b"1" + b"]" * levels


def raw(before: dict[str, Any], key: str, value: bytes) -> bytes:
    """``before`` as JSON with ``key`` set to ``value``, raw bytes (too deep for json.dumps to write)."""
    text = json.dumps({**before, key: "@@"}).encode()
    return text.replace(b'"@@"', value)


C = "{container}"  # replaced by a real container id of the game

DECISION_BODIES: list[tuple[str, Any, bool]] = [
    ("complete", {"container_id": C, "player": player(), "server_id": "job"}, True),
    ("only the ids", {"container_id": C, "player": {"id": 1}}, True),
    ("country null", {"container_id": C, "player": player(country=None)}, True),
    ("country blank", {"container_id": C, "player": player(country="")}, True),
    ("country lower case", {"container_id": C, "player": player(country="us")}, True),
    ("device null", {"container_id": C, "player": player(device=None)}, True),
    ("device blank", {"container_id": C, "player": player(device="")}, True),
    ("age bracket null", {"container_id": C, "player": player(age_bracket=None)}, True),
    ("segments null", {"container_id": C, "player": player(segments=None)}, True),
    ("server id null", {"container_id": C, "player": player(), "server_id": None}, True),
    ("an unknown field", {"container_id": C, "player": player(), "sdk": "1.2"}, True),
    ("container id as a string", {"container_id": "12", "player": player()}, False),
    ("container id null", {"container_id": None, "player": player()}, False),
    ("container id 0", {"container_id": 0, "player": player()}, False),
    ("container id above bigint", {"container_id": 2**63, "player": player()}, False),
    ("container id a float", {"container_id": 1.5, "player": player()}, False),
    ("container id true", {"container_id": True, "player": player()}, False),
    ("no player", {"container_id": C}, False),
    ("player null", {"container_id": C, "player": None}, False),
    ("player a string", {"container_id": C, "player": "4242"}, False),
    ("player id as a string", {"container_id": C, "player": player(id="4242")}, False),
    ("player id negative", {"container_id": C, "player": player(id=-5)}, False),
    ("country of three letters", {"container_id": C, "player": player(country="USA")}, False),
    ("country unknown", {"container_id": C, "player": player(country="ZZ")}, False),
    ("country a number", {"container_id": C, "player": player(country=7)}, False),
    ("device unknown", {"container_id": C, "player": player(device="toaster")}, False),
    ("device a list", {"container_id": C, "player": player(device=[None])}, False),
    ("age bracket unknown", {"container_id": C, "player": player(age_bracket="12")}, False),
    ("ads allowed a string", {"container_id": C, "player": player(ads_allowed="yes")}, False),
    ("ads allowed 1", {"container_id": C, "player": player(ads_allowed=1)}, False),
    ("ads allowed null", {"container_id": C, "player": player(ads_allowed=None)}, False),
    ("segments a string", {"container_id": C, "player": player(segments="rpg")}, False),
    ("51 segments", {"container_id": C, "player": player(segments=["x"] * 51)}, False),
    ("a segment too long", {"container_id": C, "player": player(segments=["x" * 51])}, False),
    ("a segment a number", {"container_id": C, "player": player(segments=[1])}, False),
    ("huge segments", {"container_id": C, "player": player(segments=["x"] * 20_000)}, False),
    ("deep segments", raw({"container_id": C}, "player", raw(player(), "segments", deep(3000))), False),
    ("server id too long", {"container_id": C, "player": player(), "server_id": "s" * 101}, False),
    ("server id a number", {"container_id": C, "player": player(), "server_id": 5}, False),
    ("a list", [1, 2], False),
    ("a string", "decide", False),
    ("null", None, False),
]


def _fill(body: Any, container_id: int) -> Any:
    if isinstance(body, bytes):
        return body.replace(b'"{container}"', str(container_id).encode())
    if isinstance(body, dict):
        return {k: container_id if v == C else _fill(v, container_id) for k, v in body.items()}
    return body


@pytest.mark.parametrize(("name", "body", "valid"), DECISION_BODIES, ids=[b[0] for b in DECISION_BODIES])
def test_decision_bodies_are_judged_alike_by_the_schema_and_the_code(served, world, name, body, valid):
    body = _fill(body, world["empty"].pk)
    response = post(None, "/api/v1/decisions", body, {"X-API-Key": world["key"]})
    code_accepts = response.status_code != 400
    assert response.status_code in (200, 400), response.data
    assert schema_accepts(served, "DecisionRequest", body) is valid
    assert code_accepts is valid, response.data


BATCH_BODIES: list[tuple[str, Any, bool]] = [
    ("ids and a player", {"container_ids": [C], "player": {"id": 1}}, True),
    ("a malformed id among them (its own error item)", {"container_ids": [C, "x", None], "player": {"id": 1}}, True),
    ("house only", {"container_ids": [C], "player": player(), "house_only": True}, True),
    ("no ids", {"container_ids": [], "player": player()}, False),
    ("ids not a list", {"container_ids": "1,2", "player": player()}, False),
    ("house only a string", {"container_ids": [C], "player": player(), "house_only": "yes"}, False),
    ("house only null", {"container_ids": [C], "player": player(), "house_only": None}, False),
    ("the player's id a string", {"container_ids": [C], "player": {"id": "1"}}, False),
    ("no player", {"container_ids": [C]}, False),
]


@pytest.mark.parametrize(("name", "body", "valid"), BATCH_BODIES, ids=[b[0] for b in BATCH_BODIES])
def test_batch_decision_bodies_are_judged_alike(served, world, name, body, valid):
    body = {k: [world["empty"].pk if i == C else i for i in v] if k == "container_ids" and isinstance(v, list) else v
            for k, v in body.items()}  # fmt: skip
    response = post(None, "/api/v1/decisions/batch", body, {"X-API-Key": world["key"]})
    assert response.status_code in (200, 400), response.data
    assert schema_accepts(served, "DecisionBatchRequest", body) is valid
    assert (response.status_code == 200) is valid, response.data


def test_more_than_50_ids_is_413_and_the_schema_says_at_most_50(served, world):
    body = {"container_ids": list(range(1, 52)), "player": player()}
    response = post(None, "/api/v1/decisions/batch", body, {"X-API-Key": world["key"]})
    assert response.status_code == 413 and json.loads(response.data)["error"]["code"] == "batch_too_large"
    assert not schema_accepts(served, "DecisionBatchRequest", body)


def _event(**overrides) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "type": "impression", "decision_id": str(uuid.uuid4()),
            "tracking_token": "t", "player_id": 1, "occurred_at": timezone.now().isoformat(),
            "viewability": VIEWABLE, **overrides}  # fmt: skip


EVENT_BODIES: list[tuple[str, Any, bool]] = [
    ("an impression", _event(), True),
    ("a click without viewability", {k: v for k, v in _event(type="click").items() if k != "viewability"}, True),
    ("Roblox's GUID in braces", _event(event_id="{" + str(uuid.uuid4()).upper() + "}"), True),
    ("a UUID without dashes", _event(event_id=uuid.uuid4().hex), True),
    ("viewability as Roblox's empty table", _event(viewability=[]), True),
    ("viewability null", _event(viewability=None), True),
    ("metadata", _event(metadata={"zone": "lobby"}), True),
    ("metadata as Roblox's empty table", _event(metadata=[]), True),
    ("tracking token null", _event(tracking_token=None), False),
    ("event id not a UUID", _event(event_id="nope"), False),
    ("event id a number", _event(event_id=5), False),
    ("unknown type", _event(type="view"), False),
    ("player id as a string", _event(player_id="1"), False),
    ("player id a float", _event(player_id=1.5), False),
    ("occurred at a number", _event(occurred_at=1_795_000_000), False),
    ("occurred at not a time", _event(occurred_at="yesterday"), False),
    ("occurred at without a timezone", _event(occurred_at="2026-11-21T09:00:00"), False),
    ("occurred at with a space and Z", _event(occurred_at=timezone.now().strftime("%Y-%m-%d %H:%M:%SZ")), True),
    ("duration as a string", _event(viewability={**VIEWABLE, "duration_ms": "1400"}), False),
    ("coverage above 1", _event(viewability={**VIEWABLE, "screen_coverage": 2}), False),
    ("angle negative", _event(viewability={**VIEWABLE, "angle_deg": -1}), False),
    ("viewability a string", _event(viewability="seen"), False),
    ("metadata a string", _event(metadata="x"), False),
    ("the event a list", [1], False),
    ("the event null", None, False),
    ("deep metadata", raw(_event(), "metadata", b'{"a":' + deep(3000) + b"}"), False),
]


@pytest.mark.parametrize(("name", "event", "valid"), EVENT_BODIES, ids=[b[0] for b in EVENT_BODIES])
def test_events_are_judged_alike_by_the_schema_and_the_code(served, world, name, event, valid):
    batch = b'{"events":[' + event + b"]}" if isinstance(event, bytes) else {"events": [event]}
    response = post(None, "/api/v1/events", batch, {"X-API-Key": world["key"]})
    assert response.status_code in (202, 400), response.data
    if response.status_code == 400:  # nested beyond what any JSON parser here takes: the whole body refused
        assert json.loads(response.data)["error"]["code"] == "malformed_json"
        code_accepts = False
    else:
        rejected = json.loads(response.data)["rejected"]
        # a well-formed event is refused for its token here (made up): only validation_error is the schema's
        code_accepts = not (rejected and rejected[0]["code"] == "validation_error")
    assert schema_accepts(served, "Event", event) is valid
    assert code_accepts is valid, response.data


@pytest.mark.parametrize(
    ("name", "batch", "valid"),
    [
        ("an empty batch", {"events": []}, True),
        ("a server id", {"events": [], "server_id": "job"}, True),
        ("server id null", {"events": [], "server_id": None}, True),
        ("no events", {}, False),
        ("events an object", {"events": {}}, False),
        ("server id a number", {"events": [], "server_id": 5}, False),
        ("server id too long", {"events": [], "server_id": "s" * 101}, False),
    ],
)
def test_event_batches_are_judged_alike(served, world, name, batch, valid):
    response = post(None, "/api/v1/events", batch, {"X-API-Key": world["key"]})
    assert schema_accepts(served, "EventBatchRequest", batch) is valid
    assert (response.status_code == 202) is valid, response.data


def _update(**overrides) -> dict[str, Any]:
    return {"action_type": "coin_collected", "action_id": uuid.uuid4().hex, "nonce": uuid.uuid4().hex,
            "timestamp": int(time.time()), **overrides}  # fmt: skip


UPDATE_BODIES: list[tuple[str, Any, bool]] = [
    ("a whole-second timestamp", _update(), True),
    ("a fractional timestamp", _update(timestamp=time.time()), True),
    ("an unknown field", _update(sdk="1.2"), True),
    ("no nonce", {k: v for k, v in _update().items() if k != "nonce"}, False),
    ("a short nonce", _update(nonce="abc"), False),
    ("a nonce with a space", _update(nonce="abc defgh"), False),
    ("action type with a space", _update(action_type="coin collected"), False),
    ("action type a number", _update(action_type=5), False),
    ("empty action id", _update(action_id=""), False),
    ("action id too long", _update(action_id="a" * 101), False),
    ("timestamp as a string", _update(timestamp=str(int(time.time()))), False),
    ("timestamp null", _update(timestamp=None), False),
    ("timestamp true", _update(timestamp=True), False),
    ("a score sent", _update(score=1_000_000), False),
    ("an increment sent", _update(increment=5), False),
    ("a list", [1], False),
]


@pytest.mark.parametrize(("name", "body", "valid"), UPDATE_BODIES, ids=[b[0] for b in UPDATE_BODIES])
def test_score_update_bodies_are_judged_alike(served, world, name, body, valid):
    response = signed_update(None, world, body, world["server"].token(4242))
    assert response.status_code in (200, 400), response.data
    assert schema_accepts(served, "ScoreUpdateBodyRequest", body) is valid
    assert (response.status_code == 200) is valid, response.data


def test_a_validation_error_names_the_field_by_its_path(world):
    body = {"container_id": world["empty"].pk, "player": player(segments=["ok", 7], device="toaster", id="1")}
    response = post(None, "/api/v1/decisions", body, {"X-API-Key": world["key"]})
    error = json.loads(response.data)["error"]
    assert response.status_code == 400 and error["code"] == "validation_error"
    assert set(error["details"]) == {"player"} and set(error["details"]["player"]) == {"id", "device", "segments"}
    assert "segments[1]" in error["details"]["player"]["segments"][0]
