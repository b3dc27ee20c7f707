"""The caller's address, in one place (a trusted-proxy-aware version may replace this function's body)."""

from __future__ import annotations


def client_ip(request) -> str:
    """The address the request came from (``REMOTE_ADDR``); ``"unknown"`` when the server gave none."""
    return request.META.get("REMOTE_ADDR") or "unknown"
