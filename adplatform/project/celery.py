"""The Celery app: broker on Redis, tasks discovered in every app's ``tasks.py``."""

import logging
import os
import time

from celery import Celery
from celery.signals import setup_logging, task_failure, task_postrun, task_prerun

from adplatform.core import kombu_fix

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.project.settings")
kombu_fix.apply()  # the worker must survive a Redis outage (see the module)

app = Celery("adplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger("adplatform.core.tasks")
_started: dict[str, float] = {}


@setup_logging.connect
def _use_django_logging(**kwargs):
    """Workers log through Django's LOGGING (JSON on stdout) rather than Celery's own format."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@task_prerun.connect
def _task_started(task_id=None, task=None, **kwargs):
    _started[task_id] = time.monotonic()


@task_postrun.connect
def _task_finished(task_id=None, task=None, state=None, **kwargs):
    started = _started.pop(task_id, None)
    duration = time.monotonic() - started if started else 0.0
    from adplatform.core import metrics

    metrics.TASK_DURATION.labels(task=task.name, state=state or "UNKNOWN").observe(duration)
    logger.info(
        "task %s %s",
        task.name,
        state,
        extra={"task": task.name, "task_id": task_id, "state": state, "duration_ms": round(duration * 1000, 1)},
    )


@task_failure.connect
def _task_failed(task_id=None, exception=None, sender=None, **kwargs):
    from adplatform.core import metrics

    metrics.TASK_FAILURES.labels(task=sender.name if sender else "?").inc()
    logger.error("task failed: %r", exception, extra={"task_id": task_id})
