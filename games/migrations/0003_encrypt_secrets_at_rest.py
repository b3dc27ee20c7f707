"""Signing secrets and Open Cloud API keys encrypted at rest (adplatform.core.crypto, FIELD_ENCRYPTION_KEYS).

The columns become text (a Fernet token is longer than the secret), then every stored plaintext value is
encrypted in place. Reversible: the reverse decrypts them back.
"""

from django.db import migrations

import adplatform.core.crypto

COLUMNS = [("games_gameapikey", "signing_secret"), ("games_game", "open_cloud_api_key")]


def encrypt_existing(apps, schema_editor):
    from adplatform.core.crypto import PREFIX, encrypt

    with schema_editor.connection.cursor() as cursor:
        for table, column in COLUMNS:
            cursor.execute(f"SELECT id, {column} FROM {table} WHERE {column} <> '' AND {column} NOT LIKE %s", [PREFIX + "%"])
            for pk, value in cursor.fetchall():
                cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [encrypt(value), pk])


def decrypt_existing(apps, schema_editor):
    from adplatform.core.crypto import PREFIX, decrypt

    with schema_editor.connection.cursor() as cursor:
        for table, column in COLUMNS:
            cursor.execute(f"SELECT id, {column} FROM {table} WHERE {column} LIKE %s", [PREFIX + "%"])
            for pk, value in cursor.fetchall():
                cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [decrypt(value), pk])


class Migration(migrations.Migration):

    dependencies = [
        ("games", "0002_game_open_cloud_api_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="gameapikey",
            name="signing_secret",
            field=adplatform.core.crypto.EncryptedTextField(),
        ),
        migrations.AlterField(
            model_name="game",
            name="open_cloud_api_key",
            field=adplatform.core.crypto.EncryptedTextField(
                blank=True, editable=False, help_text="Open Cloud API key for MessagingService (write-only)."
            ),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
