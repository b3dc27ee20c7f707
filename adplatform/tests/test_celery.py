"""Celery wiring with a real worker on the test Redis."""

import time

from adplatform.core.redis import get_redis
from adplatform.core.tasks import HEARTBEAT_KEY, heartbeat


def test_heartbeat_task_records_time():
    value = heartbeat()
    assert abs(float(get_redis().get(HEARTBEAT_KEY)) - value) < 1e-3


def test_a_real_worker_runs_a_task_sent_through_the_broker(celery_worker_factory):
    worker = celery_worker_factory("solo").wait_ready()
    heartbeat.delay()
    deadline = time.monotonic() + 30
    while get_redis().get(HEARTBEAT_KEY) is None:
        worker.assert_alive()
        assert time.monotonic() < deadline, "the worker did not run the task in 30 s"
        time.sleep(0.1)
    assert "adplatform.core.tasks.heartbeat" in worker.output()
