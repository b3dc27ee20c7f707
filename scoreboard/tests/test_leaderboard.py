"""The Redis boards: ties, rebuilds (by command, when missing, during changes), bans, publishing, fallback."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import redis
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from adplatform.core.redis import get_redis
from scoreboard import leaderboard, metrics, selectors, services
from scoreboard.models import Player, ScoreSource
from scoreboard.tests.factories import ActionTypeFactory

pytestmark = pytest.mark.django_db

T0 = timezone.now().replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def credit(game, coin, django_capture_on_commit_callbacks):
    """Credit an action at a given time, running the post-commit board update as a real commit would."""
    rules = {}
    counter = iter(range(1_000_000))

    def do(player_id: int, at=None, action=coin, username: str | None = None):
        rule = rules.setdefault(action.pk, services.ActionRule.of(action))
        player = services.player_upsert(game_id=game.pk, player_id=player_id, username=username or f"p{player_id}")
        with django_capture_on_commit_callbacks(execute=True):
            return services.score_credit(
                game_id=game.pk,
                slug=game.slug,
                player_pk=player.pk,
                action=rule,
                action_id=f"a-{next(counter)}",
                at=at,
                source=ScoreSource.SEED,
            )

    return do


def board_state(game_id: int) -> dict:
    """Everything the board holds that reads depend on."""
    r, k = get_redis(), leaderboard.board_keys(game_id)
    return {
        "zset": r.zrange(k.zset, 0, -1, withscores=True),
        "members": r.hgetall(k.members),
        "names": r.hgetall(k.names),
    }


def ids(entries) -> list[int]:
    return [e.player_id for e in entries]


def test_ties_go_to_the_player_who_reached_the_score_first(game, credit):
    credit(1, at=T0 + timedelta(seconds=2))
    credit(2, at=T0 + timedelta(seconds=1))
    credit(3, at=T0 + timedelta(seconds=3))
    top = services.leaderboard_top(game.slug, 10)
    assert [(e.rank, e.player_id, e.score) for e in top.entries] == [(1, 2, 10), (2, 1, 10), (3, 3, 10)]
    credit(3, at=T0 + timedelta(seconds=4))  # 20 now: first
    credit(1, at=T0 + timedelta(seconds=5))  # 20 too, but later than player 3
    assert ids(services.leaderboard_top(game.slug, 10).entries) == [3, 1, 2]
    assert services.leaderboard_player(game.slug, 1).rank == 2


def test_ties_in_the_same_millisecond_go_to_the_larger_user_id_in_redis_and_postgresql(game, credit):
    for player_id in (5, 50, 7):
        credit(player_id, at=T0)
    assert ids(services.leaderboard_top(game.slug, 10).entries) == [50, 7, 5]
    assert ids(selectors.leaderboard_top_from_db(game.pk, 10)) == [50, 7, 5]


def test_rebuild_equals_the_live_set(game, credit, boss, django_capture_on_commit_callbacks):
    for i in range(40):
        credit(1000 + i % 13, at=T0 + timedelta(seconds=i))
    credit(1003, at=T0 + timedelta(minutes=5), action=boss)
    with django_capture_on_commit_callbacks(execute=True):
        services.player_ban(player=Player.objects.get(game=game, roblox_user_id=1005))
    live = board_state(game.pk)
    assert len(live["zset"]) == 12

    leaderboard.board_drop(game.pk)
    assert services.leaderboard_rebuild(game_id=game.pk) == 12

    assert board_state(game.pk) == live
    assert ids(services.leaderboard_top(game.slug, 100).entries) == ids(selectors.leaderboard_top_from_db(game.pk, 100))


def test_the_rebuild_command(game, credit, capsys):
    credit(1)
    leaderboard.board_drop(game.pk)
    call_command("rebuild_leaderboards", "--game", game.slug)
    assert f"{game.slug}: 1 players" in capsys.readouterr().out
    assert leaderboard.board_ready(game.pk)
    call_command("rebuild_leaderboards")
    with pytest.raises(CommandError):
        call_command("rebuild_leaderboards", "--game", "no-such-game")


def test_a_missing_set_is_rebuilt_on_read(game, credit):
    credit(1)
    credit(2)
    get_redis().flushdb()
    rebuilds = metrics.BOARD_REBUILDS.labels(reason="missing_on_read")._value.get()
    assert ids(services.leaderboard_top(game.slug, 10).entries) == [1, 2]
    assert metrics.BOARD_REBUILDS.labels(reason="missing_on_read")._value.get() == rebuilds + 1
    get_redis().flushdb()
    assert services.leaderboard_player(game.slug, 2).rank == 2


def test_an_empty_board_is_not_missing(game):
    rebuilds = metrics.BOARD_REBUILDS.labels(reason="missing_on_read")._value.get()
    assert services.leaderboard_top(game.slug, 10).entries == []
    assert services.leaderboard_top(game.slug, 10).entries == []
    assert metrics.BOARD_REBUILDS.labels(reason="missing_on_read")._value.get() == rebuilds + 1


def test_a_missing_set_is_rebuilt_by_the_next_update(game, credit):
    credit(1)
    credit(2)
    leaderboard.board_drop(game.pk)
    credit(3)
    assert leaderboard.board_ready(game.pk)
    assert ids(leaderboard.board_top(game.pk, 10).entries) == [1, 2, 3]


def test_a_change_committed_while_the_rebuild_reads_postgresql_is_kept(game, credit):
    credit(1)
    credit(2)
    rows = list(services._board_rows(game.pk))  # what the rebuild's query saw

    def rows_then_a_change():
        yield rows[0]
        credit(2, at=timezone.now() + timedelta(seconds=1))  # commits during the rebuild (queued, replayed)
        credit(3, at=timezone.now() + timedelta(seconds=2))
        yield from rows[1:]

    leaderboard.board_rebuild(board_id=game.pk, slug=game.slug, rows=rows_then_a_change(), now_ms=0)

    top = leaderboard.board_top(game.pk, 10)
    assert [(e.player_id, e.score) for e in top.entries] == [(2, 20), (1, 10), (3, 10)]
    live = board_state(game.pk)
    leaderboard.board_drop(game.pk)
    services.leaderboard_rebuild(game_id=game.pk)
    assert board_state(game.pk) == live


def test_a_second_rebuild_waits_for_the_first(game, credit):
    credit(1)
    get_redis().set(leaderboard.board_keys(game.pk).lock, "someone else", ex=60)
    assert services.leaderboard_rebuild(game_id=game.pk) is None


def test_an_older_change_never_overwrites_a_newer_one(game):
    common = {"board_id": game.pk, "slug": game.slug, "player_id": 1, "username": "p1", "now_ms": 1}
    get_redis().set(leaderboard.board_keys(game.pk).ready, 1)
    assert leaderboard.board_apply(version=2, score=20, reached_ms=2000, **common).applied
    assert not leaderboard.board_apply(version=1, score=10, reached_ms=1000, **common).applied
    assert leaderboard.board_top(game.pk, 1).entries[0].score == 20


def test_ban_removes_the_player_and_unban_brings_them_back(game, credit, django_capture_on_commit_callbacks):
    credit(1)
    credit(2)
    credit(2)
    player = Player.objects.get(game=game, roblox_user_id=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.player_ban(player=player, reason="speed hacks")
    assert ids(services.leaderboard_top(game.slug, 10).entries) == [1]
    assert services.leaderboard_player(game.slug, 2) is None
    assert ids(selectors.leaderboard_top_from_db(game.pk, 10)) == [1]
    with django_capture_on_commit_callbacks(execute=True):
        services.player_unban(player=player)
    assert ids(services.leaderboard_top(game.slug, 10).entries) == [2, 1]


def test_each_change_is_published_on_the_games_group(game, credit):
    pubsub = get_redis().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(leaderboard.leaderboard_group(game.slug))
    credit(1)
    credit(2, username="builderman")
    messages = []
    for _ in range(10):  # the subscribe confirmation comes first (read as None), then the messages
        message = pubsub.get_message(timeout=0.2)
        if message:
            messages.append(json.loads(message["data"]))
    pubsub.close()
    assert leaderboard.leaderboard_group(game.slug) == "leaderboard.obby-land"
    assert {m["type"] for m in messages} == {"score_changed", "rebuilt"}  # the first credit built the board
    changes = [m for m in messages if m["type"] == "score_changed"]
    last = changes[-1]
    assert {k: last[k] for k in ("type", "game", "player_id", "username", "score", "rank", "top10_changed")} == {
        "type": "score_changed",
        "game": "obby-land",
        "player_id": 2,
        "username": "builderman",
        "score": 10,
        "rank": 2,
        "top10_changed": True,
    }
    assert [m["seq"] for m in messages] == sorted({m["seq"] for m in messages})  # grows, no repeats


def test_reads_fall_back_to_postgresql_when_redis_is_down(game, credit, monkeypatch):
    for i in range(1, 15):
        for _ in range(i % 4):
            credit(i)
    from_redis = services.leaderboard_player(game.slug, 6)
    broken = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    monkeypatch.setattr("scoreboard.leaderboard.get_redis", lambda: broken)
    top = services.leaderboard_top(game.slug, 10)
    assert [e.player_id for e in top.entries] == [e.player_id for e in selectors.leaderboard_top_from_db(game.pk, 10)]
    from_db = services.leaderboard_player(game.slug, 6)
    assert (from_db.rank, from_db.score, from_db.around) == (from_redis.rank, from_redis.score, from_redis.around)


def test_streak_rules_multiply_the_base_score(game, credit):
    daily = ActionTypeFactory(
        game=game,
        key="daily_login",
        base_score=100,
        cooldown_seconds=3600,
        rules={"streak": {"window_seconds": 2 * 86400, "step_percent": 50, "max_percent": 200}},
    )
    increments = [credit(1, at=T0 + timedelta(days=d), action=daily).increment for d in (0, 1, 2, 3)]
    assert increments == [100, 150, 200, 200]
    assert credit(1, at=T0 + timedelta(days=8), action=daily).increment == 100  # the streak broke


def test_rules_are_validated():
    assert services.action_type_rules_clean({"streak": {"window_seconds": 60}}) == {
        "streak": {"window_seconds": 60, "step_percent": 10, "max_percent": 200}
    }
    for bad in ({"bonus": 1}, {"streak": {"window_seconds": 0}}, {"streak": {"step_percent": 5}}, [1]):
        with pytest.raises(ValidationError):
            services.action_type_rules_clean(bad)
