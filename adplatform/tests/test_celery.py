"""Celery wiring with a real worker on the test Redis."""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from adplatform.redis import get_redis
from adplatform.tasks import HEARTBEAT_KEY, heartbeat

ROOT = Path(__file__).resolve().parents[2]


def test_heartbeat_task_records_time():
    value = heartbeat()
    assert abs(float(get_redis().get(HEARTBEAT_KEY)) - value) < 1e-3


def test_a_real_worker_runs_a_task_sent_through_the_broker():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "adplatform.settings_test",
        "DATABASE_URL": settings.DATABASE_URL,
        "REDIS_URL": settings.REDIS_URL,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "adplatform",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        heartbeat.delay()
        deadline = time.monotonic() + 30
        while get_redis().get(HEARTBEAT_KEY) is None:
            assert worker.poll() is None, worker.stderr.read().decode()
            assert time.monotonic() < deadline, "the worker did not run the task in 30 s"
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
