from __future__ import annotations

import pytest

from games.tests.factories import GameFactory
from scoreboard.tests.factories import ActionTypeFactory, GameServer


@pytest.fixture
def game(owner):
    return GameFactory(owner=owner, name="Obby Land", slug="obby-land")


@pytest.fixture
def server(game):
    return GameServer(game)


@pytest.fixture
def coin(game):
    return ActionTypeFactory(game=game, key="coin_collected", name="Coin collected", base_score=10)


@pytest.fixture
def boss(game):
    return ActionTypeFactory(game=game, key="boss_defeated", name="Boss defeated", base_score=500, cooldown_seconds=300)
