"""Start the whole platform in one terminal: web + websockets, Celery worker and beat.

Migrates, seeds the demo data, then supervises its children. Ctrl-C (or
SIGTERM) stops the children, then the embedded PostgreSQL and Redis, if this
process started them. A child that dies is logged and started again after a
backoff (1 s, doubling up to 30 s; back to 1 s once it has run a minute), so one
crash (a worker killed, a lost database) never stops the rest of the platform.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from adplatform.core import embedded
from adplatform.tools.management.commands.seed_demo import banner
from adplatform.tools.management.commands.seed_demo import seed as seed_demo

logger = logging.getLogger("adplatform.supervisor")

RESTART_BACKOFF_FIRST = 1.0
RESTART_BACKOFF_MAX = 30.0
HEALTHY_AFTER = 60.0  # a child that ran this long is restarted at once again (backoff reset)


class Child:
    """One supervised process and what it takes to start it again."""

    def __init__(self, name: str, argv: list[str], env: dict, required: bool):
        self.name, self.argv, self.env, self.required = name, argv, env, required
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restarts = 0
        self.backoff = RESTART_BACKOFF_FIRST
        self.restart_at: float | None = None  # when a dead child is due to be started again

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, env=self.env, cwd=settings.BASE_DIR, start_new_session=True)
        self.started_at = time.monotonic()
        self.restart_at = None


class Command(BaseCommand):
    help = "Run web (HTTP + websockets), Celery worker and Celery beat together, with demo data."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-seed", action="store_true", help="Do not create demo data.")
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes.")
        parser.add_argument(
            "--extra",
            action="append",
            default=[],
            metavar="COMMAND",
            help="Another manage.py command to supervise alongside (e.g. the game simulator). Repeatable.",
        )

    def handle(self, *args, **options):
        self._children: list[Child] = []
        self._stopping = False
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

        # Quiet by default: warnings and errors, not a line per request or task (LOG_LEVEL / ACCESS_LOG_LEVEL).
        log_level = os.environ.get("LOG_LEVEL") or "WARNING"
        logging.getLogger().setLevel(log_level.upper())
        mode = ", ".join(f"{name}: {'embedded' if on else 'given'}" for name, on in settings.EMBEDDED_SERVICES.items())
        self.stdout.write(f"Data stores ({mode}); data folder {embedded.data_dir()}")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        demo = None
        if not options["no_seed"]:
            demo = seed_demo()
            self.stdout.write("Demo data ready (accounts and keys below, once everything is up).")

        env = {
            **os.environ,
            # Children join the servers this process resolved (and owns, when embedded).
            "DATABASE_URL": settings.DATABASE_URL,
            "REDIS_URL": settings.REDIS_URL,
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": log_level,
            "ACCESS_LOG_LEVEL": os.environ.get("ACCESS_LOG_LEVEL") or "WARNING",
            # Every child (the simulator too) finds the web process where this one started it.
            "HOST": options["host"],
            "PORT": str(options["port"]),
        }
        python = sys.executable
        host, port = options["host"], options["port"]
        self._spawn(
            "web",
            [
                python, "-m", "uvicorn", "adplatform.project.asgi:application",
                "--host", host, "--port", str(port), "--lifespan", "off", "--no-access-log",
                "--log-level", "warning", "--ws", "websockets-sansio",
            ],
            env,
        )  # fmt: skip
        self._spawn(
            "worker",
            [
                python, "-m", "celery", "--quiet", "-A", "adplatform.project", "worker", "--loglevel", log_level,
                "--concurrency", str(options["concurrency"]), "--without-gossip", "--without-mingle",
                "--hostname", f"worker-{os.getpid()}@%h",
            ],
            env,
        )  # fmt: skip
        self._spawn(
            "beat",
            [
                python, "-m", "celery", "--quiet", "-A", "adplatform.project", "beat", "--loglevel", log_level,
                "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
            env,
        )  # fmt: skip
        url = f"http://{host}:{port}"
        ready = self._wait_ready(f"{url}/readyz")
        for index, command in enumerate(options["extra"]):
            self._spawn(f"extra-{index + 1}", [python, "manage.py", *command.split()], env, required=False)
        if ready:  # last, so it stays on screen: from here on only warnings and errors are printed
            self.stdout.write(self.style.SUCCESS(banner(demo, url)))
        self._supervise()

    def _spawn(self, name: str, argv: list[str], env: dict, required: bool = True) -> None:
        child = Child(name, argv, env, required)
        child.start()
        assert child.process is not None  # start() just made it
        self._children.append(child)
        self.stdout.write(f"started {name} (pid {child.process.pid})")

    def _wait_ready(self, url: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._stopping:
            self._check_children()
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own local URL
                    if response.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.3)
        return False

    def _check_children(self) -> None:
        """Restart each dead child after its backoff; an optional one (``--extra``) that exits 0 is done."""
        now = time.monotonic()
        for child in self._children:
            if self._stopping or child.process is None:
                continue
            code = child.process.poll()
            if code is None:
                if now - child.started_at >= HEALTHY_AFTER:
                    child.backoff = RESTART_BACKOFF_FIRST
                continue
            if child.restart_at is None:
                if code == 0 and not child.required:
                    child.process = None  # a one-off extra command that finished
                    continue
                child.restart_at = now + child.backoff
                logger.error(
                    "%s exited with code %s; restarting it in %.0f s",
                    child.name, code, child.backoff,
                    extra={"child": child.name, "exit_code": code, "restart_in_s": child.backoff,
                           "restarts": child.restarts},
                )  # fmt: skip
                self.stderr.write(f"{child.name} exited with code {code}; restarting it in {child.backoff:.0f} s")
                child.backoff = min(child.backoff * 2, RESTART_BACKOFF_MAX)
            elif now >= child.restart_at:
                child.restarts += 1
                child.start()
                logger.warning(
                    "%s restarted (pid %s)", child.name, child.process.pid,
                    extra={"child": child.name, "pid": child.process.pid, "restarts": child.restarts},
                )  # fmt: skip
                self.stdout.write(f"restarted {child.name} (pid {child.process.pid}, restart {child.restarts})")

    def _supervise(self) -> None:
        try:
            while not self._stopping:
                self._check_children()
                time.sleep(0.5)
        finally:
            self._stop_children()
        self.stdout.write("Platform stopped.")

    def _on_signal(self, signum, frame) -> None:
        self._stopping = True

    def _stop_children(self) -> None:
        self._stopping = True
        running = [(c.name, c.process) for c in self._children if c.process is not None]
        for _, process in running:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
