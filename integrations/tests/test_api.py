"""The Roblox data API (/api/v1/roblox/...): answers, validation and upstream trouble in the common error format."""

from __future__ import annotations

import pytest
import requests

from adplatform.core.api.errors import ERROR_CODES
from integrations.tests import roblox_bodies as rb

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(token_client, owner):
    return token_client(owner)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code and code in ERROR_CODES
    assert body["error"]["message"]
    return body["error"]


# --------------------------------------------------------------------------- 200


def test_place_universe(client, rsps):
    rsps.get(rb.place_universe_url(1818), json={"universeId": 13058})

    response = client.get("/api/v1/roblox/places/1818/universe")

    assert response.status_code == 200
    assert response.json() == {"place_id": 1818, "universe_id": 13058}


def test_universe_details(client, rsps):
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(1818)]})

    body = client.get("/api/v1/roblox/universes/1818").json()

    assert body["id"] == 1818 and body["name"] == "Classic: Crossroads" and body["root_place_id"] == 1818
    assert body["creator"] == {"id": 1, "name": "Roblox", "type": "User", "has_verified_badge": True}
    assert body["updated"] == "2023-05-09T17:03:42.393333Z"
    assert (body["playing"], body["visits"], body["max_players"]) == (312, 13016394, 10)


def test_asset_details(client, rsps):
    rsps.get(rb.asset_details_url(102611803), json=rb.asset_details())

    body = client.get("/api/v1/roblox/assets/102611803").json()

    assert (body["id"], body["name"], body["asset_type_id"], body["price_in_robux"]) == (
        102611803,
        "Sponsor billboard",
        13,
        None,
    )


def test_game_icons_come_back_in_the_order_asked(client, rsps):
    rsps.get(
        rb.GAME_ICONS_URL,
        json={"data": [rb.thumbnail(3, "Pending"), rb.thumbnail(1), rb.thumbnail(2, "Blocked")]},
    )

    body = client.get("/api/v1/roblox/thumbnails/games?universe_ids=1,2,3").json()

    assert [(r["universe_id"], r["state"]) for r in body["results"]] == [
        (1, "Completed"),
        (2, "Blocked"),
        (3, "Pending"),
    ]
    assert body["results"][0]["image_url"].startswith("https://tr.rbxcdn.com/")
    assert body["results"][2]["image_url"] is None
    assert body["next"] is None


def test_game_icons_pass_size_format_and_shape_to_roblox(client, rsps):
    rsps.get(rb.GAME_ICONS_URL, json={"data": [rb.thumbnail(1)]})

    client.get("/api/v1/roblox/thumbnails/games?universe_ids=1&size=150x150&image_format=Jpeg&is_circular=true")

    assert "size=150x150&format=Jpeg&isCircular=true" in rsps.calls[0].request.url


def test_answers_are_cached(client, rsps):
    rsps.get(rb.GAMES_URL, json={"data": [rb.game(1818)]})

    client.get("/api/v1/roblox/universes/1818")
    second = client.get("/api/v1/roblox/universes/1818")

    assert second.status_code == 200 and len(rsps.calls) == 1


# --------------------------------------------------------------------------- 400


@pytest.mark.parametrize("bad_id", ["abc", "0", "-5", "1.5", "99999999999999999999999"])
def test_malformed_place_id_is_400(client, rsps, bad_id):
    error = assert_error(client.get(f"/api/v1/roblox/places/{bad_id}/universe"), 400, "validation_error")
    assert "place_id" in error["details"]
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("url", ["/api/v1/roblox/universes/x1", "/api/v1/roblox/assets/0"])
def test_malformed_universe_and_asset_ids_are_400(client, url):
    assert_error(client.get(url), 400, "validation_error")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "universe_ids"),
        ("universe_ids=", "universe_ids"),
        ("universe_ids=1,,2", "universe_ids"),
        ("universe_ids=1,x", "universe_ids"),
        ("universe_ids=" + ",".join(str(i) for i in range(1, 102)), "universe_ids"),
        ("universe_ids=1&size=100x100", "size"),
        ("universe_ids=1&image_format=Gif", "image_format"),
    ],
    ids=["missing", "empty", "empty-item", "not-a-number", "over-100", "bad-size", "bad-format"],
)
def test_bad_game_icon_queries_are_400_naming_the_field(client, rsps, query, field):
    error = assert_error(client.get(f"/api/v1/roblox/thumbnails/games?{query}"), 400, "validation_error")
    assert field in error["details"]
    assert len(rsps.calls) == 0


# --------------------------------------------------------------------------- 401


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/roblox/places/1818/universe",
        "/api/v1/roblox/universes/1818",
        "/api/v1/roblox/assets/1",
        "/api/v1/roblox/thumbnails/games?universe_ids=1",
    ],
)
def test_without_a_token_is_401(api_client, rsps, url):
    assert_error(api_client.get(url), 401, "not_authenticated")
    assert len(rsps.calls) == 0


def test_unknown_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token adp_doesnotexistdoesnotexist")
    assert_error(api_client.get("/api/v1/roblox/universes/1818"), 401, "token_invalid")


# --------------------------------------------------------------------------- 404


def test_unknown_place_is_404(client, rsps):
    rsps.get(rb.place_universe_url(5), json={"universeId": None})
    assert_error(client.get("/api/v1/roblox/places/5/universe"), 404, "not_found")


def test_unknown_universe_is_404(client, rsps):
    rsps.get(rb.GAMES_URL, json={"data": []})
    assert_error(client.get("/api/v1/roblox/universes/424242"), 404, "not_found")


def test_unknown_asset_is_404(client, rsps):
    rsps.get(rb.asset_details_url(7), status=400, json=rb.legacy_error(0, "Asset is invalid or does not exist"))
    assert_error(client.get("/api/v1/roblox/assets/7"), 404, "not_found")


# --------------------------------------------------------------------------- 502 / 503


def test_roblox_failing_past_the_retries_is_502(client, rsps, sleeps):
    rsps.get(rb.GAMES_URL, status=500, json=rb.legacy_error(0, "InternalServerError"))

    assert_error(client.get("/api/v1/roblox/universes/1818"), 502, "upstream_unavailable")

    assert len(rsps.calls) == 4 and len(sleeps) == 3


def test_roblox_unreachable_is_502(client, rsps, settings):
    settings.ROBLOX_MAX_RETRIES = 0
    rsps.get(rb.asset_details_url(1), body=requests.ConnectionError("Name or service not known"))
    assert_error(client.get("/api/v1/roblox/assets/1"), 502, "upstream_unavailable")


def test_roblox_answering_garbage_is_502(client, rsps):
    rsps.get(rb.place_universe_url(1818), body="<html>maintenance</html>", content_type="text/html")
    assert_error(client.get("/api/v1/roblox/places/1818/universe"), 502, "upstream_unavailable")


def test_roblox_rate_limiting_us_is_503_with_retry_after(client, rsps, settings):
    settings.ROBLOX_RETRY_AFTER_MAX = 30
    rsps.get(rb.GAME_ICONS_URL, status=429, headers={"Retry-After": "120"})

    response = client.get("/api/v1/roblox/thumbnails/games?universe_ids=1")

    assert_error(response, 503, "upstream_unavailable")
    assert response["Retry-After"] == "120"


def test_open_circuit_is_503_without_calling_roblox(client, rsps, settings):
    # given: games.roblox.com failed often enough to open its circuit
    settings.ROBLOX_MAX_RETRIES = 0
    settings.ROBLOX_BREAKER_FAILURES = 2
    settings.ROBLOX_BREAKER_COOLDOWN = 30
    rsps.get(rb.GAMES_URL, status=503)
    for universe_id in (1, 2):
        assert client.get(f"/api/v1/roblox/universes/{universe_id}").status_code == 502

    # when
    response = client.get("/api/v1/roblox/universes/3")

    # then
    assert_error(response, 503, "upstream_unavailable")
    assert 1 <= int(response["Retry-After"]) <= 30
    assert len(rsps.calls) == 2


# --------------------------------------------------------------------------- throttle and schema


def test_our_own_per_account_rate_applies(client, rsps, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "roblox": "1/min"},
    }
    rsps.get(rb.place_universe_url(1818), json={"universeId": 13058})

    assert client.get("/api/v1/roblox/places/1818/universe").status_code == 200
    response = client.get("/api/v1/roblox/places/1818/universe")

    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1


def test_schema_describes_the_roblox_endpoints_and_their_errors(api_client):
    schema = api_client.get("/api/schema/?format=json").json()

    for path in (
        "/api/v1/roblox/places/{place_id}/universe",
        "/api/v1/roblox/universes/{universe_id}",
        "/api/v1/roblox/assets/{asset_id}",
        "/api/v1/roblox/thumbnails/games",
    ):
        operation = schema["paths"][path]["get"]
        assert {"200", "400", "401", "502", "503"} <= set(operation["responses"]), path
    parameters = schema["paths"]["/api/v1/roblox/thumbnails/games"]["get"]["parameters"]
    assert {"universe_ids", "size", "image_format", "is_circular"} <= {p["name"] for p in parameters}
