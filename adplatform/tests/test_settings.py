"""Settings read the environment: given servers are used, missing ones start embedded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adplatform.core import embedded
from adplatform.core.redis import celery_broker_url, with_db

ROOT = Path(__file__).resolve().parents[2]


def _settings_in_subprocess(env: dict[str, str], expr: str) -> subprocess.CompletedProcess:
    code = (
        f"import json, django; from django.conf import settings; django.setup(); print(json.dumps({expr}, default=str))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "adplatform.project.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_given_urls_are_used_and_nothing_embedded_starts(monkeypatch):
    def refuse():
        raise AssertionError("must not start an embedded server")

    monkeypatch.setattr(embedded, "start_postgres", refuse)
    monkeypatch.setattr(embedded, "start_redis", refuse)

    db, rd, flags = embedded.resolve_service_urls(
        {"DATABASE_URL": "postgres://u@db.example:5432/x", "REDIS_URL": "redis://cache.example:6379/2"}
    )

    assert (db, rd) == ("postgres://u@db.example:5432/x", "redis://cache.example:6379/2")
    assert flags == {"postgres": False, "redis": False}


def test_missing_urls_start_embedded_servers(monkeypatch):
    monkeypatch.setattr(embedded, "start_postgres", lambda: "postgres://embedded/pg")
    monkeypatch.setattr(embedded, "start_redis", lambda: "unix:///tmp/embedded.sock")

    db, rd, flags = embedded.resolve_service_urls({"DATABASE_URL": "", "REDIS_URL": "redis://given:6379/0"})

    assert db == "postgres://embedded/pg"
    assert rd == "redis://given:6379/0"
    assert flags == {"postgres": True, "redis": False}


def test_settings_module_uses_given_servers():
    result = _settings_in_subprocess(
        {
            "ADPLATFORM_IGNORE_DOTENV": "1",
            "DEBUG": "false",
            "SECRET_KEY": "x" * 50,
            "FIELD_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE=",
            "DATABASE_URL": "postgres://alice@db.internal:6543/ads",
            "REDIS_URL": "redis://cache.internal:6380/3",
        },
        '{"db": settings.DATABASES["default"], "embedded": settings.EMBEDDED_SERVICES, '
        '"cache": settings.CACHES["default"]["LOCATION"], "broker": settings.CELERY_BROKER_URL, '
        '"channels": settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]}',
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["db"]["HOST"] == "db.internal"
    assert out["db"]["PORT"] == 6543
    assert out["db"]["NAME"] == "ads"
    assert out["embedded"] == {"postgres": False, "redis": False}
    assert out["cache"] == out["broker"] == "redis://cache.internal:6380/3"
    assert [host["address"] for host in out["channels"]] == ["redis://cache.internal:6380/3"]
    # the layer's reads outlast its 5 s blocking pop (redis-py 8's default 5 s socket timeout did not: issue 20)
    assert all(host["socket_timeout"] > 5 for host in out["channels"])


def test_production_refuses_to_start_without_secret_key():
    result = _settings_in_subprocess(
        {
            "ADPLATFORM_IGNORE_DOTENV": "1",
            "DEBUG": "false",
            "SECRET_KEY": "",
            "DATABASE_URL": "postgres://a@h/d",
            "REDIS_URL": "redis://h:1/0",
        },
        "settings.SECRET_KEY",
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_a_placeholder_secret_key():
    result = _settings_in_subprocess(
        {
            "ADPLATFORM_IGNORE_DOTENV": "1",
            "DEBUG": "false",
            "SECRET_KEY": "change-me",
            "DATABASE_URL": "postgres://a@h/d",
            "REDIS_URL": "redis://h:1/0",
        },
        "settings.SECRET_KEY",
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_sqlite_is_refused():
    result = _settings_in_subprocess(
        {
            "ADPLATFORM_IGNORE_DOTENV": "1",
            "DEBUG": "true",
            "DATABASE_URL": "sqlite:///db.sqlite3",
            "REDIS_URL": "redis://h:1/0",
        },
        "settings.DATABASES",
    )
    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr


def test_embedded_servers_start_in_their_folder_and_stop_when_the_last_user_exits(tmp_path):
    # given: a fresh data folder and a process that uses both embedded servers
    code = (
        "from adplatform.core import embedded; import psycopg, redis, json;"
        "db = embedded.start_postgres(); rd = embedded.start_redis();"
        "import dj_database_url; c = dj_database_url.parse(db);"
        "conn = psycopg.connect(host=c['HOST'], user=c['USER'], dbname=c['NAME']);"
        "v = conn.execute('select 41 + 1').fetchone()[0]; conn.close();"
        "r = redis.Redis.from_url(rd); r.set('k', 'v');"
        "print(json.dumps({'pg': v, 'redis': r.get('k').decode(), 'rd': rd}))"
    )
    env = {"PATH": os.environ["PATH"], "ADPLATFORM_DATA_DIR": str(tmp_path / "data")}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])

    # then: both answered, kept their data in the folder, and stopped with the process
    assert out == {"pg": 42, "redis": "v", "rd": out["rd"]}
    assert (tmp_path / "data" / "postgres" / "PG_VERSION").exists()
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists()
    redis_pid = tmp_path / "data" / "redis" / "redis.pid"
    assert not redis_pid.exists() or not embedded._pid_alive(int(redis_pid.read_text()))
    assert time.monotonic() - started < 60


def test_embedded_redis_is_shared_and_stops_after_its_last_user(tmp_path):
    import redis

    server = embedded.EmbeddedRedis(tmp_path / "redis")
    url = server.start()
    other_user = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        server.handles.add(other_user.pid)

        server.release()  # we leave; another process still uses the server
        assert redis.Redis.from_url(url).ping()

        other_user.kill()  # it dies without cleaning up after itself
        other_user.wait()
        server.start()
        server.release()  # its stale pid is pruned, we were the last: the server stops
        assert server._server_pid() is None
    finally:
        other_user.kill()
        server.stop()


def test_unix_socket_urls_are_translated_for_kombu():
    assert celery_broker_url("unix:///x/redis.sock?db=4") == "redis+socket:///x/redis.sock?virtual_host=4"
    assert celery_broker_url("redis://h:6379/1") == "redis://h:6379/1"
    assert with_db("unix:///x/r.sock", 13) == "unix:///x/r.sock?db=13"
    assert with_db("redis://h:6379/0", 13) == "redis://h:6379/13"


@pytest.mark.parametrize("value,expected", [("true", True), ("0", False), ("Yes", True), ("off", False)])
def test_env_bool(monkeypatch, value, expected):
    from adplatform.core.env import env_bool

    monkeypatch.setenv("SOME_FLAG", value)
    assert env_bool("SOME_FLAG") is expected


def test_env_bool_rejects_nonsense(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from adplatform.core.env import env_bool

    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("SOME_FLAG")
