"""Thin Celery tasks of the Roblox integration."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from integrations import services


@shared_task(ignore_result=True)
def roblox_refresh(kind: str, params: dict[str, Any]) -> None:
    """Ask Roblox what a web request of the data API found missing from the cache, and cache it.

    Not retried by Celery: the HTTP client already retried as Roblox allowed, the failure is recorded for the
    waiting requests, and the next request after it expires queues a new refresh.
    """
    services.roblox_refresh(kind=kind, params=params)
