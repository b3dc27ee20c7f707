"""Money in Django admin as everywhere else: ``$4.00`` in lists, ``4`` in inputs, never ``4.000000``.

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


if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object


class MoneyAdminMixin(_ModelAdmin):
    """Lists and forms of a ModelAdmin show money the platform's way (six-decimal DecimalFields)."""

    formfield_overrides: ClassVar[Mapping[type[models.Field[Any, Any]], Mapping[str, Any]]] = {
        models.DecimalField: {"widget": PlainDecimalInput}
    }

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
