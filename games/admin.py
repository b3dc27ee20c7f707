"""Staff tools for games. Saves, actions and deletes (one or "delete selected") go through games/services.py.

Records that are history or belong to Roblox (status changes, assets) and keys (revoked, not deleted) cannot be
deleted here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters

from adplatform.core.admin_money import MoneyAdminMixin
from games import services
from games.models import (
    AdContainer,
    Asset,
    ContainerStatus,
    ContainerStatusChange,
    Game,
    GameApiKey,
    Playlist,
    PlaylistItem,
)

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object


class ServiceSaveMixin(_ModelAdmin):
    """Admin saves call the service that owns the write; its errors show on the form."""

    # Rows the delete service removes with the object (keys, status history) though staff may not delete them
    # on their own: their missing delete permission does not stop the parent's delete page.
    deleted_with: tuple = ()

    def service_delete(self, objects: list) -> None:
        raise NotImplementedError

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, perms_needed - {m._meta.verbose_name for m in self.deleted_with}, protected

    def delete_model(self, request, obj):
        self.service_delete([obj])

    def delete_queryset(self, request, queryset):
        # "Delete selected" goes through the same service as deleting one: bumps, cache forgetting, logs.
        self.service_delete(list(queryset))

    def _report(self, request, exc: ValidationError) -> None:
        for field, errors in (exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}).items():
            for error in errors:
                self.message_user(request, f"{field + ': ' if field else ''}{error}", messages.ERROR)


class AdContainerInline(admin.TabularInline):
    model = AdContainer
    extra = 0
    readonly_fields = ("name", "type", "status", "placement", "width_studs", "height_studs", "floor_price_cpm")
    fields = readonly_fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class GameApiKeyInline(admin.TabularInline):
    model = GameApiKey
    extra = 0
    readonly_fields = ("name", "prefix", "created_at", "last_used_at", "revoked_at")
    fields = readonly_fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class GameAdminForm(forms.ModelForm):
    """The game form, plus the write-only Open Cloud key: typed in, stored by the service, never shown again."""

    new_open_cloud_api_key = forms.CharField(
        label="Open Cloud API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only. Lets the platform tell live servers (MessagingService) that campaigns or containers "
        "changed. Needs universe-messaging-service:publish on this universe. Leave blank to keep the current key.",
    )
    remove_open_cloud_api_key = forms.BooleanField(label="Remove the stored Open Cloud key", required=False)

    class Meta:
        model = Game
        fields = ["owner", "name", "slug", "description", "roblox_place_id", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("new_open_cloud_api_key")
        if field is not None:
            stored = bool(self.instance.pk and self.instance.open_cloud_api_key)
            state = "A key is stored; type a new one to replace it." if stored else "No key stored."
            field.help_text = f"{state} {field.help_text}"

    def clean_new_open_cloud_api_key(self):
        try:
            return services.open_cloud_key_clean(self.cleaned_data.get("new_open_cloud_api_key"))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["open_cloud_api_key"]) from None


@admin.register(Game)
class GameAdmin(ServiceSaveMixin, admin.ModelAdmin):
    form = GameAdminForm
    list_display = ["name", "owner", "roblox_place_id", "roblox_universe_id", "container_count", "visits",
                    "playing", "sync_badge", "last_synced_at", "is_active"]  # fmt: skip
    list_filter = ["is_active", "sync_status", ("owner", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "slug", "=roblox_place_id", "=roblox_universe_id", "owner__username"]
    autocomplete_fields = ["owner"]
    list_select_related = ["owner"]
    readonly_fields = ["roblox_universe_id", "icon_url", "visits", "playing", "favorites", "up_votes", "down_votes",
                       "sync_status", "last_synced_at", "last_sync_error", "created_at", "updated_at"]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["owner", "name", "slug", "description", "roblox_place_id", "is_active"]}),
        (
            "Roblox",
            {"fields": ["roblox_universe_id", "icon_url", "visits", "playing", "favorites", "up_votes", "down_votes"]},
        ),
        ("Sync", {"fields": ["sync_status", "last_synced_at", "last_sync_error"]}),
        ("Open Cloud", {"fields": ["new_open_cloud_api_key", "remove_open_cloud_api_key"]}),
        ("Audit", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [AdContainerInline, GameApiKeyInline]
    actions = ["sync_now"]
    deleted_with = (GameApiKey, ContainerStatusChange)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_containers=Count("containers"))

    def get_readonly_fields(self, request, obj=None):
        # A game's owner and place are fixed once registered.
        return [*self.readonly_fields, "owner", "roblox_place_id"] if obj else self.readonly_fields

    @admin.display(description="Containers", ordering="_containers")
    def container_count(self, obj):
        return obj._containers

    @admin.display(description="Sync", ordering="sync_status")
    def sync_badge(self, obj):
        colour = {"OK": "#1a7f37", "ERROR": "#c9372c"}.get(obj.sync_status, "#b35900")
        title = obj.last_sync_error or obj.get_sync_status_display()
        return format_html('<span style="color:{}" title="{}">{}</span>', colour, title, obj.get_sync_status_display())

    def save_model(self, request, obj, form, change):
        if change:
            services.game_update(
                game=obj, data={f: form.cleaned_data[f] for f in form.changed_data if f in services.GAME_EDITABLE}
            )
        else:
            created = services.game_create(
                owner=form.cleaned_data["owner"],
                roblox_place_id=form.cleaned_data["roblox_place_id"],
                name=form.cleaned_data["name"],
                description=form.cleaned_data.get("description", ""),
            )
            obj.pk = created.pk
            obj.refresh_from_db()
        new_key = form.cleaned_data.get("new_open_cloud_api_key")
        if new_key or form.cleaned_data.get("remove_open_cloud_api_key"):
            services.game_set_open_cloud_key(game=obj, api_key=new_key or "")

    @method_decorator(sensitive_post_parameters("new_open_cloud_api_key"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The key must not reach error reports or logs through the POST data.
        return super().changeform_view(request, object_id, form_url, extra_context)

    def service_delete(self, objects):
        services.games_delete(games=objects)

    @admin.action(description="Sync now from Roblox")
    def sync_now(self, request, queryset):
        for game in queryset:
            services.game_request_sync(game=game)
        self.message_user(request, f"Sync queued for {queryset.count()} game(s).", messages.SUCCESS)


class ContainerStatusChangeInline(admin.TabularInline):
    model = ContainerStatusChange
    extra = 0
    readonly_fields = ("created_at", "changed_by", "from_status", "to_status", "reason")
    fields = readonly_fields
    can_delete = False
    ordering = ["-created_at"]

    def has_add_permission(self, request, obj=None):
        return False


class AdContainerAdminForm(forms.ModelForm):
    status_reason = forms.CharField(required=False, help_text="Why the status changes (required for MAINTENANCE).")

    class Meta:
        model = AdContainer
        fields = ["game", "name", "type", "status", "placement", "width_studs", "height_studs", "floor_price_cpm",
                  "blocked_categories", "playlist"]  # fmt: skip


@admin.register(AdContainer)
class AdContainerAdmin(MoneyAdminMixin, ServiceSaveMixin, admin.ModelAdmin):
    form = AdContainerAdminForm
    list_display = ["name", "game", "type", "status", "placement", "width_studs", "height_studs",
                    "floor_price_cpm", "updated_at"]  # fmt: skip
    list_filter = ["type", "status", ("game", admin.RelatedOnlyFieldListFilter), "game__owner"]
    search_fields = ["name", "placement", "game__name", "=game__roblox_place_id"]
    autocomplete_fields = ["game", "playlist"]
    list_select_related = ["game"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ContainerStatusChangeInline]
    actions = ["set_active", "set_inactive", "set_maintenance"]
    deleted_with = (ContainerStatusChange,)

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.CONTAINER_FIELDS if f in form.cleaned_data}
        data["status"] = form.cleaned_data["status"]
        data["status_reason"] = form.cleaned_data.get("status_reason") or "changed in admin"
        if change:
            services.container_update(container=obj, data=data, by=request.user)
        else:
            created = services.container_create(game=form.cleaned_data["game"], data=data, by=request.user)
            obj.pk = created.pk
            obj.refresh_from_db()

    def service_delete(self, objects):
        services.containers_delete(containers=objects)

    def _set_status(self, request, queryset, status: str) -> None:
        changed = 0
        for container in queryset:
            try:
                services.container_set_status(
                    container=container, status=status, reason=f"set {status} by staff in admin", by=request.user
                )
                changed += 1
            except ValidationError as exc:
                self._report(request, exc)
        self.message_user(request, f"{changed} container(s) set to {status}.", messages.SUCCESS)

    @admin.action(description="Set ACTIVE")
    def set_active(self, request, queryset):
        self._set_status(request, queryset, ContainerStatus.ACTIVE)

    @admin.action(description="Set INACTIVE")
    def set_inactive(self, request, queryset):
        self._set_status(request, queryset, ContainerStatus.INACTIVE)

    @admin.action(description="Set MAINTENANCE")
    def set_maintenance(self, request, queryset):
        self._set_status(request, queryset, ContainerStatus.MAINTENANCE)


class PlaylistItemInline(admin.TabularInline):
    model = PlaylistItem
    extra = 0
    fields = ["position", "asset", "display_seconds"]
    autocomplete_fields = ["asset"]
    ordering = ["position"]


@admin.register(Playlist)
class PlaylistAdmin(ServiceSaveMixin, admin.ModelAdmin):
    list_display = ["name", "game", "container_type", "updated_at"]
    list_filter = ["container_type", ("game", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "game__name"]
    autocomplete_fields = ["game"]
    list_select_related = ["game"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [PlaylistItemInline]

    def save_model(self, request, obj, form, change):
        if change:
            services.playlist_update(
                playlist=obj, name=form.cleaned_data["name"], container_type=form.cleaned_data["container_type"]
            )
        else:
            created = services.playlist_create(
                game=form.cleaned_data["game"],
                name=form.cleaned_data["name"],
                container_type=form.cleaned_data["container_type"],
            )
            obj.pk = created.pk
            obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # Items are written by playlist_set_items, which checks the asset types against the playlist.
        items = []
        for formset in formsets:
            for item_form in formset.forms:
                if not item_form.cleaned_data or item_form.cleaned_data.get("DELETE"):
                    continue
                items.append(item_form.cleaned_data)
        items.sort(key=lambda d: d.get("position") or 0)
        services.playlist_set_items(
            playlist=form.instance,
            items=[
                {"roblox_asset_id": d["asset"].roblox_asset_id, "display_seconds": d["display_seconds"]} for d in items
            ],
        )

    def service_delete(self, objects):
        services.playlists_delete(playlists=objects)


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["roblox_asset_id", "thumbnail", "name", "asset_type", "moderation_state", "last_synced_at"]
    list_filter = ["asset_type", "moderation_state"]
    search_fields = ["=roblox_asset_id", "name"]
    readonly_fields = ["thumbnail_url", "moderation_state", "last_synced_at", "last_sync_error", "created_at",
                       "updated_at"]  # fmt: skip
    actions = ["sync_now"]

    @admin.display(description="Preview")
    def thumbnail(self, obj):
        if not obj.thumbnail_url:
            return "—"
        return format_html('<img src="{}" alt="" width="48" height="48" loading="lazy">', obj.thumbnail_url)

    def has_delete_permission(self, request, obj=None):
        return False  # the platform's record of a Roblox asset; creatives and playlists point at it

    @admin.action(description="Sync now from Roblox")
    def sync_now(self, request, queryset):
        ids = services.assets_request_sync(roblox_asset_ids=queryset.values_list("roblox_asset_id", flat=True))
        self.message_user(request, f"Sync queued for {len(ids)} asset(s).", messages.SUCCESS)


@admin.register(GameApiKey)
class GameApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "game", "prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), ("game", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "prefix", "game__name"]
    list_select_related = ["game", "created_by"]
    readonly_fields = ("game", "name", "prefix", "created_by", "created_at", "updated_at", "last_used_at", "revoked_at")
    fields = readonly_fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # created by the game's owner, who alone sees the key and secret

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, not deleted: score history keeps pointing at the key

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        for key in queryset:
            services.api_key_revoke(key=key)
        self.message_user(request, f"{queryset.count()} key(s) revoked.", messages.SUCCESS)


@admin.register(ContainerStatusChange)
class ContainerStatusChangeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "container", "from_status", "to_status", "changed_by", "reason"]
    list_filter = ["to_status", "from_status"]
    search_fields = ["container__name", "container__game__name", "reason", "changed_by__username"]
    list_select_related = ["container", "container__game", "changed_by"]
    readonly_fields = ["container", "changed_by", "from_status", "to_status", "reason", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the audit trail of container status
