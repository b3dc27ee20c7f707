"""The in-process cache of game API keys that keeps the game-server API free of database queries."""

from __future__ import annotations

import time

import pytest

from games import keycache, services
from games.models import GameApiKey
from games.tests.factories import GameFactory, make_api_key

pytestmark = pytest.mark.django_db


def advance_clock(monkeypatch, seconds: float) -> None:
    real = time.monotonic
    monkeypatch.setattr(time, "monotonic", lambda: real() + seconds)


def test_a_known_key_resolves_to_its_game():
    game = GameFactory(slug="tower-run")
    key, raw, secret = make_api_key(game)
    info = keycache.lookup(raw)
    assert info is not None
    assert (info.key_id, info.game_id, info.game_slug, info.signing_secret) == (key.pk, game.pk, "tower-run", secret)
    assert info.revoked is False and info.game_active is True
    assert info.is_authenticated


def test_a_cached_key_costs_no_query(django_assert_num_queries):
    _, raw, _ = make_api_key(GameFactory())
    keycache.lookup(raw)
    with django_assert_num_queries(0):
        for _ in range(5):
            assert keycache.lookup(raw) is not None


@pytest.mark.parametrize("raw", ["", "nope", "Bearer gk_abc", "gk_" + "a" * 200])
def test_malformed_keys_are_refused_without_a_query(raw, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert keycache.lookup(raw) is None


def test_an_unknown_key_is_remembered_as_unknown(django_assert_num_queries):
    raw = "gk_neverIssued"
    with django_assert_num_queries(1):
        assert keycache.lookup(raw) is None
        assert keycache.lookup(raw) is None


def test_revoking_forgets_the_cached_key_at_once():
    key, raw, _ = make_api_key(GameFactory())
    before = keycache.lookup(raw)
    assert before is not None and before.revoked is False
    services.api_key_revoke(key=key)
    after = keycache.lookup(raw)
    assert after is not None and after.revoked is True


def test_last_used_is_written_at_most_once_a_minute(monkeypatch):
    key, raw, _ = make_api_key(GameFactory())
    keycache.lookup(raw)
    first = GameApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None
    GameApiKey.objects.filter(pk=key.pk).update(last_used_at=None)
    keycache.lookup(raw)
    assert GameApiKey.objects.get(pk=key.pk).last_used_at is None  # within the minute: no write
    advance_clock(monkeypatch, keycache.LAST_USED_RESOLUTION + 1)
    keycache.lookup(raw)
    assert GameApiKey.objects.get(pk=key.pk).last_used_at is not None


def test_a_revoked_key_is_not_touched():
    key, raw, _ = make_api_key(GameFactory())
    services.api_key_revoke(key=key)
    keycache.lookup(raw)
    assert GameApiKey.objects.get(pk=key.pk).last_used_at is None
