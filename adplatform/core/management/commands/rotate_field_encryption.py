"""Re-encrypt every secret stored at rest with the first key of ``FIELD_ENCRYPTION_KEYS``.

Rotation: put the new key first (keep the old ones after it), restart, run this, then drop the old keys.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from adplatform.core import crypto


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column (signing secrets, Open Cloud keys) with the first FIELD_ENCRYPTION_KEYS key."
    )

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            for field in model._meta.concrete_fields:
                if not isinstance(field, crypto.EncryptedTextField):
                    continue
                table, column = model._meta.db_table, field.column
                with transaction.atomic(), connection.cursor() as cursor:
                    # Raw values: the tokens themselves, rotated without ever holding the plaintext in a model
                    cursor.execute(f"SELECT id, {column} FROM {table} WHERE {column} <> '' FOR UPDATE")  # noqa: S608
                    rows = cursor.fetchall()
                    for pk, stored in rows:
                        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [crypto.rotate(stored), pk])  # noqa: S608
                total += len(rows)
                self.stdout.write(f"{model._meta.label}.{field.name}: {len(rows)} re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"{total} secrets re-encrypted with the first key."))
