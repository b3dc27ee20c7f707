"""Template helpers of every page: ``{% load ui %}``.

``money``/``rate`` (one money format), ``when`` (times with their zone), ``country``,
``upstream_problem``, and ``{% widget field %}`` which draws a form field's input with
``aria-invalid`` and ``aria-describedby`` pointing at its hint and its errors.
"""

from __future__ import annotations

from django import template

from adplatform.core import formatting

register = template.Library()


@register.filter
def money(value) -> str:
    return formatting.format_money(value)


@register.filter
def rate(value) -> str:
    """A CPM or a bid: sub-cent prices keep their digits."""
    return formatting.format_money(value, rate=True)


@register.filter
def when(value) -> str:
    return formatting.format_when(value)


@register.filter
def country(code) -> str:
    return formatting.country_name(code)


@register.filter
def upstream_problem(error, when=None) -> str:
    return formatting.upstream_problem(error, when)


@register.filter
def upstream_offline(error) -> bool:
    """Whether a stored upstream error means Roblox could not be reached (the "Roblox offline" badge)."""
    words = formatting.upstream_problem(error or "", None)
    return words.startswith(("Couldn't reach Roblox", "Roblox asked us to slow down"))


def describedby_ids(field) -> list[str]:
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}_help")
    if field.errors:
        ids.append(f"{field.auto_id}_error")
    return ids


@register.simple_tag
def widget(field):
    """The field's input(s), marked invalid and described by the hint and error ids the includes draw."""
    attrs = {}
    ids = describedby_ids(field)
    if ids:
        attrs["aria-describedby"] = " ".join(ids)
    if field.errors:
        attrs["aria-invalid"] = "true"
    if field.field.required:
        attrs["aria-required"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def error_anchor(field) -> str:
    """Where an error summary's link takes you: the input (the first box of a group of boxes)."""
    widget_ = field.field.widget
    if (getattr(widget_, "allow_multiple_selected", False) and widget_.input_type == "checkbox") or (
        getattr(widget_, "input_type", "") == "radio"
    ):
        return f"{field.auto_id}_0"
    return field.id_for_label or field.auto_id
