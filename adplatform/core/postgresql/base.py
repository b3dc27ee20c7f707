"""django-prometheus's PostgreSQL backend, with connection health checks that skip a connection just proven good.

``CONN_HEALTH_CHECKS`` sends ``SELECT 1`` before the first query of every request, so a connection the
database dropped while it sat idle is replaced instead of failing the request. Under load that check is
a round trip and about 0.25 ms of CPU on every hot-path request (a score update makes one statement of
its own), for a connection that finished a request cleanly a few milliseconds earlier.

As connection pools do (HikariCP's ``aliveBypassWindowMs``, 500 ms), a connection that ran a request's
queries without a database error less than ``DB_HEALTH_CHECK_SKIP_MS`` ago (500 ms unless configured;
0 turns the skip off) is used without the check. A connection idle for longer, one that saw an error,
and a new one are checked as Django checks them. What that costs: a database restart inside the window
fails the request that finds it, as a restart during a request would, and the connection is replaced
at the end of that request (Django closes a connection that saw an error and no longer answers).
"""

from __future__ import annotations

import time

from django.conf import settings
from django_prometheus.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    health_check_done: bool  # Django's, set by its health check; the stubs do not declare it
    proven_good_at: float | None = None  # monotonic time the connection last ran a request's queries cleanly

    @property
    def health_check_skip_seconds(self) -> float:
        return getattr(settings, "DB_HEALTH_CHECK_SKIP_MS", 500) / 1000

    def connect(self):
        self.proven_good_at = None
        super().connect()

    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and self.proven_good_at is not None
            and time.monotonic() - self.proven_good_at < self.health_check_skip_seconds
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close_if_unusable_or_obsolete(self):
        # Called when a request (or a Celery task) starts and when it ends. ``health_check_done`` is set
        # only once the connection was about to be used since the last call (Django resets it here), so
        # "used and no error" means it just ran this request's queries.
        used_cleanly = self.connection is not None and self.health_check_done and not self.errors_occurred
        super().close_if_unusable_or_obsolete()
        if used_cleanly and self.connection is not None:
            self.proven_good_at = time.monotonic()
