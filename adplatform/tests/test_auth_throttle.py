"""Failed logins, API keys and personal access tokens are counted, locked out for a while, logged and measured."""

from __future__ import annotations

import logging
from unittest import mock

import pytest
from django.test import Client
from prometheus_client import REGISTRY

from adplatform.accounts import services
from games.tests.factories import GameFactory, make_api_key

pytestmark = pytest.mark.django_db


def _failures(kind: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("adplatform_auth_failures_total", {"kind": kind, "outcome": outcome}) or 0.0


@pytest.fixture
def person(user_factory):
    user = user_factory(role="OWNER", username="alice")
    user.set_password("correct horse battery staple")
    user.save()
    return user


def _login(client: Client, username: str, password: str, ip: str = "198.51.100.7"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_wrong_passwords_lock_the_account_and_even_the_right_one_waits(person, settings, caplog):
    settings.AUTH_LOGIN_ACCOUNT_LIMIT = 3
    client = Client()
    caplog.set_level(logging.WARNING, logger="adplatform.security")
    before = _failures("login", "failed")

    for _ in range(2):
        response = _login(client, "alice", "wrong")
        assert response.status_code == 200 and "Please enter a correct username" in response.content.decode()
    response = _login(client, "Alice", "wrong")  # the third: locked (case does not matter)
    page = response.content.decode()
    assert "Too many failed login attempts" in page and "15 minute(s)" in page

    response = _login(client, "alice", "correct horse battery staple", ip="203.0.113.9")  # the account is locked
    assert response.status_code == 200 and "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert _failures("login", "failed") - before == 2
    assert _failures("login", "locked") >= 2
    assert "authentication failed (login)" in caplog.text and "correct horse" not in caplog.text


def test_a_successful_login_clears_the_account_count(person, settings):
    settings.AUTH_LOGIN_ACCOUNT_LIMIT = 3
    client = Client()
    _login(client, "alice", "wrong")
    _login(client, "alice", "wrong")
    assert _login(client, "alice", "correct horse battery staple").status_code == 302
    client.logout()
    _login(client, "alice", "wrong")
    _login(client, "alice", "wrong")
    assert _login(client, "alice", "correct horse battery staple").status_code == 302


def test_many_accounts_tried_from_one_address_lock_the_address(person, settings):
    settings.AUTH_LOGIN_IP_LIMIT = 4
    client = Client()
    for name in ("bob", "carol", "dave", "erin"):
        _login(client, name, "guess", ip="192.0.2.50")
    response = _login(client, "alice", "correct horse battery staple", ip="192.0.2.50")
    assert "Too many failed login attempts" in response.content.decode()
    # another address is not locked
    assert _login(Client(), "alice", "correct horse battery staple", ip="192.0.2.51").status_code == 302


def test_the_admin_login_is_throttled_too(staff_user, settings):
    settings.AUTH_LOGIN_ACCOUNT_LIMIT = 2
    client = Client()
    for _ in range(2):
        response = client.post("/admin/login/", {"username": staff_user.username, "password": "no"})
    assert "Too many failed login attempts" in response.content.decode()


def test_bad_api_keys_from_one_address_get_429_and_a_good_key_still_works(settings, api_client):
    settings.AUTH_API_KEY_IP_LIMIT = 5
    before = _failures("api_key", "failed")
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        game = GameFactory()
    _, good, _ = make_api_key(game)
    statuses = []
    for i in range(7):
        body = {"container_id": 1, "player": {"id": 1}}
        response = api_client.post("/api/v1/decisions", body, format="json", HTTP_X_API_KEY=f"gk_bad{i}",
                                   REMOTE_ADDR="198.51.100.99")  # fmt: skip
        statuses.append(response.status_code)
    assert statuses == [401] * 4 + [429] * 3
    assert response.json()["error"]["code"] == "rate_limited" and int(response["Retry-After"]) > 0
    assert _failures("api_key", "failed") - before == 4  # counted once per request, not per path tried
    assert api_client.get("/api/v1/game", HTTP_X_API_KEY=good, REMOTE_ADDR="198.51.100.99").status_code == 200


def test_bad_personal_access_tokens_get_429(settings, api_client, owner):
    settings.AUTH_TOKEN_IP_LIMIT = 3
    statuses = [
        api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token nope{i}", REMOTE_ADDR="198.51.100.5").status_code
        for i in range(5)
    ]
    assert statuses == [401, 401, 429, 429, 429]
    _, raw = services.token_create(user=owner, name="ok")
    assert (
        api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {raw}", REMOTE_ADDR="198.51.100.5").status_code == 200
    )
