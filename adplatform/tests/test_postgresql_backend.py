"""The PostgreSQL backend's health checks: skipped for a connection that just ran a request cleanly, and only then.

Each test frames "requests" as Django frames them: ``close_old_connections`` when a request starts and
when it ends (the ``request_started`` / ``request_finished`` receivers).
"""

from __future__ import annotations

import psycopg
import pytest
from django.db import close_old_connections, connections
from django.db.utils import OperationalError

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def db_conn(settings):
    """The default connection with health checks on, counting the SELECT 1 checks it makes."""
    settings.DB_HEALTH_CHECK_SKIP_MS = 500
    conn = connections["default"]
    conn.close()
    saved = conn.health_check_enabled
    conn.health_check_enabled = True
    checks = []
    real = conn.is_usable

    def counting_is_usable():
        checks.append(1)
        return real()

    conn.is_usable = counting_is_usable
    yield conn, checks
    del conn.is_usable
    conn.health_check_enabled = saved
    conn.close()


def request(conn, sql="SELECT 1"):
    """One request that runs ``sql``; returns its rows."""
    close_old_connections()
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        close_old_connections()


class FakeClock:
    def __init__(self, monkeypatch):
        self.now = 1000.0
        monkeypatch.setattr("adplatform.core.postgresql.base.time.monotonic", lambda: self.now)


def test_a_connection_that_just_served_a_request_is_not_checked_again(db_conn, monkeypatch):
    conn, checks = db_conn
    clock = FakeClock(monkeypatch)
    assert conn.vendor == "postgresql" and type(conn).__module__ == "adplatform.core.postgresql.base"
    assert request(conn) == [(1,)]  # a new connection: Django does not check it either
    clock.now += 0.2
    assert request(conn) == [(1,)]
    clock.now += 0.2
    assert request(conn) == [(1,)]
    assert checks == []


def test_a_connection_idle_for_longer_than_the_window_is_checked(db_conn, monkeypatch):
    conn, checks = db_conn
    clock = FakeClock(monkeypatch)
    request(conn)
    clock.now += 0.6
    request(conn)
    assert checks == [1]
    clock.now += 0.1  # the checked request proved it good again
    request(conn)
    assert checks == [1]


def test_a_request_that_did_not_use_the_connection_does_not_renew_it(db_conn, monkeypatch):
    conn, checks = db_conn
    clock = FakeClock(monkeypatch)
    request(conn)
    for _ in range(5):  # requests that make no query, 0.3 s apart
        clock.now += 0.3
        close_old_connections()
        close_old_connections()
    request(conn)
    assert checks == [1]


def test_a_connection_that_saw_an_error_is_checked(db_conn, monkeypatch):
    conn, checks = db_conn
    FakeClock(monkeypatch)
    request(conn)
    close_old_connections()
    with pytest.raises(OperationalError), conn.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    close_old_connections()  # the request ends: Django checks it, finds it dead and closes it
    assert checks == [1]
    assert conn.connection is None
    assert request(conn) == [(1,)]  # the next request opens a new one


def test_a_dead_idle_connection_is_replaced_before_the_request_uses_it(db_conn, monkeypatch):
    conn, checks = db_conn
    clock = FakeClock(monkeypatch)
    request(conn)
    pid = conn.connection.info.backend_pid
    with psycopg.connect(**conn.get_connection_params(), autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])
    clock.now += 5
    assert request(conn) == [(1,)]
    assert checks == [1]
    assert conn.connection.info.backend_pid != pid


def test_zero_turns_the_skip_off(db_conn, monkeypatch, settings):
    conn, checks = db_conn
    settings.DB_HEALTH_CHECK_SKIP_MS = 0
    FakeClock(monkeypatch)
    request(conn)
    request(conn)
    request(conn)
    assert checks == [1, 1]
