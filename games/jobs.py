"""The games app's Celery tasks, as the services and the publisher queue them.

Looked up by name in the Celery app's registry rather than imported: the tasks call the services (through
:mod:`games.sync` and :mod:`games.messaging`), so an import the other way would close an import circle (Zulip
queues its deferred work by queue name for the same reason). :class:`games.apps.GamesConfig` imports
:mod:`games.tasks` at start-up, so every name here is registered in each process.
"""

from __future__ import annotations

from celery import Task, current_app

GAME_SYNC = "games.tasks.game_sync"
ASSET_SYNC = "games.tasks.asset_sync"
PUBLISH_SERVING_CHANGE = "games.tasks.publish_serving_change"


def task(name: str) -> Task:
    """The registered task called ``name`` (one of the constants above)."""
    return current_app.tasks[name]
