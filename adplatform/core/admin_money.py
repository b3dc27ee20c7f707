"""Money in Django admin as everywhere else: ``$4.00`` in lists and read-only values, ``4`` in inputs,
never ``4.000000``.

The database keeps six decimals (micro-dollars); people read two, and CPMs and bids keep their sub-cent digits
(:func:`adplatform.core.formatting.format_money`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.contrib import admin
from django.db import models

from adplatform.core.formatting import format_money

RATE_FIELDS = {"max_bid", "floor_price_cpm", "clearing_price_cpm", "after_intro_cptv", "cptv", "ecpm"}


class PlainDecimalInput(forms.NumberInput):
    """A decimal input that shows ``0.5``, not ``0.500000``."""

    def format_value(self, value):
        if isinstance(value, Decimal) and value.is_finite():
            text = f"{value.normalize():f}"
            return text
        return super().format_value(value)


def _money_column(name: str, label: str, rate: bool) -> Callable[[models.Model], str]:
    @admin.display(description=label, ordering=name)
    def column(obj: models.Model) -> str:
        return format_money(getattr(obj, name), rate=rate)

    column.__name__ = f"{name}_money"
    return column


def _rename(fields, money: set[str]) -> list[Any]:
    """A fieldset's ``fields`` (names, or tuples of names on one line) with money names as their columns."""
    out: list[Any] = []
    for entry in fields:
        if isinstance(entry, (list, tuple)):
            out.append(type(entry)(_rename(entry, money)))
        else:
            out.append(f"{entry}_money" if entry in money else entry)
    return out


if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object


class MoneyAdminMixin(_ModelAdmin):
    """Lists, read-only values and inputs of a ModelAdmin show money the platform's way (six-decimal
    DecimalFields): a read-only ``spent`` is drawn by a ``spent_money`` column (see ``__getattr__``)."""

    formfield_overrides: ClassVar[Mapping[type[models.Field[Any, Any]], Mapping[str, Any]]] = {
        models.DecimalField: {"widget": PlainDecimalInput}
    }

    def _money_fields(self) -> dict[str, models.DecimalField]:
        return {
            f.name: f
            for f in self.model._meta.concrete_fields
            if isinstance(f, models.DecimalField) and f.decimal_places == 6
        }

    def _readonly_money(self, request, obj) -> set[str]:
        if not self.has_change_permission(request, obj):  # a view-only page shows every field read-only
            return set(self._money_fields())
        return set(super().get_readonly_fields(request, obj)) & set(self._money_fields())

    def get_readonly_fields(self, request, obj=None):
        money = self._money_fields()
        return [f"{name}_money" if name in money else name for name in super().get_readonly_fields(request, obj)]

    def get_fieldsets(self, request, obj=None):
        money = self._readonly_money(request, obj)
        if not money:
            return super().get_fieldsets(request, obj)
        return [
            (title, {**options, "fields": _rename(options.get("fields", ()), money)})
            for title, options in super().get_fieldsets(request, obj)
        ]

    def __getattr__(self, name: str):
        # Only reached for names the class does not define: ``<money field>_money`` read-only columns.
        if name.endswith("_money"):
            field = self._money_fields().get(name[: -len("_money")])
            if field is not None:
                return _money_column(field.name, str(field.verbose_name).capitalize(), field.name in RATE_FIELDS)
        raise AttributeError(name)

    def get_list_display(self, request):
        columns: list[str | Callable[[Any], str | bool]] = []
        for entry in super().get_list_display(request):
            field = None
            if isinstance(entry, str):
                try:
                    field = self.model._meta.get_field(entry)
                except Exception:  # noqa: BLE001 - a method or an attribute, not a field
                    field = None
            if isinstance(entry, str) and isinstance(field, models.DecimalField) and field.decimal_places == 6:
                columns.append(_money_column(entry, str(field.verbose_name).capitalize(), entry in RATE_FIELDS))
            else:
                columns.append(entry)
        return columns
