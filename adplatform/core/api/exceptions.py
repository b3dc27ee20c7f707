"""One exception handler that renders every API error in the format of shared/API.md."""

from __future__ import annotations

import logging
from typing import Any

import redis
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

from adplatform.core.api.errors import DomainError, error_body

logger = logging.getLogger(__name__)

_CODE_BY_CLASS: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.ValidationError, "validation_error"),
    (exceptions.ParseError, "malformed_json"),
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "authentication_failed"),
    (exceptions.PermissionDenied, "permission_denied"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.Throttled, "rate_limited"),
]


def _field_details(detail: Any) -> dict[str, Any]:
    """DRF validation detail as ``{"field": ["message"]}``."""
    if isinstance(detail, dict):
        return {
            str(k): (_field_details(v) if isinstance(v, dict) else [str(m) for m in _as_list(v)])
            for k, v in detail.items()
        }
    return {"non_field_errors": [str(m) for m in _as_list(detail)]}


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        flat: list[Any] = []
        for item in value:
            flat.extend(_as_list(item) if isinstance(item, list | dict) else [item])
        return flat
    if isinstance(value, dict):
        return [f"{k}: {m}" for k, v in value.items() for m in _as_list(v)]
    return [value]


def _api_exception_code(exc: exceptions.APIException) -> str:
    # An explicit code given by our own authentication classes wins.
    codes = exc.get_codes()
    if isinstance(codes, str) and codes not in {"invalid", "error", exc.default_code}:
        return codes
    for cls, code in _CODE_BY_CLASS:
        if isinstance(exc, cls):
            return code
    return str(exc.default_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's ``EXCEPTION_HANDLER``: every error, expected or not, in one body format."""
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status, headers=exc.headers)
    if isinstance(exc, DjangoValidationError):
        # A service's rule failed: the same 400 a serializer would give.
        details = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(error_body("validation_error", "Invalid input.", details), status=400)
    if isinstance(exc, RequestDataTooBig):  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE, raised when the body is read
        return Response(error_body("payload_too_large", "The request body is too large."), status=413)
    if isinstance(exc, DatabaseOperationalError | DatabaseInterfaceError | redis.ConnectionError | redis.TimeoutError):
        logger.warning("data store unavailable in API view: %s", type(exc).__name__)  # PostgreSQL or Redis away
        return Response(
            error_body("service_unavailable", "A data store is unavailable; retry shortly."), status=503,
            headers={"Retry-After": "2"},
        )  # fmt: skip
    if isinstance(exc, RecursionError):  # the JSON parser on a body nested thousands deep
        return Response(error_body("malformed_json", "The JSON is nested too deeply."), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.APIException):
        if isinstance(exc, exceptions.ValidationError):
            details = _field_details(exc.detail)
            message = "Invalid input."
        else:
            details = {}
            message = str(exc.detail)
        auth_header, wait = getattr(exc, "auth_header", None), getattr(exc, "wait", None)  # some subclasses' only
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        if wait is not None:
            headers["Retry-After"] = str(max(1, int(wait + 0.999)))
        return Response(error_body(_api_exception_code(exc), message, details), status=exc.status_code, headers=headers)

    view = context.get("view")
    logger.exception("unhandled error in API view %s", type(view).__name__ if view else "?")
    return Response(error_body("internal_error", "Internal server error."), status=500)


def json_error_response(code: str, message: str, status: int) -> JsonResponse:
    """The same body for errors raised outside DRF (URL resolution, middleware)."""
    return JsonResponse(error_body(code, message), status=status)
