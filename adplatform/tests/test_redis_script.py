"""LuaScript: the hot paths' EVALSHA runner."""

from __future__ import annotations

import pytest

from adplatform.redis import LuaScript, get_redis


@pytest.fixture
def client():
    client = get_redis()
    client.delete("{t}:lua:a", "{t}:lua:b")
    yield client
    client.delete("{t}:lua:a", "{t}:lua:b")


ADD = LuaScript(
    "redis.call('INCRBY', KEYS[1], ARGV[1]); redis.call('INCRBY', KEYS[2], ARGV[2]); return {ARGV[3], #KEYS}"
)


def test_keys_and_args_reach_the_script(client):
    assert ADD(["{t}:lua:a", "{t}:lua:b"], [2, 5, "x"]) == [b"x", 2]
    assert client.mget("{t}:lua:a", "{t}:lua:b") == [b"2", b"5"]


def test_a_script_flushed_from_redis_is_loaded_again(client):
    ADD(["{t}:lua:a", "{t}:lua:b"], [1, 1, "x"])
    client.script_flush()
    assert client.script_exists(ADD.sha) == [False]
    assert ADD(["{t}:lua:a", "{t}:lua:b"], [1, 1, "y"]) == [b"y", 2]
    assert client.mget("{t}:lua:a", "{t}:lua:b") == [b"2", b"2"]  # ran once per call, not twice
