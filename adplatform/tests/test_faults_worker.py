"""Fault tests: the Celery worker survives its broker (Redis) going away and coming back empty.

Everything runs on a private ``redis-server`` (own port, own temp folder), never the machine's Redis.
"""

from __future__ import annotations

import time

import pytest
import redis
from kombu import Connection

from adplatform.core.tasks import HEARTBEAT_KEY, heartbeat
from adplatform.tests.private_servers import PrivateRedis

pytestmark = pytest.mark.fault


@pytest.fixture
def private_redis():
    server = PrivateRedis().start()
    yield server
    server.close()


def test_a_redis_channel_still_requeues_after_its_transport_lost_the_connection_info(private_redis):
    """kombu 5.7.0's crash (``'NoneType' object has no attribute 'hostname'`` in ``_connparams`` from
    ``restore_unacked``): the channel makes a new pool after ``Connection`` cleared ``transport.client``."""
    import adplatform.project.celery  # noqa: F401 - applies adplatform.core.kombu_fix

    connection = Connection(private_redis.url())
    queue = connection.SimpleQueue("faults-requeue")
    queue.put({"n": 1})
    queue.get(timeout=5)  # received, not acknowledged
    channel = queue.channel
    assert len(channel.qos._delivered) == 1

    # when: the connection is closed under the channel (what happens when the broker connection is lost)
    channel._disconnect_pools()
    connection._do_close_transport()
    assert channel.connection.client is None
    channel.qos.restore_unacked()  # raised AttributeError without the fix, and the worker exited

    # then: the message is back in its queue
    with Connection(private_redis.url()) as again:
        assert again.SimpleQueue("faults-requeue").get(timeout=5).payload == {"n": 1}


def _send_heartbeat(url: str) -> None:
    with Connection(url) as connection:
        heartbeat.apply_async(connection=connection, retry=False)  # type: ignore[call-arg]  # not in celery-types


def test_the_worker_resumes_within_seconds_after_redis_is_stopped_and_restarted_empty(
    private_redis, celery_worker_factory, settings
):
    # given: a prefork worker (the README's deployment: its default pool, gossip and mingle) on the private Redis
    url = f"redis://127.0.0.1:{private_redis.port}/{settings.TEST_REDIS_DB}"
    client = redis.Redis.from_url(url, socket_timeout=2)
    worker = celery_worker_factory("outage", env={"REDIS_URL": url}, pool="prefork")
    worker.wait_ready()
    with Connection(url) as connection:  # tasks in flight when Redis goes: some received, not yet acknowledged
        for _ in range(200):
            heartbeat.apply_async(connection=connection, retry=False)
    assert _wait(lambda: client.get(HEARTBEAT_KEY) is not None, 60), worker.output()[-3000:]

    # when: Redis stops for a few seconds under the worker, then comes back empty
    private_redis.stop()
    time.sleep(4)
    worker.assert_alive()
    private_redis.wipe()
    private_redis.start()
    back = time.monotonic()

    # then: the worker is still there and runs a task sent to the fresh Redis within seconds
    assert client.get(HEARTBEAT_KEY) is None  # empty: what the worker writes next is new
    sent = _wait_sending(url, client, 60)
    recovery = time.monotonic() - back
    worker.assert_alive()
    assert sent, worker.output()[-4000:]
    assert "Unrecoverable error" not in worker.output()
    assert "Connection to broker lost" in worker.output()
    print(f"RELIABILITY worker_redis_outage recovery_s={recovery:.1f}")
    assert recovery < 60


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except redis.ConnectionError:
            pass
        time.sleep(0.1)
    return False


def _wait_sending(url: str, client: redis.Redis, timeout: float) -> bool:
    """Send a heartbeat every half second until the worker has run one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _send_heartbeat(url)
        if _wait(lambda: client.get(HEARTBEAT_KEY) is not None, 0.5):
            return True
    return False
