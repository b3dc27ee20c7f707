"""Fault tests: ``runplatform`` restarts a child that dies instead of stopping the platform."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from adplatform.tests.private_servers import free_port

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_runplatform_restarts_a_killed_worker_and_keeps_serving():
    from conftest import _subprocess_env

    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="faults-runplatform-")
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
    platform = subprocess.Popen(
        [sys.executable, "manage.py", "runplatform", "--no-seed", "--port", str(port), "--concurrency", "1"],
        cwd=Path(__file__).resolve().parents[2], stdout=log, stderr=subprocess.STDOUT,
        env=_subprocess_env(ADPLATFORM_DATA_DIR=data_dir, LOG_LEVEL="INFO"),
    )  # fmt: skip

    def output() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")

    try:
        assert _wait_for(lambda: _ready(f"http://127.0.0.1:{port}/readyz"), 90), output()[-3000:]
        worker_pid = int(re.search(r"started worker \(pid (\d+)\)", output()).group(1))

        # when: the Celery worker is killed outright
        os.kill(worker_pid, signal.SIGKILL)
        killed = time.monotonic()

        # then: the supervisor logs it and starts a new worker within seconds; the web keeps serving
        assert _wait_for(lambda: "restarted worker (pid" in output(), 20), output()[-3000:]
        recovery = time.monotonic() - killed
        assert "worker exited with code -9; restarting it in 1 s" in output()
        assert platform.poll() is None, output()[-3000:]
        assert _ready(f"http://127.0.0.1:{port}/readyz")
        new_pid = int(re.search(r"restarted worker \(pid (\d+)", output()).group(1))
        assert new_pid != worker_pid
        os.kill(new_pid, 0)  # running
        print(f"RELIABILITY runplatform_worker_kill recovery_s={recovery:.1f}")
    finally:
        platform.send_signal(signal.SIGTERM)
        try:
            platform.wait(timeout=30)
        except subprocess.TimeoutExpired:
            platform.kill()
        log.close()
    assert platform.returncode == 0
