"""Telling live game servers that what they may serve changed, through Open Cloud MessagingService.

A game whose owner stored an Open Cloud API key gets ``{"type": "serving_changed", "version": N}`` on the
``adplatform`` topic whenever the serving version is bumped for it (its containers, or any campaign). Servers
subscribed to the topic refresh at once instead of waiting for their timer.

Publishing is debounced per game in Redis: at most one message every ``DEBOUNCE_SECONDS``. A change that
arrives inside the window is not dropped: one trailing publish is scheduled for the end of the window and
sends the version current at that time.

The key is read from the database by the publisher only; it is never a task argument, never in a log line.

:func:`on_serving_version_bumped` listens to :data:`adplatform.core.serving.serving_version_bumped` (connected by
:class:`games.apps.GamesConfig`), so the serving version knows nothing of its listeners.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from adplatform.core.redis import get_redis
from adplatform.core.serving import serving_version
from games import jobs
from games.models import Game
from integrations.roblox._util import chunks
from integrations.roblox.errors import RobloxError, RobloxUnavailable
from integrations.services import roblox_publish_message

logger = logging.getLogger(__name__)

TOPIC = "adplatform"
MESSAGE_TYPE = "serving_changed"
DEBOUNCE_SECONDS = 10
# A trailing publish is scheduled once per window; the marker outlives the window so that a lost task
# only delays the next publish until the marker expires.
PENDING_TTL_SECONDS = DEBOUNCE_SECONDS + 60
GAMES_PER_TASK = 50


def sent_key(game_id: int) -> str:
    return f"opencloud:serving:sent:{game_id}"


def pending_key(game_id: int) -> str:
    return f"opencloud:serving:pending:{game_id}"


def _games_with_key(game_ids: list[int] | None):
    games = Game.objects.exclude(open_cloud_api_key="").exclude(roblox_universe_id=None)
    if game_ids is not None:
        games = games.filter(pk__in=game_ids)
    return games


def serving_change_enqueue(*, game_ids: list[int] | None = None) -> list[int]:
    """Queue a MessagingService publish for those of ``game_ids`` (every game when None) that have a key.

    Runs after the bump's transaction committed (:func:`on_serving_version_bumped`). Returns the ids queued;
    nothing is queued (and no task runs) when no game has a key.
    """
    ids = list(_games_with_key(game_ids).order_by("pk").values_list("pk", flat=True))
    publish = jobs.task(jobs.PUBLISH_SERVING_CHANGE)
    for chunk in chunks(ids, GAMES_PER_TASK):
        publish.delay(chunk)
    return ids


def on_serving_version_bumped(*, game_ids: list[int] | None, **kwargs) -> None:
    """The serving version changed: queue the publish for the games concerned (every keyed game when None)."""
    serving_change_enqueue(game_ids=game_ids)


@dataclass
class PublishOutcome:
    """What :func:`serving_change_publish` did, by game id."""

    published: list[int] = field(default_factory=list)
    deferred: dict[int, float] = field(default_factory=dict)  # game -> seconds until its window closes
    already_scheduled: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)  # key refused or other final error: not retried
    retry: list[int] = field(default_factory=list)  # Roblox unavailable: try again
    retry_after: float | None = None

    def counts(self) -> dict[str, int]:
        return {
            "published": len(self.published),
            "deferred": len(self.deferred),
            "already_scheduled": len(self.already_scheduled),
            "refused": len(self.refused),
            "retry": len(self.retry),
        }


def serving_change_publish(*, game_ids: list[int], trailing: bool = False) -> PublishOutcome:
    """Publish the current serving version to each game's live servers, at most once per window per game.

    A game inside its window is *deferred* (the caller schedules a trailing run for it) unless a trailing run
    is already scheduled. ``trailing=True`` marks that run: it clears the game's marker first so that it
    either publishes or schedules itself again, and never drops the change.
    """
    redis_client = get_redis()
    outcome = PublishOutcome()
    version: int | None = None
    for game in _games_with_key(list(game_ids)).only("pk", "roblox_universe_id", "open_cloud_api_key"):
        if trailing:
            redis_client.delete(pending_key(game.pk))
        if not redis_client.set(sent_key(game.pk), 1, nx=True, ex=DEBOUNCE_SECONDS):
            if redis_client.set(pending_key(game.pk), 1, nx=True, ex=PENDING_TTL_SECONDS):
                ttl_ms = redis_client.pttl(sent_key(game.pk))
                outcome.deferred[game.pk] = max(ttl_ms, 0) / 1000 if ttl_ms and ttl_ms > 0 else DEBOUNCE_SECONDS
            else:
                outcome.already_scheduled.append(game.pk)
            continue
        if version is None:
            version = serving_version()
        try:
            roblox_publish_message(
                universe_id=game.roblox_universe_id,
                api_key=game.open_cloud_api_key,
                topic=TOPIC,
                message={"type": MESSAGE_TYPE, "version": version},
            )
        except RobloxUnavailable as exc:
            # Free the window so that the retry may publish at once.
            redis_client.delete(sent_key(game.pk))
            outcome.retry.append(game.pk)
            if exc.retry_after is not None:
                outcome.retry_after = max(outcome.retry_after or 0.0, exc.retry_after)
            logger.warning(
                "serving change not published: roblox unavailable",
                extra={"game_id": game.pk, "status": exc.status, "error": type(exc).__name__},
            )
        except RobloxError as exc:
            outcome.refused.append(game.pk)
            logger.warning(
                "serving change not published: refused by roblox",
                extra={"game_id": game.pk, "status": exc.status, "code": exc.code, "error": type(exc).__name__},
            )
        else:
            outcome.published.append(game.pk)
    logger.info(
        "serving change publish done",
        extra={"serving_version": version, "trailing": trailing, **outcome.counts()},
    )
    return outcome
