"""Staff tools for the scoreboard. Saves and actions go through scoreboard/services.py; nothing is deleted here.

Scores, history, revocations and snapshots are records, not settings: they are
read-only here (history is the audit trail of every credit).
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from adplatform.core.api.errors import DomainError
from scoreboard import services
from scoreboard.models import ActionType, Player, RevokedToken, Score, ScoreboardSnapshot, ScoreHistory


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Player)
class PlayerAdmin(admin.ModelAdmin):
    list_display = ["roblox_user_id", "username", "game", "current_score", "is_banned", "banned_at",
                    "tokens_not_before", "created_at"]  # fmt: skip
    list_filter = ["is_banned", ("game", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["username", "=roblox_user_id", "game__slug", "game__name"]
    list_select_related = ["game", "score"]
    readonly_fields = ("game", "roblox_user_id", "username", "current_score", "is_banned", "banned_at", "ban_reason",
                       "tokens_not_before", "history_link", "created_at", "updated_at")  # fmt: skip
    fields = readonly_fields
    actions = ["ban", "unban", "revoke_tokens"]

    def has_add_permission(self, request, obj=None):
        return False  # players come from the game servers (score tokens)

    def has_delete_permission(self, request, obj=None):
        return False  # ban instead: a deleted row would stay ranked in Redis and lose its credit history

    @admin.display(description="Score", ordering="score__score")
    def current_score(self, obj):
        score = getattr(obj, "score", None)
        return score.score if score is not None and score.reached_at else "-"

    @admin.display(description="History")
    def history_link(self, obj):
        url = reverse("admin:scoreboard_scorehistory_changelist") + f"?player__id__exact={obj.pk}"
        return format_html('<a href="{}">Credited actions</a>', url)

    def _each(self, request, queryset, label: str, change) -> None:
        done = 0
        for player in queryset:
            try:
                change(player)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{player}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{label}: {done} player(s).", messages.SUCCESS)

    @admin.action(description="Ban (refuse score updates, hide from the leaderboard)", permissions=["change"])
    def ban(self, request, queryset):
        self._each(
            request,
            queryset,
            "Banned",
            lambda p: services.player_ban(player=p, reason=f"banned by {request.user} in admin", by=request.user),
        )

    @admin.action(description="Unban", permissions=["change"])
    def unban(self, request, queryset):
        self._each(request, queryset, "Unbanned", lambda p: services.player_unban(player=p, by=request.user))

    @admin.action(description="Revoke all score tokens", permissions=["change"])
    def revoke_tokens(self, request, queryset):
        self._each(
            request, queryset, "Tokens revoked", lambda p: services.player_tokens_revoke(player=p, by=request.user)
        )


class ActionTypeAdminForm(forms.ModelForm):
    class Meta:
        model = ActionType
        fields = ["game", "key", "name", "base_score", "cooldown_seconds", "max_per_hour", "is_active", "rules"]
        help_texts = {
            "rules": 'Optional. {"streak": {"window_seconds": 86400, "step_percent": 10, "max_percent": 200}}: '
            "credits within the window continue a streak worth base * min(100 + step * (n - 1), max) / 100.",
        }

    def clean_rules(self):
        try:
            return services.action_type_rules_clean(self.cleaned_data.get("rules"))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["rules"]) from None


@admin.register(ActionType)
class ActionTypeAdmin(admin.ModelAdmin):
    form = ActionTypeAdminForm
    list_display = ["key", "name", "game", "base_score", "cooldown_seconds", "max_per_hour", "is_active", "updated_at"]
    list_filter = ["is_active", ("game", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["key", "name", "game__slug", "game__name"]
    list_select_related = ["game"]
    autocomplete_fields = ["game"]
    readonly_fields = ["created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # The key is what game scripts send: fixed once created.
        return [*self.readonly_fields, "game", "key"] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # history rows point at it; deactivate instead

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data[f] for f in services.ACTION_TYPE_FIELDS if f in form.cleaned_data}
        if change:
            data.pop("key", None)
            services.action_type_update(action_type=obj, data=data)
        else:
            created = services.action_type_create(game=form.cleaned_data["game"], data=data)
            obj.pk = created.pk
            obj.refresh_from_db()


@admin.register(Score)
class ScoreAdmin(ReadOnlyAdmin):
    list_display = ["player", "game", "score", "reached_at", "last_action_id", "last_action_at"]
    list_filter = [("game", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["player__username", "=player__roblox_user_id", "last_action_id"]
    list_select_related = ["player", "game"]
    readonly_fields = ["player", "game", "score", "reached_at", "last_action_id", "last_action_at", "version",
                       "created_at", "updated_at"]  # fmt: skip


@admin.register(ScoreHistory)
class ScoreHistoryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "game", "player", "action_type", "action_id", "increment", "new_score", "streak",
                    "source", "ip_address"]  # fmt: skip
    list_filter = ["source", ("game", admin.RelatedOnlyFieldListFilter),
                   ("action_type", admin.RelatedOnlyFieldListFilter), "created_at"]  # fmt: skip
    search_fields = ["action_id", "nonce", "token_jti", "player__username", "=player__roblox_user_id", "ip_address"]
    list_select_related = ["game", "player", "action_type"]
    date_hierarchy = "created_at"
    readonly_fields = ["game", "player", "action_type", "action_id", "increment", "previous_score", "new_score",
                       "streak", "multiplier_percent", "source", "api_key", "token_jti", "signature", "nonce",
                       "ip_address", "created_at", "updated_at"]  # fmt: skip
    show_full_result_count = False  # history grows large; no COUNT(*) of the whole table per page


@admin.register(RevokedToken)
class RevokedTokenAdmin(ReadOnlyAdmin):
    list_display = ["jti", "game", "player", "reason", "expires_at", "revoked_by", "created_at"]
    list_filter = ["reason", ("game", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["jti", "player__username", "=player__roblox_user_id"]
    list_select_related = ["game", "player", "revoked_by"]
    readonly_fields = ["jti", "game", "player", "reason", "expires_at", "revoked_by", "created_at", "updated_at"]


@admin.register(ScoreboardSnapshot)
class ScoreboardSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["game", "taken_at", "total_players", "leader"]
    list_filter = [("game", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["game"]
    date_hierarchy = "taken_at"
    readonly_fields = ("game", "taken_at", "total_players", "top", "created_at", "updated_at")
    fields = readonly_fields

    @admin.display(description="Leader")
    def leader(self, obj):
        first = (obj.entries or [None])[0]
        return f"{first['username'] or first['player_id']} ({first['score']})" if first else "-"

    @admin.display(description="Top entries")
    def top(self, obj):
        if not obj.entries:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((e["rank"], e["player_id"], e["username"], e["score"]) for e in obj.entries),
        )
        return format_html(
            "<table><tr><th>Rank</th><th>Player</th><th>Username</th><th>Score</th></tr>{}</table>"
            "<details><summary>JSON</summary><pre>{}</pre></details>",
            rows,
            json.dumps(obj.entries, indent=2),
        )
