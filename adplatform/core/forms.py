"""Helpers shared by the server-rendered forms of every app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def apply_validation_error(form: forms.BaseForm, exc: ValidationError, field_map: dict[str, str] | None = None) -> None:
    """Show a service's ``ValidationError`` on the form: field errors on their fields, the rest on top."""
    field_map = field_map or {}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = field_map.get(field, field)
            form.add_error(target if target in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def form_is_valid(
    form: forms.BaseForm,
    validate: Callable[[dict[str, Any]], None] | None = None,
    *,
    field_map: dict[str, str] | None = None,
) -> bool:
    """The form's own checks and the service's rules (``validate(cleaned_data)``, a ``*_validate`` service
    that writes nothing) in one submit: a person learns every problem at once, not one layer per submit.

    ``validate`` gets the values that passed the form's checks; a service error on a field the form
    already faulted is left out (the form's message is the more precise one). Service error keys go
    through ``field_map`` (default: the form's own ``field_map`` attribute, read after cleaning).
    """
    valid = form.is_valid()
    if validate is None:
        return valid
    try:
        validate(dict(form.cleaned_data))
    except ValidationError as exc:
        # A form's own ``field_map`` may depend on what it cleaned (e.g. which reward was chosen).
        add_service_errors(form, exc, field_map=field_map or getattr(form, "field_map", None))
        return False
    return valid


def add_service_errors(form: forms.BaseForm, exc: ValidationError, *, field_map: dict[str, str] | None = None) -> None:
    """Like :func:`apply_validation_error`, without repeating a problem the form already shows."""
    field_map = field_map or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, [m for m in exc.messages if m not in form.non_field_errors()])
        return
    for key, messages in exc.message_dict.items():
        mapped = field_map.get(key, key)
        target = mapped if mapped in form.fields else None
        if target is not None and target in form.errors:
            continue
        shown = list(form.errors.get(target or NON_FIELD_ERRORS, []))
        fresh = [m for m in messages if m not in shown]
        if fresh:
            form.add_error(target, fresh)


__all__ = ["NON_FIELD_ERRORS", "add_service_errors", "apply_validation_error", "form_is_valid"]
