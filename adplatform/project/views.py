from __future__ import annotations

import time

import redis
from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from adplatform.core.api.exceptions import json_error_response
from adplatform.core.redis import get_redis
from adplatform.core.tasks import HEARTBEAT_KEY


def home(request):
    return render(request, "home.html")


@never_cache
@require_GET
def healthz(request):
    """The process is up (for the load balancer's liveness check)."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_redis() -> str:
    get_redis().ping()
    return "ok"


@never_cache
@require_GET
def readyz(request):
    """Ready to serve: the database and Redis answer. 503 names the part that failed."""
    checks: dict[str, str] = {}
    failed: list[str] = []
    for name, check in (("database", _check_database), ("redis", _check_redis)):
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks[name] = f"error: {type(exc).__name__}"
            failed.append(name)
    body: dict = {"status": "ok" if not failed else "unavailable", "checks": checks}
    if "redis" not in failed:
        try:
            beat = get_redis().get(HEARTBEAT_KEY)
            body["last_scheduled_job_seconds_ago"] = round(time.time() - float(beat), 1) if beat else None
        except redis.RedisError:
            pass
    if failed:
        body["failed"] = failed
        body["error"] = {
            "code": "service_unavailable",
            "message": f"Not ready: {', '.join(failed)} unavailable.",
            "details": {name: [checks[name]] for name in failed},
        }
    return JsonResponse(body, status=503 if failed else 200)


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    if _wants_json(request):
        return json_error_response("not_found", "Not found.", 404)
    return render(request, "errors/404.html", status=404)


def handler500(request):
    if _wants_json(request):
        return json_error_response("internal_error", "Internal server error.", 500)
    # No request context: the database may be what failed, and the session lookup would fail again.
    return HttpResponseServerError(loader.render_to_string("errors/500.html"))


def handler403(request, exception=None):
    if _wants_json(request):
        return json_error_response("permission_denied", "You may not do this.", 403)
    return render(request, "errors/403.html", status=403)


def handler400(request, exception=None):
    if _wants_json(request):
        return json_error_response("validation_error", "Bad request.", 400)
    return render(request, "errors/400.html", status=400)


def csrf_failure(request, reason=""):
    if _wants_json(request):
        return json_error_response("csrf_failed", "CSRF verification failed.", 403)
    return render(request, "errors/403_csrf.html", status=403)
