"""Hostile bodies on every write route of the OpenAPI schema: never a 500, always the API's error format.

Each write operation the schema lists (POST, PUT, PATCH) is sent, with the credential it takes and real
objects in its path, a body over the size limit (413 ``payload_too_large``), JSON nested too deep (400),
NUL characters, bad UTF-8, non-JSON, and every documented field set to a value of the wrong type.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from ads.tests.factories import CampaignFactory, CreativeFactory
from games.tests.factories import AdContainerFactory, PlaylistFactory
from scoreboard.tests.factories import ActionTypeFactory, GameServer, sign

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch")
WRONG_VALUES: tuple[object, ...] = ([None], {}, {"$gt": ""}, "\x00", 1e308, -(2**70), True, "x" * 5000, [[[[]]]])


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture
def world(staff_user, token_client):
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        container = AdContainerFactory()
        game = container.game
        playlist = PlaylistFactory(game=game)
        action = ActionTypeFactory(game=game, key="coin_collected")
        campaign = CampaignFactory()
        creative = CreativeFactory(campaign=campaign, kind=container.type)
    server = GameServer(game)
    from adplatform.accounts import services

    _, staff_token = services.token_create(user=staff_user, name="hostile")
    ids = {
        "game_pk": game.pk, "campaign_pk": campaign.pk,
        "/manage/games/{id}/": game.pk, "/manage/games/{id}/sync/": game.pk,
        "/manage/campaigns/{id}/": campaign.pk, "/manage/creatives/{id}/": creative.pk,
        "/manage/creatives/{id}/moderation/": creative.pk, "/containers/{id}/": container.pk,
        "/playlists/{id}/": playlist.pk, "/action-types/{id}/": action.pk,
    }  # fmt: skip
    from scoreboard.signing import server_key_issue

    return {
        "ids": ids,
        "server": server,
        "server_key": server_key_issue(game_id=game.pk, api_key_id=server.key.pk, server_id="hostile-test"),
        "container": container,
        "staff_token": staff_token,
        "score_token": server.token(42),
    }


def _path(template: str, ids: dict) -> str:
    path = template
    for name in ("game_pk", "campaign_pk"):
        path = path.replace("{" + name + "}", str(ids[name]))
    for suffix, value in ids.items():
        if suffix.startswith("/") and path.endswith(suffix.replace("{id}", "{id}")) and "{id}" in path:
            path = path.replace("{id}", str(value))
            break
    assert "{" not in path, path
    return path


def _operations(schema) -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in WRITE_METHODS
    ]


def _properties(schema, operation) -> dict:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    body = content.get("schema", {})
    if "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    return body.get("properties", {})


def _send(world, method: str, path: str, raw: bytes, operation: dict):
    headers: dict[str, Any] = {}  # WSGI environ entries: the stubs' **extra: Any
    security = {name for requirement in operation.get("security", []) for name in requirement}
    if "GameApiKey" in security:
        headers["HTTP_X_API_KEY"] = world["server"].raw_key
    elif "ScoreToken" in security:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {world['score_token']}"
        headers["HTTP_X_SIGNATURE"] = sign(world["server"].secret, raw)  # signed: the body reaches the parser
    elif path.endswith("/scores/update/batch"):  # signed with a server signing key, the tokens inside the body
        server_key = world["server_key"]
        headers["HTTP_X_SIGNING_KEY"] = server_key.key_id
        headers["HTTP_X_SIGNATURE"] = sign(server_key.secret, raw)
    else:
        headers["HTTP_AUTHORIZATION"] = f"Token {world['staff_token']}"
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        return Client().generic(method.upper(), path, raw, content_type="application/json", **headers)


def _assert_error_format(response, label: str) -> dict:
    assert response.status_code < 500, f"{label}: {response.status_code} {response.content[:300]!r}"
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, f"{label}: {body}"
        assert re.fullmatch(r"[a-z_]+", body["error"]["code"]), f"{label}: {body}"
        return body["error"]
    return {}


def test_every_write_route_refuses_a_body_over_the_limit_with_413(schema, world, settings):
    operations = _operations(schema)
    assert len(operations) >= 20  # every write route of the schema, not a sample
    huge = b'{"name": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024) + b'"}'
    for method, template, operation in operations:
        path = "/api/v1" + template.removeprefix("/api/v1") if template.startswith("/api/") else template
        response = _send(world, method, _path(path, world["ids"]), huge, operation)
        error = _assert_error_format(response, f"{method} {template} huge")
        assert response.status_code == 413, f"{method} {template}: {response.status_code} {error}"
        assert error["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "label,raw,status",
    [
        ("deep", b"[" * 5000 + b"]" * 5000, 400),
        ("deep object", b'{"a":' * 3000 + b"1" + b"}" * 3000, 400),
        (
            "deep but parseable",
            b'{"events": [{"metadata": '
            + b"[" * 900
            + b"]" * 900
            + b'}], "name": '
            + b'{"a":' * 900
            + b"1"
            + b"}" * 900
            + b"}",
            None,
        ),
        ("nul", json.dumps({"name": "a\x00b", "player": {"id": 1}, "events": ["\x00"]}).encode(), None),
        ("bad utf-8", b'{"name": "\xff\xfe\xfa"}', 400),
        ("not json", b"{'name': 1,", 400),
        ("not an object", b"[1, 2, 3]", None),
        ("empty", b"", None),
    ],
)
def test_every_write_route_answers_a_hostile_body_with_a_4xx(schema, world, label, raw, status):
    for method, template, operation in _operations(schema):
        response = _send(world, method, _path(template, world["ids"]), raw, operation)
        _assert_error_format(response, f"{method} {template} {label}")
        if status is not None and "requestBody" in operation:  # a route that takes no body may ignore it
            assert response.status_code == status, f"{method} {template} {label}: {response.content[:300]!r}"


def test_every_field_of_every_write_route_with_a_wrong_type_is_a_4xx(schema, world):
    sent = 0
    for method, template, operation in _operations(schema):
        for name in _properties(schema, operation):
            for value in WRONG_VALUES:
                raw = json.dumps({name: value}).encode()
                response = _send(world, method, _path(template, world["ids"]), raw, operation)
                _assert_error_format(response, f"{method} {template} {name}={value!r:.40}")
                sent += 1
    assert sent > 300


def test_a_wrong_type_deep_in_a_decision_is_a_400_naming_the_field(world):
    server, container = world["server"], world["container"]
    valid = {"container_id": container.pk, "server_id": "s1",
             "player": {"id": 7, "country": "US", "device": "mobile", "age_bracket": "13+", "ads_allowed": True,
                        "segments": ["rpg"]}}  # fmt: skip
    assert server.keyed().post("/api/v1/decisions", valid, format="json").status_code == 200
    for field in ("id", "country", "device", "age_bracket", "ads_allowed", "segments"):
        for value in ([None], 5.5, ["13+"], {"a": 1}, "\x00"):
            body = json.loads(json.dumps(valid))
            body["player"][field] = value
            response = server.keyed().post("/api/v1/decisions", body, format="json")
            if field == "segments" and value == ["13+"]:
                continue  # a valid list of segments
            assert response.status_code == 400, (field, value, response.content)
            assert list(response.json()["error"]["details"]["player"]) == [field], (field, value)
    for field in ("container_id", "server_id"):
        for value in ([None], {"a": 1}, 5.5):
            response = server.keyed().post("/api/v1/decisions", {**valid, field: value}, format="json")
            assert response.status_code == 400, (field, value, response.content)
            assert list(response.json()["error"]["details"]) == [field]


def test_one_event_of_the_wrong_shape_is_rejected_alone(world):
    """Each field of an otherwise well-formed event, with a value of the wrong type: that event alone is rejected
    (``validation_error`` naming the field), and a good event in the same batch is accepted."""
    from decimal import Decimal

    from ads.budget import budget_rebuild

    server, container = world["server"], world["container"]
    campaign = CampaignFactory(status="ACTIVE", max_bid=Decimal("5"), total_budget=Decimal("10"), pacing="ASAP")
    CreativeFactory(campaign=campaign, kind=container.type)
    budget_rebuild(campaign_ids=[campaign.pk])
    ask = {"container_id": container.pk, "player": {"id": 7, "ads_allowed": True, "age_bracket": "13+"}}
    decision = server.keyed().post("/api/v1/decisions", ask, format="json").json()
    assert decision.get("tracking_token"), decision

    def event(**overrides):
        return {"event_id": str(uuid.uuid4()), "type": "click", "decision_id": decision["decision_id"],
                "tracking_token": decision["tracking_token"], "player_id": 7,
                "occurred_at": timezone.now().isoformat(), **overrides}  # fmt: skip

    for field in ("event_id", "type", "decision_id", "tracking_token", "player_id", "occurred_at", "metadata"):
        for value in ({}, [None], {"a": [1]}, 5.5, True):
            if field == "metadata" and isinstance(value, dict):
                continue  # metadata is any small object
            response = server.keyed().post("/api/v1/events", {"events": [event(**{field: value}), event()]},
                                           format="json")  # fmt: skip
            assert response.status_code == 202, (field, value, response.content)
            body = response.json()
            assert body["accepted"] == 1, (field, value, body)
            assert [r["index"] for r in body["rejected"]] == [0], (field, value, body)
    impression = event(type="impression", viewability={"duration_ms": {}, "screen_coverage": [None]})
    body = server.keyed().post("/api/v1/events", {"events": [impression, event()]}, format="json").json()
    assert body["accepted"] == 1 and body["rejected"][0]["index"] == 0
    assert "viewability" in body["rejected"][0]["message"]
