"""LuaScript: the hot paths' EVALSHA runner."""

from __future__ import annotations

import threading

import pytest
import redis

from adplatform.core.redis import LuaScript, get_redis


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


def _client_id(conn) -> int:
    conn.send_command("CLIENT", "ID")
    return conn.read_response()


def test_each_thread_keeps_its_own_connection(client):
    from adplatform.core.redis import _script_connection

    mine = _script_connection(client)
    assert _script_connection(client) is mine  # held, not taken from the pool each call
    others: list = []
    thread = threading.Thread(target=lambda: others.append(_script_connection(client)))
    thread.start()
    thread.join()
    assert others[0] is not mine
    others[0].disconnect()


def test_a_connection_the_server_dropped_is_retried_once_and_the_script_runs_once(client):
    from adplatform.core.redis import _script_connection

    ADD(["{t}:lua:a", "{t}:lua:b"], [1, 1, "x"])
    assert client.client_kill_filter(_id=_client_id(_script_connection(client))) == 1
    assert ADD(["{t}:lua:a", "{t}:lua:b"], [1, 1, "y"]) == [b"y", 2]
    assert client.mget("{t}:lua:a", "{t}:lua:b") == [b"2", b"2"]


def test_a_new_client_or_a_forked_process_gets_a_new_connection(client, monkeypatch):
    from adplatform.core import redis as module

    inherited = module._script_connection(client)
    ADD(["{t}:lua:a", "{t}:lua:b"], [1, 1, "x"])
    monkeypatch.setattr(module.os, "getpid", lambda: -1)  # as in a child after fork()
    in_child = module._script_connection(client)
    assert in_child is not inherited
    assert inherited._sock is not None  # the parent's socket is left alone, never shut down from the child
    monkeypatch.undo()
    module.reset_redis_client()
    fresh = module._script_connection(get_redis())
    assert fresh is not inherited and fresh is not in_child
    in_child.disconnect()


def test_redis_unreachable_raises_redis_errors(settings):
    from adplatform.core.redis import reset_redis_client

    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    reset_redis_client()
    try:
        with pytest.raises(redis.ConnectionError):
            ADD(["{t}:lua:a", "{t}:lua:b"], [1, 1, "x"])
    finally:
        reset_redis_client()


def test_an_argument_redis_cannot_encode_is_a_redis_data_error(client):
    with pytest.raises(redis.DataError):
        ADD(["{t}:lua:a", "{t}:lua:b"], [1, None, "x"])
    assert client.mget("{t}:lua:a", "{t}:lua:b") == [None, None]  # nothing was sent
