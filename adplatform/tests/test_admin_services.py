"""Every model admin deletes through a service, or not at all; its actions are tested in each app's tests."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.test import RequestFactory

PROJECT_APPS = {"accounts", "ads", "games", "scoreboard", "integrations"}
ADMINS = [
    pytest.param(model_admin, id=f"{model._meta.app_label}.{model.__name__}")
    for model, model_admin in admin.site._registry.items()
    if model._meta.app_label in PROJECT_APPS
]


@pytest.mark.parametrize("model_admin", ADMINS)
def test_a_model_admin_that_may_delete_deletes_through_a_service(model_admin, staff_user):
    request = RequestFactory().get("/admin/")
    request.user = staff_user
    if not model_admin.has_delete_permission(request):
        assert "delete_selected" not in model_admin.get_actions(request)
        return
    cls = type(model_admin)
    # Django's own delete_model / delete_queryset write straight to the table, skipping bumps and caches.
    assert cls.delete_model not in (ModelAdmin.delete_model, DjangoUserAdmin.delete_model), cls
    assert cls.delete_queryset is not ModelAdmin.delete_queryset, cls


def test_every_project_model_admin_is_checked():
    assert len(ADMINS) >= 15
