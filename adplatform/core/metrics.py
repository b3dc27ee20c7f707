"""Business metrics shared across apps (each app adds its own next to its code)."""

from prometheus_client import Counter, Histogram

TASK_DURATION = Histogram(
    "adplatform_celery_task_duration_seconds",
    "Duration of Celery tasks by task and final state.",
    ["task", "state"],
)
TASK_FAILURES = Counter("adplatform_celery_task_failures_total", "Celery tasks that raised.", ["task"])
