"""A fix around kombu 5.7.0's Redis transport crashing the Celery worker when Redis goes away.

When the broker connection is lost, Celery closes the connection and its channels. The channel's close
requeues the messages the worker had received but not acknowledged (``QoS.restore_unacked_once``), and for
that it makes a new connection pool from ``Channel._connparams``, which reads the address from
``self.connection.client``. By then kombu has already cleared that (``Connection._do_close_transport`` sets
``transport.client = None``), so ``_connparams`` raises ``AttributeError: 'NoneType' object has no attribute
'hostname'``. An AttributeError is no connection error to Celery: the consumer's blueprint stops and the
worker exits ("Unrecoverable error"), and nothing drains, bills or rolls up until someone restarts it.

kombu 5.7.0 is the newest release, so the fix is here: each Redis channel keeps the connection info it was
opened with, and ``_connparams`` uses it when the transport's own is gone. The requeue then either works, or
fails with a real connection error (Redis is down), which Celery handles by reconnecting; messages it could
not requeue stay in kombu's unacked index and come back after the visibility timeout, as kombu designs.
"""

from __future__ import annotations

import threading

_applied = False
_lock = threading.Lock()


def apply() -> None:
    """Patch ``kombu.transport.redis.Channel`` once per process (idempotent)."""
    global _applied
    with _lock:
        if _applied:
            return
        from kombu.transport import redis as kombu_redis

        channel_class = kombu_redis.Channel
        original_init = channel_class.__init__
        original_connparams = channel_class._connparams  # type: ignore[attr-defined]  # private: not in celery-types

        def __init__(self, *args, **kwargs):
            connection = args[0] if args else kwargs.get("connection")
            # Set before the original __init__: it already opens a pool (and pings) through _connparams.
            self._adplatform_conninfo = getattr(connection, "client", None)
            original_init(self, *args, **kwargs)

        def _connparams(self, asynchronous=False):
            transport = self.connection
            kept = getattr(self, "_adplatform_conninfo", None)
            if transport is not None and transport.client is None and kept is not None:
                transport.client = kept
                try:
                    return original_connparams(self, asynchronous=asynchronous)
                finally:
                    transport.client = None
            return original_connparams(self, asynchronous=asynchronous)

        channel_class.__init__ = __init__  # type: ignore[method-assign]  # the patch itself
        channel_class._connparams = _connparams  # type: ignore[attr-defined]  # private: not in celery-types
        _applied = True
