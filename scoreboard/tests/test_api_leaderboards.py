"""The public leaderboard reads, and the OpenAPI description of the scoreboard endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from games.tests.factories import GameFactory
from scoreboard import services
from scoreboard.models import Player, Score
from scoreboard.tests.factories import assert_error

pytestmark = pytest.mark.django_db

ENTRY_FIELDS = {"rank", "player_id", "username", "score"}


def make_board(game, scores: list[int]) -> list[int]:
    """Players 1..n with these scores (reached one second apart, in order), the board rebuilt; their ids."""
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    players = Player.objects.bulk_create(
        [Player(game=game, roblox_user_id=i + 1, username=f"player_{i + 1}") for i in range(len(scores))]
    )
    Score.objects.bulk_create(
        [
            Score(player=p, game=game, score=s, reached_at=start + timedelta(seconds=i), version=i + 1)
            for i, (p, s) in enumerate(zip(players, scores, strict=True))
        ]
    )
    services.leaderboard_rebuild(game_id=game.pk, slug=game.slug)
    return [p.roblox_user_id for p in players]


def test_top_of_the_board(api_client, game):
    make_board(game, [50, 500, 70, 500, 10])
    response = api_client.get(f"/api/v1/leaderboards/{game.slug}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"game", "updated_at", "entries"}
    assert body["game"] == game.slug and body["updated_at"]
    assert all(set(e) == ENTRY_FIELDS for e in body["entries"])
    assert [(e["rank"], e["player_id"], e["score"]) for e in body["entries"]] == [
        (1, 2, 500), (2, 4, 500), (3, 3, 70), (4, 1, 50), (5, 5, 10),
    ]  # fmt: skip
    assert body["entries"][0]["username"] == "player_2"


def test_limit_defaults_to_10_and_is_at_most_100(api_client, game):
    make_board(game, list(range(1, 106)))
    url = f"/api/v1/leaderboards/{game.slug}"
    assert len(api_client.get(url).json()["entries"]) == 10
    assert len(api_client.get(url, {"limit": 3}).json()["entries"]) == 3
    assert len(api_client.get(url, {"limit": 100}).json()["entries"]) == 100
    assert len(api_client.get(url, {"limit": 500}).json()["entries"]) == 100
    for bad in ("0", "-1", "ten"):
        assert "limit" in assert_error(api_client.get(url, {"limit": bad}), 400, "validation_error")["details"]


def test_unknown_or_inactive_games_are_404(api_client, owner):
    assert_error(api_client.get("/api/v1/leaderboards/no-such-game"), 404, "not_found")
    hidden = GameFactory(owner=owner, is_active=False)
    assert_error(api_client.get(f"/api/v1/leaderboards/{hidden.slug}"), 404, "not_found")
    assert_error(api_client.get(f"/api/v1/leaderboards/{hidden.slug}/players/1"), 404, "not_found")


def test_a_players_rank_with_5_above_and_5_below(api_client, game):
    make_board(game, [1000 - i for i in range(20)])  # player n has rank n
    response = api_client.get(f"/api/v1/leaderboards/{game.slug}/players/9")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("rank", "score", "player_id", "username")} == {
        "rank": 9, "score": 992, "player_id": 9, "username": "player_9",
    }  # fmt: skip
    assert [e["rank"] for e in body["around"]] == [4, 5, 6, 7, 8, 10, 11, 12, 13, 14]
    assert [e["player_id"] for e in body["around"]] == [4, 5, 6, 7, 8, 10, 11, 12, 13, 14]
    first = api_client.get(f"/api/v1/leaderboards/{game.slug}/players/1").json()
    assert first["rank"] == 1 and [e["rank"] for e in first["around"]] == [2, 3, 4, 5, 6]
    last = api_client.get(f"/api/v1/leaderboards/{game.slug}/players/20").json()
    assert [e["rank"] for e in last["around"]] == [15, 16, 17, 18, 19]


def test_a_player_without_a_score_is_404(api_client, game):
    make_board(game, [10])
    services.player_upsert(game_id=game.pk, player_id=77, username="newcomer")  # a token, no credit yet
    assert_error(api_client.get(f"/api/v1/leaderboards/{game.slug}/players/77"), 404, "not_found")
    assert_error(api_client.get(f"/api/v1/leaderboards/{game.slug}/players/78"), 404, "not_found")
    assert_error(api_client.get("/api/v1/leaderboards/nope/players/1"), 404, "not_found")


def test_reads_need_no_credentials_and_ignore_them(api_client, game):
    make_board(game, [10])
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api_client.get(f"/api/v1/leaderboards/{game.slug}").status_code == 200


def test_reads_are_rate_limited_per_address(api_client, game, settings):
    settings.SCORE_LEADERBOARD_READ_RATE = "2/min"
    url = f"/api/v1/leaderboards/{game.slug}"
    assert [api_client.get(url).status_code for _ in range(3)] == [200, 200, 429]


def test_schema_documents_the_scoreboard_api(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in (
        "/api/v1/scores/tokens",
        "/api/v1/scores/tokens/revoke",
        "/api/v1/scores/update",
        "/api/v1/leaderboards/{game_slug}",
        "/api/v1/leaderboards/{game_slug}/players/{player_id}",
        "/api/v1/manage/games/{game_pk}/action-types/",
        "/api/v1/manage/games/{game_pk}/action-types/{id}/",
    ):
        assert path in paths, path
    scheme = schema["components"]["securitySchemes"]["ScoreToken"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    update = paths["/api/v1/scores/update"]["post"]
    assert {"ScoreToken": []} in update["security"]
    assert any(p["name"] == "X-Signature" and p["in"] == "header" for p in update["parameters"])
    assert {"409", "422", "429", "503"} <= set(update["responses"])
    assert paths["/api/v1/leaderboards/{game_slug}"]["get"].get("security") in (None, [], [{}])
