"""Fixtures shared by every app's tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from typing import Self

import pytest

from adplatform.core.redis import get_redis, reset_redis_client

_session_locks: list = []


def _redis_identity(url: str) -> str:
    """The Redis *database* a URL names: server and db number, whatever the spelling (password, default port)."""
    from redis.connection import parse_url

    parts = parse_url(url)
    db = int(parts.get("db") or 0)
    if parts.get("path"):  # unix socket
        return f"redis+unix:{os.path.realpath(parts['path'])}/{db}"
    host = (parts.get("host") or "127.0.0.1").lower()
    host = "127.0.0.1" if host == "localhost" else host
    return f"redis://{host}:{int(parts.get('port') or 6379)}/{db}"


def _postgres_identity(database: dict) -> str:
    """The PostgreSQL test database pytest-django creates and drops for these settings."""
    host = (database.get("HOST") or "127.0.0.1").lower()
    host = "127.0.0.1" if host == "localhost" else host
    name = (database.get("TEST") or {}).get("NAME") or f"test_{database['NAME']}"
    return f"postgresql://{host}:{database.get('PORT') or 5432}/{name}"


def session_lock_keys(settings) -> list[str]:
    """What a test session must own alone, each locked on its own: its test database and its Redis database.

    One lock per resource, not one per pair: two runs on different databases but the same Redis database
    (or the reverse) would otherwise both go ahead and empty each other's data.
    """
    return sorted({_postgres_identity(settings.DATABASES["default"]), _redis_identity(settings.REDIS_URL)})


def session_lock_path(key: str) -> str:
    import hashlib

    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"adplatform-tests-{digest}.lock")


def pytest_configure(config):
    """One test session at a time per test database and per Redis database.

    A second ``make test`` (or a helper's run) on the same database, or on the same Redis database, waits here
    instead of dropping the first one's database or flushing its Redis data. Locks are taken in a fixed
    (sorted) order, so two sessions never wait on each other.
    """
    import fasteners
    from django.conf import settings

    for key in session_lock_keys(settings):
        lock = fasteners.InterProcessLock(session_lock_path(key))
        if not lock.acquire(blocking=False):
            print(f"Another test session uses {key}; waiting for it to finish...")
            lock.acquire()
        _session_locks.append(lock)


def pytest_unconfigure(config):
    while _session_locks:
        _session_locks.pop().release()


@pytest.fixture(autouse=True)
def _clean_redis(settings):
    """Every test starts with an empty Redis database of its own (settings_test picks a dedicated db)."""
    reset_redis_client()
    get_redis().flushdb()
    yield
    reset_redis_client()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def user_factory(db):
    from adplatform.accounts.tests.factories import UserFactory

    return UserFactory


@pytest.fixture
def owner(user_factory):
    return user_factory(role="OWNER")


@pytest.fixture
def advertiser(user_factory):
    return user_factory(role="ADVERTISER")


@pytest.fixture
def staff_user(user_factory):
    return user_factory(role="STAFF", is_staff=True, is_superuser=True)


@pytest.fixture
def token_client(api_client):
    """An API client authenticated with a fresh personal access token of the given user."""
    from adplatform.accounts import services

    def make(user):
        _, raw = services.token_create(user=user, name="test")
        client = api_client.__class__()
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        return client

    return make


def pytest_collection_modifyitems(config, items):
    """Browser tests last: Playwright's sync API holds an event loop that async tests must not meet."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    """A headless system Chromium driven by Playwright (no browser download)."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required for browser tests in CI (install the 'chromium' package).")
        pytest.skip("Chromium not installed; `make test` installs it where it can.")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's DB calls
    # from the live server's threads are unaffected, ours in the test are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _clear_process_caches():
    """In-process caches (game keys, containers) must not leak between tests."""
    from adplatform.core.localcache import TTLCache
    from ads.decisions import engine
    from games import keycache

    for cache in TTLCache.instances():
        cache.clear()
    keycache.clear()
    engine.reset()
    yield


def _database_url_for_subprocess() -> str:
    """The test database (pytest-django renamed it) as a URL another process can use."""
    from urllib.parse import quote

    from django.db import connection

    cfg = connection.settings_dict
    host = quote(cfg["HOST"] or "127.0.0.1", safe="")
    port = f":{cfg['PORT']}" if cfg["PORT"] else ""
    password = f":{quote(cfg['PASSWORD'])}" if cfg["PASSWORD"] else ""
    return f"postgres://{cfg['USER']}{password}@{host}{port}/{cfg['NAME']}"


def _subprocess_env(**extra: str) -> dict[str, str]:
    """The environment of a server or worker process on the test database and Redis."""
    from django.conf import settings

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "adplatform.project.settings_test",
        "DATABASE_URL": _database_url_for_subprocess(),
        "REDIS_URL": settings.REDIS_URL,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        **extra,
    }


def _stop(process, log, *, timeout: float) -> None:
    """Terminate a test's child process (killed if it outlives ``timeout``) and close its log file."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except Exception:  # noqa: BLE001
            process.kill()
    if log is not None:
        log.close()


def _tail(log, size: int = 4000) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-size:]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_taken_by_another(port: int, pid: int) -> bool:
    """Some process other than ``pid`` listens on ``port`` (our server then could not bind it)."""
    import psutil

    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid != pid:
            return True
    return False


class AsgiServer:
    """A real ``uvicorn adplatform.project.asgi:application`` process on the test database and Redis."""

    def __init__(self, port: int | None = None):
        self.chosen_port = port is None  # a free port of ours: another is taken when someone else grabs it
        self.port = port if port is not None else _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        import subprocess
        import time
        import urllib.request
        from pathlib import Path

        # stderr to a file, not a pipe nobody reads: a full pipe would stall the server
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process; closed in stop()
        self.process = subprocess.Popen(
            self.command(),
            cwd=Path(__file__).resolve().parent,
            env=_subprocess_env(LOG_LEVEL="WARNING"),
            stdout=self.log,  # the JSON log lines (warnings and errors): tests may read them
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:  # noqa: S310
                    if response.status == 200 and self._listens():
                        return self
            except OSError:
                pass
            if self.process.poll() is not None:
                if self.chosen_port and _port_taken_by_another(self.port, self.process.pid):
                    # a concurrent test run bound the free port between our probe and the server's bind
                    self.port = _free_port()
                    return self.start()
                raise RuntimeError(_tail(self.log))
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.1)

    def _listens(self) -> bool:
        """Whether the listening socket on our port is this server's (its process or a worker's), not another
        test run's server answering /healthz in its place."""
        import psutil

        try:
            root = psutil.Process(self.process.pid if self.process else -1)
            family = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return False
        for proc in family:
            try:
                conns = proc.net_connections(kind="tcp")
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == self.port for c in conns):
                return True
        return False

    def command(self) -> list[str]:
        import sys

        return [sys.executable, "-m", "uvicorn", "adplatform.project.asgi:application", "--host", "127.0.0.1", "--port",
                str(self.port), "--lifespan", "off", "--log-level", "warning", "--no-access-log", "--ws",
                "websockets-sansio"]  # fmt: skip

    def stop(self) -> None:
        _stop(self.process, getattr(self, "log", None), timeout=10)
        self.process = None


class WsgiServer(AsgiServer):
    """The README's production HTTP server: ``granian`` with several worker processes, each with threads."""

    def __init__(self, port: int | None = None, *, workers: int = 2, threads: int = 4):
        super().__init__(port)
        self.workers, self.threads = workers, threads

    def command(self) -> list[str]:
        import sys
        from pathlib import Path

        return [str(Path(sys.executable).parent / "granian"), "--interface", "wsgi",
                "adplatform.project.wsgi:application",
                "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
                "--blocking-threads", str(self.threads), "--runtime-threads", "1", "--log-level", "warning",
                "--no-access-log"]  # fmt: skip


@pytest.fixture
def wsgi_server_factory():
    """Real granian servers (``workers`` processes each) on the test database and Redis."""
    servers: list[WsgiServer] = []

    def make(*, workers: int = 2, threads: int = 4) -> WsgiServer:
        server = WsgiServer(workers=workers, threads=threads).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def asgi_server_factory():
    servers: list[AsgiServer] = []

    def make(port: int | None = None) -> AsgiServer:
        server = AsgiServer(port).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


class CeleryWorker:
    """A real ``celery worker`` process (solo pool) on the test database and Redis broker."""

    def __init__(self, name: str, env: dict[str, str] | None = None, pool: str = "solo"):
        self.name = name
        self.env = env or {}  # e.g. the fault tests' private Redis as REDIS_URL
        self.pool = pool  # "prefork": the README's deployment (2 processes), with gossip, mingle and heartbeat
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        import subprocess
        import sys
        from pathlib import Path

        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process; closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "adplatform.project", "worker", "--hostname", f"{self.name}@%h",
             "--loglevel", "INFO",
             *(["--pool", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat"]
               if self.pool == "solo" else ["--pool", self.pool, "--concurrency", "2"])],
            cwd=Path(__file__).resolve().parent,
            env=_subprocess_env(LOG_LEVEL="INFO", **self.env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        return self

    def output(self) -> str:
        return _tail(self.log, 10**7)

    def wait_ready(self, timeout: float = 120) -> CeleryWorker:
        """Until the worker consumes from the broker (it logs ``<name>@<host> ready.``)."""
        import time

        deadline = time.monotonic() + timeout
        while f"{self.name}@" not in self.output() or " ready." not in self.output():
            self.assert_alive()
            assert time.monotonic() < deadline, f"worker {self.name} not ready in {timeout} s: {_tail(self.log)}"
            time.sleep(0.2)
        return self

    def assert_alive(self) -> None:
        assert self.process is not None and self.process.poll() is None, _tail(self.log)

    def stop(self) -> None:
        _stop(self.process, getattr(self, "log", None), timeout=30)  # warm shutdown: the task in hand finishes
        self.process = None


@pytest.fixture
def celery_worker_factory():
    workers: list[CeleryWorker] = []

    def make(name: str, env: dict[str, str] | None = None, pool: str = "solo") -> CeleryWorker:
        worker = CeleryWorker(name, env, pool).start()
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.stop()
