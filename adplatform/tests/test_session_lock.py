"""Two test sessions never share a test database or a Redis database (the lock in the root conftest.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

from conftest import session_lock_keys, session_lock_path

ROOT = Path(__file__).resolve().parents[2]


def _settings(database_name: str, redis_url: str, **database):
    return SimpleNamespace(
        DATABASES={"default": {"NAME": database_name, "HOST": "127.0.0.1", "PORT": 5432, **database}},
        REDIS_URL=redis_url,
    )


def test_the_redis_database_is_locked_on_its_own():
    # Two runs on different PostgreSQL databases but one Redis database must wait for each other.
    first = session_lock_keys(_settings("adplatform_a", "redis://127.0.0.1:6379/6"))
    second = session_lock_keys(_settings("adplatform_b", "redis://127.0.0.1:6379/6"))

    assert set(first) & set(second) == {"redis://127.0.0.1:6379/6"}


def test_another_redis_database_of_the_same_server_is_another_lock():
    first = session_lock_keys(_settings("adplatform_a", "redis://127.0.0.1:6379/6"))
    second = session_lock_keys(_settings("adplatform_b", "redis://127.0.0.1:6379/7"))

    assert not set(first) & set(second)


def test_spellings_of_one_redis_database_are_one_lock():
    keys = {
        session_lock_keys(_settings("x", url))[1]
        for url in ("redis://127.0.0.1:6379/6", "redis://localhost/6", "redis://:secret@127.0.0.1:6379/6")
    }
    assert keys == {"redis://127.0.0.1:6379/6"}
    assert "secret" not in session_lock_path("redis://:secret@127.0.0.1:6379/6")


def test_the_test_database_is_the_one_pytest_django_creates():
    keys = session_lock_keys(_settings("adplatform_house", "unix:///tmp/redis.sock?db=3", PORT=""))

    assert keys == ["postgresql://127.0.0.1:5432/test_adplatform_house", "redis+unix:/tmp/redis.sock/3"]


def test_a_second_session_on_this_redis_database_waits(settings):
    # given: this session holds its locks; another process computes the lock of a run on another PostgreSQL
    # database but this Redis database
    other = _settings("some_other_database", settings.REDIS_URL)
    (redis_key,) = [key for key in session_lock_keys(other) if key.startswith("redis")]
    probe = textwrap.dedent(
        f"""
        import fasteners
        lock = fasteners.InterProcessLock({session_lock_path(redis_key)!r})
        print("acquired" if lock.acquire(blocking=False) else "waits")
        """
    )

    # when it tries to take it
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)

    # then it has to wait
    assert result.stdout.strip() == "waits", result.stderr
