"""Secrets at rest: signing secrets and Open Cloud keys are encrypted in PostgreSQL, shown once, never logged."""

from __future__ import annotations

import importlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from adplatform.core import crypto
from games import services
from games.models import Game, GameApiKey
from games.tests.factories import GameFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_sync():
    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        yield


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - our own names
        return cursor.fetchone()[0]


def test_a_signing_secret_is_shown_once_stored_encrypted_and_never_logged(owner, token_client, caplog):
    game = GameFactory(owner=owner)
    caplog.set_level(logging.DEBUG)

    response = token_client(owner).post(f"/api/v1/manage/games/{game.pk}/api-keys/", {"name": "s"}, format="json")

    assert response.status_code == 201, response.content
    secret = response.json()["signing_secret"]
    key = GameApiKey.objects.get(pk=response.json()["id"])
    stored = _raw("games_gameapikey", "signing_secret", key.pk)
    assert stored.startswith("fernet:") and secret not in stored
    assert key.signing_secret == secret  # the code that verifies signatures reads it in plain text
    listed = token_client(owner).get(f"/api/v1/manage/games/{game.pk}/api-keys/").content.decode()
    assert secret not in listed and "signing_secret" not in listed
    assert secret not in caplog.text and stored not in caplog.text


def test_an_open_cloud_key_is_stored_encrypted_and_read_back_for_the_calls(owner):
    game = GameFactory(owner=owner, roblox_universe_id=123)
    services.game_set_open_cloud_key(game=game, api_key="oc-key-ABC123")
    stored = _raw("games_game", "open_cloud_api_key", game.pk)
    assert stored.startswith("fernet:") and "oc-key-ABC123" not in stored
    assert Game.objects.get(pk=game.pk).open_cloud_api_key == "oc-key-ABC123"
    assert list(Game.objects.exclude(open_cloud_api_key="").values_list("pk", flat=True)) == [game.pk]


def test_rotation_re_encrypts_with_the_new_key_and_the_old_one_can_then_go(owner, settings):
    game = GameFactory(owner=owner)
    _, _, secret = services.api_key_create(game=game, name="rotated")
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()

    settings.FIELD_ENCRYPTION_KEYS = [new, old]  # the new key first, the old one still decrypts
    call_command("rotate_field_encryption", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key dropped
    key = GameApiKey.objects.get(game=game)

    assert key.signing_secret == secret
    stored = _raw("games_gameapikey", "signing_secret", key.pk)
    with pytest.raises(Exception):  # noqa: B017 - any failure: the old key no longer opens it
        Fernet(old.encode()).decrypt(stored.removeprefix("fernet:").encode())


def test_a_missing_key_is_a_clear_configuration_error(owner, settings):
    game = GameFactory(owner=owner)
    services.api_key_create(game=game, name="lost")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        GameApiKey.objects.get(game=game).signing_secret  # noqa: B018


def test_the_data_migration_encrypts_plaintext_rows(owner):
    game = GameFactory(owner=owner)
    key, _, secret = services.api_key_create(game=game, name="legacy")
    with connection.cursor() as cursor:  # a row as it was stored before encryption
        cursor.execute("UPDATE games_gameapikey SET signing_secret = %s WHERE id = %s", [secret, key.pk])
        cursor.execute("UPDATE games_game SET open_cloud_api_key = 'plain-oc' WHERE id = %s", [game.pk])
    assert GameApiKey.objects.get(pk=key.pk).signing_secret == secret  # plaintext still reads (mid-upgrade)

    migration = importlib.import_module("games.migrations.0003_encrypt_secrets_at_rest")
    with connection.schema_editor() as editor:
        migration.encrypt_existing(None, editor)

    assert _raw("games_gameapikey", "signing_secret", key.pk).startswith("fernet:")
    assert _raw("games_game", "open_cloud_api_key", game.pk).startswith("fernet:")
    assert GameApiKey.objects.get(pk=key.pk).signing_secret == secret
    assert Game.objects.get(pk=game.pk).open_cloud_api_key == "plain-oc"


def _settings(env: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    code = f"import django, json; django.setup(); from django.conf import settings; print(json.dumps({expression}))"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "adplatform.project.settings", "ADPLATFORM_IGNORE_DOTENV": "1",
             "DATABASE_URL": "postgres://a@h/d", "REDIS_URL": "redis://h:1/0", **env},
    )  # fmt: skip


def test_production_refuses_to_start_without_field_encryption_keys():
    result = _settings({"DEBUG": "false", "SECRET_KEY": "x" * 50, "FIELD_ENCRYPTION_KEYS": ""}, "1")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_development_derives_a_key_from_the_secret_key():
    result = _settings(
        {"DEBUG": "true", "SECRET_KEY": "y" * 50, "FIELD_ENCRYPTION_KEYS": ""}, "settings.FIELD_ENCRYPTION_KEYS"
    )
    assert result.returncode == 0, result.stderr
    (key,) = json.loads(result.stdout.strip().splitlines()[-1])
    assert key == crypto.dev_key("y" * 50)
    Fernet(key.encode())  # a valid Fernet key
