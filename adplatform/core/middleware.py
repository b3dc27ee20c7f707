"""Request id, security headers, the access log, and the game servers' fast lane."""

from __future__ import annotations

import logging
import re
import time
import uuid

from django.conf import settings

from adplatform.core.logging import request_id_var

access_logger = logging.getLogger("adplatform.access")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


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


# The middleware the game-server paths (``settings.GAME_SERVER_PATHS``) go through, in this order.
FAST_LANE_MIDDLEWARE = (
    "adplatform.core.middleware.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "adplatform.core.middleware.SecurityHeadersMiddleware",
    "adplatform.core.middleware.AccessLogMiddleware",
)


class GameServerFastLane:
    """First in ``MIDDLEWARE``: the game-server endpoints go through a short chain of their own.

    The one place that decides which requests skip middleware: a request whose path is one of
    ``settings.GAME_SERVER_PATHS`` (exact paths, authenticated by API key or score token, never by a cookie,
    answered in JSON, called hundreds of times a second per game) goes through :data:`FAST_LANE_MIDDLEWARE`
    only; every other request goes through the whole of ``MIDDLEWARE``, Django's own classes unchanged (so
    ``check --deploy`` sees the clickjacking, session and CSRF middlewares it looks for).

    Those endpoints need only the request id, the security headers and the access log: sessions, the user,
    messages and frame options serve browsers; django-prometheus's generic request metrics cost about
    0.15 ms a request and those endpoints count and time themselves (adplatform_decisions_total,
    adplatform_decision_seconds, adplatform_events_total, scoreboard_score_updates_total...); WhiteNoise
    serves only static paths; their views are CSRF-exempt (API keys and score tokens); and of
    CommonMiddleware only the host check and ``Content-Length`` apply to an exact path. Every layer cost its
    wrapper, and the URL resolver and the view middlewares ran on every request: about a fifth of a
    decision's or a score update's CPU in-process (measured).

    Each layer of the lane is wrapped as Django wraps it (an exception becomes its error response inside the
    chain, so the response still carries the request id, the headers and its log line), to the view its exact
    path resolves to (resolved once). The host is validated as CommonMiddleware validates it
    (``ALLOWED_HOSTS``: 400), a DRF response is rendered as Django renders it, and ``Content-Length`` is set
    as CommonMiddleware sets it. Django's handler around all this is unchanged: the request and response
    objects, the request signals (database connections) and the handling of a 500.
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
        self._paths = frozenset(settings.GAME_SERVER_PATHS)

    def _route(self, path: str):
        if self._routes is None:  # resolved once: the URL configuration does not change while serving
            from django.urls import resolve

            self._routes = {p: resolve(p) for p in self._paths}
        return self._routes[path]

    def __call__(self, request):
        if request.path_info in self._paths:
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
