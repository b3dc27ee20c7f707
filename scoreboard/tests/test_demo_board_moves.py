"""The demo board moves: the simulator `make run` starts brings the seeded players back to compete with its own.

Issue 20 watched the demo for 16 minutes and saw the seeded top 10 never change: every simulated player was new,
played a couple of minutes and was gone, far below the seeded week of scores.
"""

from __future__ import annotations

import io
import random
import threading
import time

import pytest
from django.core.management import call_command

from adplatform.tools.management.commands.simulate_game import Command as SimulateGame
from adplatform.tools.simulator import Roster, SimConfig, Simulation, regulars
from games.demo import DEMO_PLACE_ID
from games.models import Game
from games.services import api_key_create
from scoreboard import demo
from scoreboard.services import leaderboard_top


def _top10(slug: str) -> list[int]:
    board = leaderboard_top(slug, 10)
    assert board is not None
    return [entry.player_id for entry in board.entries]


@pytest.mark.django_db(transaction=True)
def test_the_seeded_top_10_changes_within_two_minutes_of_the_demo_simulator(live_server):
    # given: the demo data, and the simulator as `make run` starts it (2 servers x 8 players, rate 1)
    call_command("seed_demo", stdout=io.StringIO())
    game = Game.objects.get(roblox_place_id=DEMO_PLACE_ID)
    seeded = _top10(game.slug)
    assert len(seeded) == 10
    _, key, secret = api_key_create(game=game, name="board moves test")
    roster = SimulateGame._roster(game)
    assert {demo.FIRST_PLAYER_ID + n for n in range(len(demo.PLAYERS))} <= {pid for pid, _ in roster}
    config = SimConfig(
        base_url=live_server.url, api_key=key, signing_secret=secret, servers=2, players=8, duration=120, seed=20,
        roster=roster,
    )  # fmt: skip
    simulation = Simulation(config, out=io.StringIO())
    runner = threading.Thread(target=simulation.run)
    runner.start()

    # when: it runs, until the top 10 is not the seeded one any more (two minutes at most)
    changed_after = None
    started = time.monotonic()
    try:
        while runner.is_alive():
            if _top10(game.slug) != seeded:
                changed_after = time.monotonic() - started
                break
            time.sleep(2)
    finally:
        simulation.stop()
        runner.join(timeout=100)

    # then: it changed, by the game's own scores (no errors on the way)
    stats = simulation.stats.snapshot()
    assert changed_after is not None, {"seeded": seeded, "now": _top10(game.slug), "stats": stats}
    assert stats["errors"] == 0, stats
    assert stats["scores_credited"] > 0, stats


def test_a_regular_is_online_on_one_server_at_a_time_and_comes_back_after_leaving():
    roster = Roster([(1, "a"), (2, "b"), (1, "a again")])
    rng = random.Random(1)
    assert len(roster) == 2  # one entry per player id
    taken = {roster.checkout(rng), roster.checkout(rng)}
    assert {pid for pid, _ in taken} == {1, 2}
    assert roster.checkout(rng) is None  # everyone is online: the next join is a new player
    roster.release(2, "b")
    assert roster.checkout(rng) == (2, "b")


def test_regulars_have_stable_distinct_ids_and_names():
    first, again = regulars(20), regulars(20)
    assert first == again
    assert len({pid for pid, _ in first}) == len({name for _, name in first}) == 20
