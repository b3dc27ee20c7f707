"""Thin Celery tasks of the Roblox integration (the sync tasks live in games/tasks.py)."""

from __future__ import annotations

import logging

from celery import shared_task

from integrations.backoff import retry_countdown

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5, ignore_result=True)
def publish_serving_change(self, game_ids: list[int], trailing: bool = False) -> None:
    """Tell these games' live servers (MessagingService) that the serving version changed; debounced per game.

    Games inside their debounce window get one trailing run at the window's end; games Roblox could not be
    reached for are retried (honouring ``Retry-After``); a refused key is logged and not retried.
    """
    from integrations import messaging

    outcome = messaging.serving_change_publish(game_ids=game_ids, trailing=trailing)
    if outcome.deferred:
        publish_serving_change.apply_async(
            args=[sorted(outcome.deferred)], kwargs={"trailing": True}, countdown=max(outcome.deferred.values())
        )
    if outcome.retry:
        raise self.retry(
            args=[outcome.retry],
            kwargs={"trailing": False},
            countdown=retry_countdown(self.request.retries, outcome.retry_after),
        )
