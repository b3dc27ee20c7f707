"""Request id, security headers and the access log."""

from __future__ import annotations

import logging
import re
import time
import uuid

from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as sessions_middleware
from django.middleware import clickjacking
from django_prometheus import middleware as prometheus_middleware

from adplatform.logging import request_id_var

access_logger = logging.getLogger("adplatform.access")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

# The game-server hot paths: authenticated by API key or score token only, never by a cookie,
# answered in JSON, called hundreds of times a second per game.
GAME_SERVER_PATHS = re.compile(r"^/api/v\d+/(?:decisions|events|scores/)")


def _not_on_game_server_paths(base: type, why: str) -> type:
    """``base``, except on the game-server paths, where it would only cost time (``why``).

    A subclass, so Django's checks (the admin needs the session, auth and message middlewares) still
    find them.
    """

    class NotOnGameServerPaths(base):
        def __call__(self, request):
            if GAME_SERVER_PATHS.match(request.path_info):
                return self.get_response(request)
            return super().__call__(request)

    NotOnGameServerPaths.__name__ = NotOnGameServerPaths.__qualname__ = base.__name__
    NotOnGameServerPaths.__doc__ = f"{base.__module__}.{base.__name__}, skipped on the game-server API paths: {why}"
    return NotOnGameServerPaths


# Sessions, the user, messages and frame options serve browsers; a game server sends no cookie and
# renders no page.
_BROWSERS_ONLY = "they serve browsers, and a game server sends no cookie and renders no page."
SessionMiddleware = _not_on_game_server_paths(sessions_middleware.SessionMiddleware, _BROWSERS_ONLY)
AuthenticationMiddleware = _not_on_game_server_paths(auth_middleware.AuthenticationMiddleware, _BROWSERS_ONLY)
MessageMiddleware = _not_on_game_server_paths(messages_middleware.MessageMiddleware, _BROWSERS_ONLY)
XFrameOptionsMiddleware = _not_on_game_server_paths(clickjacking.XFrameOptionsMiddleware, _BROWSERS_ONLY)

# django-prometheus's generic request metrics cost about 0.15 ms a request (ten labelled series). The
# game-server endpoints count and time themselves (adplatform_decisions_total, adplatform_decision_seconds,
# adplatform_events_total, adplatform_event_batch_size, scoreboard_score_updates_total and
# scoreboard_score_update_seconds), and the access log has every request's status and duration.
_OWN_METRICS = "those endpoints keep their own metrics."
PrometheusBeforeMiddleware = _not_on_game_server_paths(prometheus_middleware.PrometheusBeforeMiddleware, _OWN_METRICS)
PrometheusAfterMiddleware = _not_on_game_server_paths(prometheus_middleware.PrometheusAfterMiddleware, _OWN_METRICS)


def current_request_id() -> str | None:
    return request_id_var.get()


class RequestIDMiddleware:
    """Take ``X-Request-ID`` from the caller when it is sane, else make one; echo it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        return response


class AccessLogMiddleware:
    """One structured line per request: never the query string or headers (they may hold secrets)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        if request.path not in ("/healthz", "/metrics"):
            user = getattr(request, "user", None)
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": getattr(user, "pk", None) if user is not None else None,
                },
            )
        return response
