"""Shared plumbing for the benchmarks: a scratch database, a real server process, load generators.

Each benchmark measures the path it is about *and a baseline on the same server in the same run*
(a bare JSON view), and prints ratios, so the figures mean something on a noisy 2-core machine.
The server is the production stack: granian (WSGI) workers or uvicorn (ASGI), DEBUG off.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import json
import multiprocessing
import os
import platform
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The scratch database and Redis db (emptied by each run): BENCH_DB / BENCH_REDIS_DB choose others, e.g. when
# a test run uses db 14 on the same Redis.
BENCH_DB = os.environ.get("BENCH_DB", "adplatform_bench")
BENCH_REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "14"))


def setup_django() -> dict[str, str]:
    """Point this process at a scratch database and Redis db; return the env for server processes."""
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    # DEBUG is off, as in production, so the secrets at rest need their key (a Fernet key: 32 bytes, base64)
    os.environ.setdefault("FIELD_ENCRYPTION_KEYS", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    os.environ["DEBUG"] = "false"
    os.environ["STATIC_MANIFEST"] = "false"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.project.settings")
    from adplatform.core import embedded
    from adplatform.core.redis import with_db

    database_url, redis_url, _ = embedded.resolve_service_urls(os.environ)
    parts = urlsplit(database_url)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
    os.environ["REDIS_URL"] = with_db(redis_url, BENCH_REDIS_DB)
    _create_database(database_url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from adplatform.core.redis import get_redis

    get_redis().flushdb()
    return {**os.environ}


def _create_database(admin_url: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(admin_url)
    with psycopg.connect(
        host=cfg["HOST"], port=cfg["PORT"] or None, user=cfg["USER"], password=cfg["PASSWORD"] or None,
        dbname="postgres", autocommit=True,
    ) as conn:  # fmt: skip
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(
    env: dict[str, str], *, kind: str = "granian", workers: int = 2, threads: int = 1
) -> Iterator[tuple[str, int]]:
    """A real server on a free port, as the README deploys it; yields ``(host, port)``.

    ``granian``: the WSGI application in ``workers`` processes of ``threads`` blocking threads each
    (HTTP/1.1 keep-alive, as behind a load balancer). ``gunicorn``: the same with gunicorn's gthread worker
    (bench/servers.py compares the two; gunicorn is a development dependency). ``uvicorn``: the ASGI
    application (websockets).
    """
    port = free_port()
    if kind == "granian":
        argv = [str(Path(sys.executable).parent / "granian"), "--interface", "wsgi",
                "adplatform.project.wsgi:application",
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                "--blocking-threads", str(max(1, threads)), "--runtime-threads", "1", "--log-level", "warning",
                "--no-access-log"]  # fmt: skip
    elif kind == "gunicorn":
        argv = [sys.executable, "-m", "gunicorn", "adplatform.project.wsgi", "-w", str(workers),
                "-b", f"127.0.0.1:{port}",
                "-k", "gthread", "--threads", str(max(1, threads)), "--log-level", "warning",
                "--keep-alive", "30"]  # fmt: skip
    else:
        argv = [sys.executable, "-m", "uvicorn", "adplatform.project.asgi:application", "--host", "127.0.0.1", "--port",
                str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log", "--lifespan", "off",
                "--ws", "websockets-sansio"]  # fmt: skip
    # stderr to a file, not a pipe nobody reads (a full pipe would stall the server mid-benchmark)
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after the server stops
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    _servers.append(process)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, _ = request("127.0.0.1", port, "GET", "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(log.read().decode(errors="replace")[-3000:])
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        _servers.remove(process)
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.seek(0)
        errors = [line for line in log.read().decode(errors="replace").splitlines() if '"ERROR"' in line]
        if errors:
            print(f"server logged {len(errors)} errors; the last: {errors[-1][:500]}", file=sys.stderr)
        log.close()


_servers: list[subprocess.Popen] = []


def server_pids() -> list[int]:
    """Pids of the running benchmark servers (their workers are children)."""
    return [p.pid for p in _servers]


def server_cpu_seconds(pids: list[int] | None = None) -> float:
    """CPU seconds used so far by the running benchmark servers (or ``pids``) and their children (user + system).

    Per request, this is the figure a noisy machine disturbs least: throughput moves with whatever
    else runs, the server's own CPU per request much less.
    """
    import psutil

    total = 0.0
    for pid in server_pids() if pids is None else pids:
        try:
            process = psutil.Process(pid)
            for p in [process, *process.children(recursive=True)]:
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def raise_fd_limit() -> None:
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def request(host: str, port: int, method: str, path: str, body: bytes | None = None, headers=None):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


# --------------------------------------------------------------------------- load generators

RequestFactory = Callable[[int], tuple[str, str, bytes | None, dict[str, str]]]


def parse_head(head: bytes) -> tuple[int, int, bool]:
    """An HTTP/1.1 response head: ``(status, content length, the server closes the connection)``."""
    lines = head.rstrip(b"\r\n").split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    return status, length, close


class RawClient:
    """A minimal HTTP/1.1 client for load generation, one keep-alive connection.

    ``http.client`` parses every response's headers with ``email.parser``, which costs more CPU
    than some of the requests being measured; on a 2-core machine the generator's CPU is taken
    from the server. This client writes prepared bytes and reads the status line,
    ``Content-Length`` and ``Connection`` only. A connection the server closes is reopened for the
    next request.
    """

    def __init__(self, host: str, port: int):
        self.address = (host, port)
        self.host = f"{host}:{port}".encode()
        self.sock: socket.socket | None = None
        self.buffer = b""

    def prepare(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> bytes:
        lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self.host]
        lines += [f"{name}: {value}".encode() for name, value in headers.items()]
        if body is not None:
            lines.append(b"Content-Length: %d" % len(body))
        return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")

    def send(self, raw: bytes) -> int:
        """Send one prepared request; its status code."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=10)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
        try:
            self.sock.sendall(raw)
            status, close = self._response()
        except OSError:
            self.close()
            raise
        if close:
            self.close()
        return status

    def _recv(self) -> bytes:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("the server closed the connection")
        return chunk

    def _response(self) -> tuple[int, bool]:
        data = self.buffer
        while b"\r\n\r\n" not in data:
            data += self._recv()
        head, _, rest = data.partition(b"\r\n\r\n")
        status, length, close = parse_head(head)
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        return status, close

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None


def _closed_worker(args) -> tuple[int, int, list[float]]:
    host, port, factory, duration, seed = args
    client = RawClient(host, port)
    latencies: list[float] = []
    errors = 0
    n = seed * 1_000_000
    end = time.perf_counter() + duration
    while time.perf_counter() < end:
        raw = client.prepare(*factory(n))
        n += 1
        started = time.perf_counter()
        try:
            if client.send(raw) >= 400:
                errors += 1
        except OSError:
            errors += 1
            continue
        latencies.append(time.perf_counter() - started)
    client.close()
    return len(latencies), errors, latencies


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def closed_loop(host: str, port: int, factory: RequestFactory, *, concurrency: int, duration: float) -> LoadResult:
    """As fast as ``concurrency`` keep-alive clients can go: throughput."""
    with multiprocessing.get_context("fork").Pool(concurrency) as pool:
        started = time.perf_counter()
        results = pool.map(_closed_worker, [(host, port, factory, duration, i) for i in range(concurrency)])
        elapsed = time.perf_counter() - started
    latencies = [x for _, _, lat in results for x in lat]
    return LoadResult(sum(r[0] for r in results), sum(r[1] for r in results), min(elapsed, duration + 1), latencies)


class _AsyncConnection:
    """One keep-alive connection of the open-loop generator (asyncio streams, HTTP/1.1)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, raw: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        try:
            self.writer.write(raw)
            status, length, close = parse_head(await self.reader.readuntil(b"\r\n\r\n"))
            await self.reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            self.close()
            raise ConnectionError("the request failed") from None
        if close:
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _open_async(host, port, requests: list[bytes], rate: float, connections: int):
    clock = time.perf_counter  # uvloop's loop.time() only has millisecond resolution
    idle: asyncio.Queue[_AsyncConnection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(_AsyncConnection(host, port))
    latencies: list[float] = []
    errors = 0

    async def one(raw: bytes, scheduled: float) -> None:
        nonlocal errors
        conn = await idle.get()  # every connection busy: the wait counts, as queueing would at a server
        try:
            if await conn.send(raw) >= 400:
                errors += 1
        except ConnectionError:
            errors += 1
        finally:
            idle.put_nowait(conn)
        latencies.append(clock() - scheduled)

    start = clock() + 0.05
    tasks = []
    for i, raw in enumerate(requests):
        scheduled = start + i / rate
        delay = scheduled - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(raw, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = clock() - start
    while not idle.empty():
        idle.get_nowait().close()
    return LoadResult(len(latencies), errors, elapsed, latencies)


def open_loop(host: str, port: int, factory: RequestFactory, *, rate: float, duration: float, connections: int = 32):
    """A fixed offered rate: latency percentiles at that rate, from each request's scheduled time.

    One process and one event loop (uvloop when installed) sends the requests on time over up to
    ``connections`` keep-alive connections; a request that finds them all busy waits, and that wait
    counts (no coordinated omission). Several synchronous client processes, as a first version did,
    add their own scheduling delays on a 2-core machine: a few milliseconds at the median even for
    a bare view.
    """
    preparer = RawClient(host, port)
    requests = [preparer.prepare(*factory(n)) for n in range(int(rate * duration))]
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_open_async(host, port, requests, rate, connections))
    return uvloop.run(_open_async(host, port, requests, rate, connections))


def machine() -> str:
    mem = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    return f"{os.cpu_count()} cores, {mem} RAM, {platform.python_implementation()} {platform.python_version()}"


# ``bench/run_all --quick`` (CI) checks that every figure is produced, not its value: it sets BENCH_QUICK and
# points BENCH_RESULTS_DIR at a scratch directory, so bench/results and bench/RESULTS.md stay as measured.
QUICK = os.environ.get("BENCH_QUICK") == "1"
RESULTS_DIR = Path(os.environ.get("BENCH_RESULTS_DIR") or ROOT / "bench" / "results")


def replace_section(path: Path, title: str, section: str) -> None:
    """Put ``section`` (starting ``## title``) in the Markdown file at ``path``, in place of its previous one.

    In quick mode the section goes to the scratch results directory instead."""
    if QUICK:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (RESULTS_DIR / f"{title.lower().replace(' ', '_')}.md").write_text(section)
        return
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    found = pattern.search(text)
    text = pattern.sub(lambda _: section + "\n", text) if found else text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")


def write_result(name: str, payload: dict) -> None:
    """Keep each benchmark's latest figures as JSON for bench/run_all to assemble RESULTS.md."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str))


# --------------------------------------------------------------------------- wrk, the independent client

# wrk (Debian's package, C and LuaJIT) drives throughput runs: a client that is not this project's code and
# costs the server's machine little CPU. The bench supplies two Lua functions: ``request()`` (wrk's own hook)
# and ``classify(status, body)`` returning a counter's name; every response is classified, and ``done``
# prints the counters and wrk's figures as one JSON line.
_WRK_PRELUDE = """
local threads = {}
counts = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  counts = {}
end
function response(status, headers, body)
  local name = classify(status, body)
  counts[name] = (counts[name] or 0) + 1
end
function done(summary, latency, requests)
  local totals = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do totals[k] = (totals[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(totals) do table.insert(parts, string.format('"%s":%d', k, v)) end
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"timeouts":%d,'
    .. '"non2xx":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"counts":{%s}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(parts, ",")))
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    socket_errors: int
    non2xx: int
    p50_ms: float
    p99_ms: float
    counts: dict[str, int]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk(host: str, port: int, lua: str, *, duration: float, connections: int = 8, threads: int = 1) -> WrkResult:
    """One wrk run of ``duration`` seconds; ``lua`` defines ``request()`` and ``classify(status, body)``."""
    import shutil

    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua + "\n" + _WRK_PRELUDE)
        script.flush()
        out = subprocess.run(
            [binary, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
             "--timeout", "10s", "-s", script.name, f"http://{host}:{port}/"],
            capture_output=True, text=True, timeout=duration + 60, check=True,
        )  # fmt: skip
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result: {out.stdout[-2000:]} {out.stderr[-2000:]}")
    data = json.loads(line.removeprefix("WRKJSON "))
    return WrkResult(
        requests=data["requests"], seconds=data["duration_us"] / 1e6,
        socket_errors=data["socket_errors"] + data["timeouts"], non2xx=data["non2xx"],
        p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000, counts=data["counts"],
    )  # fmt: skip


def lua_string(value: str) -> str:
    """``value`` as a Lua string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
