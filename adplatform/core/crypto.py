"""Secrets at rest: signing secrets and Open Cloud API keys are stored encrypted (Fernet, AES-128-CBC + HMAC).

The keys come from ``FIELD_ENCRYPTION_KEYS`` (comma-separated Fernet keys): the first encrypts, every one
decrypts, so a key is rotated by putting a new one first, running ``manage.py rotate_field_encryption``
(re-encrypts every stored value with it) and then dropping the old one. Development without the variable
derives a key from ``SECRET_KEY``; production refuses to start without it (``adplatform.project.settings``).

A stored value reads ``fernet:<token>``. A value without the prefix is a plaintext one from before
encryption (the data migration encrypts them all); it is read as is, so an upgrade never breaks a read.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


def dev_key(secret_key: str) -> str:
    """The development key, derived from ``SECRET_KEY`` (stable as long as it is)."""
    digest = hashlib.sha256(b"adplatform field encryption\0" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def generate_key() -> str:
    return Fernet.generate_key().decode()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must hold Fernet keys (32 url-safe base64 bytes each), comma-separated: "
            "generate one with `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
            ".decode())'`."
        ) from exc


def _keys() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return PREFIX + _keys().encrypt(value.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # plaintext from before encryption
    try:
        return _keys().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS: the key it was encrypted with is "
            "missing (keep old keys after the new one until `manage.py rotate_field_encryption` has run)."
        ) from None


def rotate(stored: str) -> str:
    """``stored`` encrypted with the first key (a plaintext one encrypted for the first time)."""
    if not stored:
        return stored
    if not stored.startswith(PREFIX):
        return encrypt(stored)
    return PREFIX + _keys().rotate(stored[len(PREFIX) :].encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code reads and writes the plain value.

    The empty string stays empty (so "has no key" can still be queried); nothing else can be looked up by value.
    """

    description = "Text encrypted at rest (Fernet)"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "" or value.startswith(PREFIX):
            return value
        return encrypt(value)
