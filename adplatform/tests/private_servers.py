"""Private Redis and PostgreSQL servers for the fault tests: their own port and temp folder, never the machine's.

The fault tests stop, kill, empty and restart these; the machine's servers are shared and never touched.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A ``redis-server`` on a free port in a temp folder; stopped, killed and restarted on the same port."""

    def __init__(self, *, appendonly: bool = False):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="faults-redis-"))
        self.appendonly = appendonly
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 15) -> PrivateRedis:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is required for the fault tests"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir), "--save", "",
             "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "everysec",
             "--logfile", str(self.dir / "redis.log"), "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not self.ping():
            assert self.process.poll() is None, (self.dir / "redis.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "private redis did not start"
            time.sleep(0.05)
        return self

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, *, kill: bool = False) -> None:
        """SIGTERM (or SIGKILL): the server goes away; without persistence its data goes with it."""
        if self.process is not None and self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None

    def wipe(self) -> None:
        """Remove what the server persisted: the next start is empty."""
        for entry in self.dir.iterdir():
            if entry.name != "redis.log":
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()

    def close(self) -> None:
        self.stop(kill=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


class PrivatePostgres:
    """A PostgreSQL cluster made with ``initdb`` in a temp folder, on a free port (trust auth, user postgres)."""

    def __init__(self):
        self.bin = postgres_bin()
        assert self.bin is not None, "PostgreSQL's initdb/pg_ctl are required for the fault tests"
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        self.data = self.dir / "data"
        self._run_as: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the postgres user
            shutil.chown(self.dir, "postgres")
            self._run_as = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*self._run_as, str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
             "--no-sync", "-E", "UTF8"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip

    def url(self, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> PrivatePostgres:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off -c max_connections=50"
        subprocess.run(
            [*self._run_as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
             str(self.dir / "pg.log"), "-w", "-t", "30", "start"],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            [*self._run_as, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop"],
            check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def children(pid: int) -> list[int]:
    """The direct child processes of ``pid`` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # a thread that just ended
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


class GranianServer:
    """The README's HTTP server (granian, WSGI, ``--workers 2 --respawn-failed-workers``) on a free port."""

    def __init__(self, env: dict[str, str], workers: int = 2):
        self.port = free_port()
        self.env = env
        self.workers = workers
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> GranianServer:
        import sys
        import urllib.request

        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "granian", "--interface", "wsgi", "adplatform.project.wsgi:application",
             "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
             "--blocking-threads", "2", "--runtime-threads", "1", "--no-access-log",
             "--respawn-failed-workers", "--respawn-interval", "0.5"],
            cwd=Path(__file__).resolve().parents[2], env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200 and len(children(self.process.pid)) >= self.workers:
                        return self
            except OSError:
                pass
            assert self.process.poll() is None, self.output()[-3000:]
            assert time.monotonic() < deadline, "granian did not start: " + self.output()[-3000:]
            time.sleep(0.2)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None) is not None:
            self.log.close()
        self.process = None
