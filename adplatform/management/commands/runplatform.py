"""Start the whole platform in one terminal: web + websockets, Celery worker and beat.

Migrates, seeds the demo data, then supervises its children. Ctrl-C (or
SIGTERM) stops the children, then the embedded PostgreSQL and Redis, if this
process started them. If a child dies, everything stops with an error, so a
half-running platform is never mistaken for a working one.
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
from django.core.management.base import BaseCommand, CommandError

from adplatform import embedded
from adplatform.management.commands.seed_demo import banner
from adplatform.management.commands.seed_demo import seed as seed_demo


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
        self._children: list[tuple[str, subprocess.Popen]] = []
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
                python, "-m", "uvicorn", "adplatform.asgi:application",
                "--host", host, "--port", str(port), "--lifespan", "off", "--no-access-log",
                "--log-level", "warning", "--ws", "websockets-sansio",
            ],
            env,
        )  # fmt: skip
        self._spawn(
            "worker",
            [
                python, "-m", "celery", "--quiet", "-A", "adplatform", "worker", "--loglevel", log_level,
                "--concurrency", str(options["concurrency"]), "--without-gossip", "--without-mingle",
                "--hostname", f"worker-{os.getpid()}@%h",
            ],
            env,
        )  # fmt: skip
        self._spawn(
            "beat",
            [
                python, "-m", "celery", "--quiet", "-A", "adplatform", "beat", "--loglevel", log_level,
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
        process = subprocess.Popen(argv, env=env, cwd=settings.BASE_DIR, start_new_session=True)
        self._children.append((name if required else f"~{name}", process))
        self.stdout.write(f"started {name} (pid {process.pid})")

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
        for name, process in self._children:
            code = process.poll()
            if code is not None and not name.startswith("~") and not self._stopping:
                self._stop_children()
                raise CommandError(f"{name} exited with code {code}; stopped the platform.")

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
        for _, process in self._children:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, process in self._children:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
