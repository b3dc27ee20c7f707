"""A lean path for the game servers' hot endpoints (decisions, score updates).

DRF's request wrapper, content negotiation and renderer cost about as much as a decision. A view
built with :func:`with_lean_path` answers the requests its ``lean`` function takes with plain
Django responses, in the same JSON and with the same error bodies (through the API's one
exception handler); whatever ``lean`` declines (returns None) goes through DRF's dispatch. The
APIView class stays the documented one: the schema generator reads it as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import redis
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from adplatform.core.api.exceptions import exception_handler

_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode  # as DRF's JSONRenderer writes


def json_response(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(_compact(data), status=status, content_type="application/json")


def error_response(exc: Exception, request: HttpRequest) -> HttpResponse:
    """``exc`` as the API's error response, exactly as DRF's dispatch would render it."""
    response = exception_handler(exc, {"request": request, "view": None})
    answer = json_response(response.data, response.status_code)
    for name, value in response.items():
        if name.lower() != "content-type":
            answer[name] = value
    return answer


def with_lean_path(drf_view: Callable, lean: Callable[[HttpRequest], HttpResponse | None]) -> Callable:
    """``drf_view`` (an ``APIView.as_view()``) with ``lean`` answering first."""

    def view(request, *args, **kwargs):
        try:
            answer = lean(request)
        except (DatabaseError, redis.RedisError) as exc:  # a store down: 503 in the API's body, as DRF would answer
            return error_response(exc, request)
        return answer or drf_view(request, *args, **kwargs)

    exempt: Any = csrf_exempt(view)  # API keys and score tokens, never cookies: as DRF's own views
    source: Any = drf_view  # as_view() sets these attributes on the function it returns
    exempt.cls, exempt.initkwargs = source.cls, source.initkwargs  # what the schema generator looks for
    exempt.view_class, exempt.view_initkwargs = source.view_class, source.view_initkwargs
    return exempt
