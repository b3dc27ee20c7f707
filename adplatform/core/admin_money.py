"""Money in Django admin as everywhere else: ``$4.00`` in lists, ``4`` in inputs, never ``4.000000``.

The database keeps six decimals (micro-dollars); people read two, and CPMs and bids keep their sub-cent digits
(:func:`adplatform.core.formatting.format_money`).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
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


def _money_column(name: str, label: str, rate: bool):
    def column(obj):
        return format_money(getattr(obj, name), rate=rate)

    column.short_description = label
    column.admin_order_field = name
    column.__name__ = f"{name}_money"
    return column


class MoneyAdminMixin:
    """Lists and forms of a ModelAdmin show money the platform's way (six-decimal DecimalFields)."""

    formfield_overrides = {models.DecimalField: {"widget": PlainDecimalInput}}

    def get_list_display(self, request):
        columns = []
        for entry in super().get_list_display(request):
            field = None
            if isinstance(entry, str):
                try:
                    field = self.model._meta.get_field(entry)
                except Exception:  # noqa: BLE001 - a method or an attribute, not a field
                    field = None
            if isinstance(field, models.DecimalField) and field.decimal_places == 6:
                columns.append(_money_column(entry, str(field.verbose_name).capitalize(), entry in RATE_FIELDS))
            else:
                columns.append(entry)
        return columns
