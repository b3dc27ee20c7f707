"""A quiet, honest start (issue 20): `seed_demo --json` writes only JSON; `make run` is quiet, honours PORT in every
process (the simulator too) and ends with a banner of URLs, accounts and keys."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import _subprocess_env
from scoreboard.models import ScoreHistory, ScoreSource

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def _env(**extra: str) -> dict[str, str]:
    env = _subprocess_env(ADPLATFORM_IGNORE_DOTENV="1", ADPLATFORM_DATA_DIR=tempfile.mkdtemp(), **extra)
    for name in ("LOG_LEVEL", "ACCESS_LOG_LEVEL", "PORT", "HOST"):
        if name not in extra:
            env.pop(name, None)
    return env


def test_seed_demo_json_writes_only_json_to_stdout_even_with_info_logs():
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--json"],
        cwd=ROOT, env=_env(LOG_LEVEL="INFO"), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # the whole of stdout is one JSON object
    assert data["game_slug"] and data["owner_token"].startswith("adp_")
    # the seeders' log lines still exist: on stderr
    assert '"level": "INFO"' in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _banner_done(text: str) -> bool:
    return "Logs: warnings" in text and "=" * 78 in text.split("Logs: warnings", 1)[1]


def test_make_run_is_quiet_honours_port_everywhere_and_ends_with_the_banner():
    # given: the platform started as `make run` starts it, on a port given only as PORT
    port = _free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - read while the platform runs, closed at the end
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runplatform", "--concurrency", "1",
         "--extra", "simulate_game --duration 0 --servers 1 --players 4 --rate 3 --verbosity 0"],
        cwd=ROOT, env=_env(PORT=str(port)), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip

    def output() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")

    try:
        deadline = time.monotonic() + 150
        while not _banner_done(output()) and time.monotonic() < deadline:
            assert process.poll() is None, output()
            time.sleep(0.5)
        # when: the simulator it started plays for a while
        scored = False
        while time.monotonic() < deadline and not scored:
            scored = ScoreHistory.objects.filter(source=ScoreSource.GAME_SERVER).exists()
            time.sleep(1)
        text = output()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        code = process.wait(timeout=60)
    final = output()
    log.close()

    # then: the banner says where everything is, on the given port, with the accounts and keys
    assert f"The platform is running at http://127.0.0.1:{port}/" in text, text
    banner = text[text.index("The platform is running at") :]
    assert f"http://127.0.0.1:{port}/leaderboards/demo-obby/" in banner
    assert "demo-owner" in banner and "demo-password" in banner and "adp_" in banner and "gk_" in banner
    # the simulator found the web process on that port by itself, and its credited scores prove it
    assert scored, text
    # nothing after the banner buries it: no access lines, no per-task lines, no INFO at all
    after = banner.split("=" * 78, 1)[1]
    assert '"adplatform.access"' not in text and '"level": "INFO"' not in text, after[:3000]
    assert "simulator request failed" not in text
    assert code == 0, final[-3000:]
    assert "Platform stopped." in final


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [(None, None, "http://127.0.0.1:8000"), ("0.0.0.0", "9001", "http://127.0.0.1:9001"),  # noqa: S104
     ("::1", "9002", "http://[::1]:9002"), ("10.0.0.5", "80", "http://10.0.0.5:80")],
)  # fmt: skip
def test_the_simulator_calls_where_runplatform_serves(monkeypatch, host, port, url):
    from adplatform.tools.management.commands.simulate_game import _default_base_url

    for name, value in (("HOST", host), ("PORT", port)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert _default_base_url() == url
