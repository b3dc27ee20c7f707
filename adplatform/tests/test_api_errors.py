"""Every error under /api/ has the body of shared/API.md, whatever raised it."""

from __future__ import annotations

import pytest
from django.urls import include, path
from rest_framework.views import APIView

from adplatform.core.api.errors import ERROR_CODES


class Boom(APIView):
    permission_classes = []
    authentication_classes = []

    def get(self, request, version=None):
        raise RuntimeError("kaboom with token=supersecretvalue")


urlpatterns = [
    path("api/<str:version>/boom", Boom.as_view()),
    path("", include("adplatform.project.urls")),
]


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert code in ERROR_CODES
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


@pytest.mark.django_db
def test_400_validation_error_carries_field_details(token_client, owner):
    response = token_client(owner).patch("/api/v1/me", {"email": "not-an-email"}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert "email" in error["details"]
    assert isinstance(error["details"]["email"], list)


@pytest.mark.django_db
def test_400_malformed_json(token_client, owner):
    response = token_client(owner).generic("PATCH", "/api/v1/me", "{not json", content_type="application/json")
    assert_error(response, 400, "malformed_json")


@pytest.mark.django_db
def test_401_without_credentials(api_client):
    response = api_client.get("/api/v1/me")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_401_unknown_token(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token adp_doesnotexistdoesnotexist")
    assert_error(api_client.get("/api/v1/me"), 401, "token_invalid")


@pytest.mark.django_db
def test_401_malformed_token_header(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token two parts")
    assert_error(api_client.get("/api/v1/me"), 401, "token_invalid")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/nope", "/api/v2/me", "/api/whatever", "/api/"])
def test_404_unknown_api_paths(api_client, url):
    assert_error(api_client.get(url), 404, "not_found")


@pytest.mark.django_db
def test_405_method_not_allowed(token_client, owner):
    response = token_client(owner).delete("/api/v1/me")
    assert_error(response, 405, "method_not_allowed")


@pytest.mark.django_db
def test_415_form_encoded_body(token_client, owner):
    response = token_client(owner).patch("/api/v1/me", "email=a@b.c", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.django_db
def test_429_with_retry_after(settings, token_client, owner):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100/min", "user": "3/min"},
    }
    client = token_client(owner)
    for _ in range(3):
        assert client.get("/api/v1/me").status_code == 200
    response = client.get("/api/v1/me")
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60


@pytest.mark.django_db
def test_throttle_is_per_account(settings, token_client, owner, advertiser):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100/min", "user": "1/min"},
    }
    assert token_client(owner).get("/api/v1/me").status_code == 200
    assert token_client(advertiser).get("/api/v1/me").status_code == 200


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_500_unhandled_exception_is_logged_and_rendered(api_client, caplog):
    response = api_client.get("/api/v1/boom", HTTP_X_REQUEST_ID="req-500-test")
    error = assert_error(response, 500, "internal_error")
    assert "kaboom" not in error["message"]  # internals never reach the caller
    assert response["X-Request-ID"] == "req-500-test"
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_request_id_is_echoed_or_generated(api_client):
    echoed = api_client.get("/api/v1/me", HTTP_X_REQUEST_ID="abc-123")
    assert echoed["X-Request-ID"] == "abc-123"
    generated = api_client.get("/healthz")
    assert len(generated["X-Request-ID"]) == 32
    rejected = api_client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert rejected["X-Request-ID"] != "bad id\nwith newline"


@pytest.mark.django_db
def test_schema_describes_the_api(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/me" in schema["paths"]
    assert "PersonalAccessToken" in schema["components"]["securitySchemes"]


@pytest.mark.django_db
def test_schema_is_valid_and_warning_free(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    text = (tmp_path / "schema.yml").read_text()
    endpoints = ["/api/v1/decisions", "/api/v1/events", "/api/v1/scores/update", "/api/v1/containers",
                 "/api/v1/manage/campaigns/", "/api/v1/leaderboards/{game_slug}"]  # fmt: skip
    for endpoint in endpoints:
        assert endpoint in text, endpoint
    assert "/api/v1/roblox/assets/" in text
