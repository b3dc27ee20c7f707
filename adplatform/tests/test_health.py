import pytest
from django.conf import settings
from django.urls import reverse

from adplatform.core.redis import reset_redis_client


@pytest.mark.django_db
def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_ok_when_database_and_redis_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_readyz_503_names_redis_when_it_is_unreachable(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    reset_redis_client()

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["redis"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("error")
    assert body["error"]["code"] == "service_unavailable"
    assert "redis" in body["error"]["message"]


@pytest.mark.django_db
def test_metrics_are_exported(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert "django_http_requests_total_by_method_total" in text


@pytest.mark.django_db
def test_pages_carry_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_game_server_paths_skip_the_browser_middleware_and_keep_the_rest(client):
    """Sessions, the user, messages and frame options are for pages; the game-server API keeps the
    request id, the security headers, the metrics and the access log."""
    assert "/api/v1/decisions" in settings.GAME_SERVER_PATHS
    assert "/api/v1/events" in settings.GAME_SERVER_PATHS
    assert "/api/v1/scores/update" in settings.GAME_SERVER_PATHS
    assert "/api/v1/manage/campaigns/" not in settings.GAME_SERVER_PATHS

    api = client.post("/api/v1/decisions", {}, content_type="application/json")
    assert api.status_code == 401
    assert "X-Frame-Options" not in api
    assert api["X-Request-ID"] and api["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in api

    page = client.get(reverse("accounts:login"))
    assert page["X-Frame-Options"] == "DENY"
    assert "csrftoken" in page.cookies
