"""Platform-wide periodic jobs."""

import logging
import time

from celery import shared_task

from adplatform.core.redis import get_redis

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "platform:heartbeat"


@shared_task(ignore_result=True)
def heartbeat() -> float:
    """Beat -> worker round trip: records when the last scheduled job ran, shown by /readyz."""
    now = time.time()
    get_redis().set(HEARTBEAT_KEY, now, ex=600)
    logger.info("heartbeat recorded")
    return now
