"""Settings read the environment: given servers are used, missing ones start embedded."""

from __future__ import annotations

import json
import logging
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


# --------------------------------------------------------------------------- the strict wrapper of django-environ


@pytest.mark.parametrize("value", ["", "  "])
def test_a_blank_number_takes_the_default(monkeypatch, value):
    from adplatform.core.env import env_float, env_int

    monkeypatch.setenv("SOME_NUMBER", value)
    assert env_int("SOME_NUMBER", 7) == 7
    assert env_float("SOME_NUMBER", 1.5) == 1.5


def test_values_are_cast(monkeypatch):
    from adplatform.core.env import env_bool, env_float, env_int, env_list, env_str

    monkeypatch.setenv("SOME_INT", " -12 ")
    monkeypatch.setenv("SOME_FLOAT", "2.5")
    monkeypatch.setenv("SOME_LIST", " a.example, b.example ,, ")
    monkeypatch.setenv("SOME_FLAG", " ON ")
    monkeypatch.setenv("SOME_STR", "$HOME/x")  # taken literally: django-environ's $references are not followed
    monkeypatch.delenv("UNSET_VARIABLE", raising=False)

    assert env_int("SOME_INT", 0) == -12
    assert env_float("SOME_FLOAT", 0.0) == 2.5
    assert env_list("SOME_LIST") == ["a.example", "b.example"]
    assert env_bool("SOME_FLAG") is True
    assert env_str("SOME_STR") == "$HOME/x"
    assert env_str("UNSET_VARIABLE", "fallback") == "fallback"
    assert env_list("UNSET_VARIABLE", ["x"]) == ["x"]
    assert env_bool("UNSET_VARIABLE", True) is True


@pytest.mark.parametrize(
    ("reader", "value", "expected"),
    [
        ("env_int", "12s", "SOME_SETTING must be an integer, got '12s'"),
        ("env_int", "1.5", "SOME_SETTING must be an integer, got '1.5'"),
        ("env_float", "1.5s", "SOME_SETTING must be a number, got '1.5s'"),  # django-environ would read 1.5
        ("env_float", "1,5", "SOME_SETTING must be a number, got '1,5'"),
        ("env_bool", "enabled", "SOME_SETTING must be a boolean (true/false), got 'enabled'"),  # environ: False
    ],
)
def test_a_bad_value_names_the_variable(monkeypatch, reader, value, expected):
    from django.core.exceptions import ImproperlyConfigured

    from adplatform.core import env

    monkeypatch.setenv("SOME_SETTING", value)
    with pytest.raises(ImproperlyConfigured) as error:
        getattr(env, reader)("SOME_SETTING", *(() if reader == "env_bool" else (0,)))
    assert str(error.value) == expected


def test_a_rate_is_checked_at_start_up(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from adplatform.core.env import env_rate

    monkeypatch.setenv("SOME_RATE", " 10/5s ")
    assert env_rate("SOME_RATE", "1/min") == "10/5s"
    monkeypatch.setenv("SOME_RATE", "")
    assert env_rate("SOME_RATE", "1/min") == "1/min"
    monkeypatch.setenv("SOME_RATE", "120/fortnight")
    with pytest.raises(
        ImproperlyConfigured, match=r"^SOME_RATE must be a rate such as 120/min or 10/5s, got '120/fortnight'$"
    ):
        env_rate("SOME_RATE", "1/min")


def test_dotenv_fills_what_the_environment_lacks(monkeypatch, tmp_path, caplog):
    from adplatform.core.env import load_dotenv

    path = tmp_path / ".env"
    path.write_text(
        "# a comment\n"
        "DOTENV_PLAIN=plain value\n"
        "export DOTENV_EXPORTED=yes\n"
        "DOTENV_SINGLE='single # quoted'\n"
        'DOTENV_DOUBLE="double quoted"\n'
        "DOTENV_GIVEN=from file\n"
        "  DOTENV_SPACED = spaced value \n"
        "s3cr3t-pasted-without-a-name\n"
        "\n"
    )
    names = ("DOTENV_PLAIN", "DOTENV_EXPORTED", "DOTENV_SINGLE", "DOTENV_DOUBLE", "DOTENV_SPACED")
    for name in names:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOTENV_GIVEN", "from environment")

    with caplog.at_level(logging.DEBUG):
        load_dotenv(path)
    load_dotenv(tmp_path / "missing.env")  # no file: nothing happens

    assert os.environ["DOTENV_PLAIN"] == "plain value"
    assert os.environ["DOTENV_EXPORTED"] == "yes"
    assert os.environ["DOTENV_SINGLE"] == "single # quoted"
    assert os.environ["DOTENV_DOUBLE"] == "double quoted"
    assert os.environ["DOTENV_GIVEN"] == "from environment"  # real environment variables win
    assert os.environ["DOTENV_SPACED"] == "spaced value"
    assert "s3cr3t" not in caplog.text  # a line that is no assignment is skipped, not logged
    for name in names:
        monkeypatch.delenv(name)


_BASE_ENV = {
    "ADPLATFORM_IGNORE_DOTENV": "1",
    "DEBUG": "false",
    "SECRET_KEY": "x" * 50,
    "FIELD_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE=",
    "DATABASE_URL": "postgres://a@h/d",
    "REDIS_URL": "redis://h:1/0",
}


def test_settings_keep_their_names_and_defaults():
    result = _settings_in_subprocess(
        _BASE_ENV,
        '{"hosts": settings.ALLOWED_HOSTS, "age": settings.DATABASES["default"]["CONN_MAX_AGE"], '
        '"wait": settings.DECISION_BUDGET_WAIT_SECONDS, "rates": settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], '
        '"proxies": settings.NUM_PROXIES, "hsts": settings.SECURE_HSTS_SECONDS, '
        '"secure": settings.SESSION_COOKIE_SECURE, '
        '"breaker": settings.ROBLOX_BREAKER_FAILURES, "email": settings.EMAIL_PORT, "log": settings.LOG_LEVEL}',
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["hosts"] == ["localhost", "127.0.0.1", "[::1]"]
    assert out["age"] == 60
    assert out["wait"] == 1.0
    assert out["rates"]["anon"] == "120/min" and out["rates"]["game_server"] == "30000/min"
    assert out["rates"]["roblox"] == "300/min"
    assert (out["proxies"], out["hsts"], out["secure"], out["breaker"], out["email"]) == (0, 0, False, 5, 25)
    assert out["log"] == "INFO"


def test_settings_read_the_environment():
    result = _settings_in_subprocess(
        {
            **_BASE_ENV,
            "ALLOWED_HOSTS": "ads.example, api.example",
            "DB_CONN_MAX_AGE": "0",
            "DECISION_BUDGET_WAIT_SECONDS": "0.25",
            "THROTTLE_ANON": "10/s",
            "NUM_PROXIES": "2",
            "SECURE_COOKIES": "yes",
            "LOG_LEVEL": "warning",
        },
        '{"hosts": settings.ALLOWED_HOSTS, "age": settings.DATABASES["default"]["CONN_MAX_AGE"], '
        '"wait": settings.DECISION_BUDGET_WAIT_SECONDS, "anon": settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]'
        '["anon"], "proxies": settings.NUM_PROXIES, "secure": settings.SESSION_COOKIE_SECURE, '
        '"log": settings.LOG_LEVEL}',
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out == {
        "hosts": ["ads.example", "api.example"],
        "age": 0,
        "wait": 0.25,
        "anon": "10/s",
        "proxies": 2,
        "secure": True,
        "log": "WARNING",
    }


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DB_CONN_MAX_AGE", "sixty", "DB_CONN_MAX_AGE must be an integer, got 'sixty'"),
        ("DECISION_BUDGET_WAIT_SECONDS", "1s", "DECISION_BUDGET_WAIT_SECONDS must be a number, got '1s'"),
        ("SECURE_COOKIES", "sure", "SECURE_COOKIES must be a boolean (true/false), got 'sure'"),
        ("THROTTLE_ANON", "lots", "THROTTLE_ANON must be a rate such as 120/min or 10/5s, got 'lots'"),
    ],
)
def test_settings_refuse_a_bad_value_naming_the_variable(name, value, message):
    result = _settings_in_subprocess({**_BASE_ENV, name: value}, "settings.DEBUG")
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr
