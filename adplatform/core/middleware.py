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

from adplatform.core.logging import request_id_var

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

    # Django's handler calls these hooks itself, not through __call__: they are skipped the same way.
    if hasattr(base, "process_view"):

        def process_view(self, request, view_func, view_args, view_kwargs):
            if GAME_SERVER_PATHS.match(request.path_info):
                return None
            return super(NotOnGameServerPaths, self).process_view(request, view_func, view_args, view_kwargs)

        NotOnGameServerPaths.process_view = process_view
    if hasattr(base, "process_exception"):

        def process_exception(self, request, exception):
            if GAME_SERVER_PATHS.match(request.path_info):
                return None
            return super(NotOnGameServerPaths, self).process_exception(request, exception)

        NotOnGameServerPaths.process_exception = process_exception

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


def _declared_too_big(request) -> bool:
    """An API request whose ``Content-Length`` is over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (a body sent without one is
    checked as it is read: ``RequestDataTooBig``, which the API's exception handler answers the same way)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None or not request.path_info.startswith("/api/"):
        return False
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > limit
    except ValueError:
        return False


class RequestIDMiddleware:
    """Take ``X-Request-ID`` from the caller when it is sane, else make one; echo it back.

    First in both chains (the full one and the game servers' fast lane), it also refuses an API body declared
    larger than the limit with ``413 payload_too_large`` before anything reads it, on every API route, whether
    or not its view reads the body.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            if _declared_too_big(request):
                from adplatform.core.api.exceptions import json_error_response

                response = json_error_response("payload_too_large", "The request body is too large.", 413)
            else:
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


# The three endpoints every game server calls many times a second, and the middleware they go through.
FAST_LANE_PATHS = ("/api/v1/decisions", "/api/v1/events", "/api/v1/scores/update")
FAST_LANE_MIDDLEWARE = (
    "adplatform.core.middleware.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "adplatform.core.middleware.SecurityHeadersMiddleware",
    "adplatform.core.middleware.AccessLogMiddleware",
)


class GameServerFastLane:
    """First in ``MIDDLEWARE``: the hot game-server endpoints go through a short chain of their own.

    Of the full chain, those endpoints need only the request id, the security headers and the access log:
    the session, user, message, frame-options and django-prometheus middlewares already step aside for
    them (above), WhiteNoise serves only static paths, their views are CSRF-exempt (API keys and score
    tokens, never cookies), and of CommonMiddleware only the host check and ``Content-Length`` apply to
    an exact path. Yet every layer still cost its wrapper, and the URL resolver and the view middlewares
    ran on every request: about a fifth of a decision's or a score update's CPU in-process (measured).

    Here such a request goes through :data:`FAST_LANE_MIDDLEWARE` only, each layer wrapped as Django wraps
    it (an exception becomes its error response inside the chain, so the response still carries the
    request id, the headers and its log line), to the view its exact path resolves to. The host is
    validated as CommonMiddleware validates it (``ALLOWED_HOSTS``: 400), a DRF response is rendered as
    Django renders it, and ``Content-Length`` is set as CommonMiddleware sets it. Django's handler around
    all this is unchanged: the request and response objects, the request signals (database connections)
    and the handling of a 500.
    """

    def __init__(self, get_response):
        from django.core.handlers.exception import convert_exception_to_response
        from django.utils.module_loading import import_string

        self.get_response = get_response
        self._routes: dict | None = None
        chain = convert_exception_to_response(self._dispatch)
        for path in reversed(FAST_LANE_MIDDLEWARE):
            chain = convert_exception_to_response(import_string(path)(chain))
        self._fast = chain

    def _route(self, path: str):
        if self._routes is None:  # resolved once: the URL configuration does not change while serving
            from django.urls import resolve

            self._routes = {p: resolve(p) for p in FAST_LANE_PATHS}
        return self._routes[path]

    def __call__(self, request):
        if request.path_info in FAST_LANE_PATHS:
            return self._fast(request)
        return self.get_response(request)

    def _dispatch(self, request):
        request.get_host()  # DisallowedHost (400) for a host outside ALLOWED_HOSTS, as CommonMiddleware checks
        match = request.resolver_match = self._route(request.path_info)
        response = match.func(request, *match.args, **match.kwargs)  # the API version is a URL argument
        if hasattr(response, "render") and callable(response.render):
            response = response.render()  # DRF's responses (what the lean paths decline), as Django renders them
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))  # as CommonMiddleware sets it
        return response
