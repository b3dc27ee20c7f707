"""Staff tools for advertisers, campaigns, creatives and the ledger.

Every change goes through ``ads/services.py``: the moderation and approval
actions, and the add/change forms. A form's save *is* the service call: it
runs when the form is validated, inside the transaction Django's admin opens
for the request, so the service's ``ValidationError`` shows on the form's
fields and nothing is written; ``save_model`` then only adopts the saved row.
The inlines are display-only, so nothing can fail after the service ran.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import F
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.utils.html import format_html

from adplatform.core.admin_money import MoneyAdminMixin
from ads import compliance, selectors, services
from ads.models import (
    Advertiser,
    ApprovalState,
    Campaign,
    CampaignStatus,
    Creative,
    CreativeUpload,
    LedgerEntry,
    ModerationStatus,
    QualifiedVisit,
    RevenueShareSchedule,
    RevenueShareTier,
    RobloxReview,
)

BADGE_COLOURS: dict[str, str] = {
    ModerationStatus.PENDING: "#b35900",
    ModerationStatus.APPROVED: "#1a7f37",
    ModerationStatus.REJECTED: "#c9372c",
    CampaignStatus.ACTIVE: "#1a7f37",
    CampaignStatus.PAUSED: "#b35900",
    CampaignStatus.ARCHIVED: "#6e7781",
    CampaignStatus.COMPLETED: "#6e7781",
}


def _badge(value: str, label: str):
    return format_html('<strong style="color:{}">{}</strong>', BADGE_COLOURS.get(value, "inherit"), label)


def _thumbnail(creative: Creative, size: int = 48):
    """The Roblox thumbnail synced for the creative's asset, or a placeholder until there is one."""
    url = creative.asset.thumbnail_url if creative.asset is not None else ""
    if not url:
        return format_html('<span class="quiet" title="Waiting for the Roblox thumbnail sync">{}</span>', "No preview")
    return format_html(
        '<img src="{}" alt="Thumbnail of asset {}" width="{}" height="{}" loading="lazy">',
        url,
        creative.roblox_asset_id,
        size,
        size,
    )


# --------------------------------------------------------------------------- saving through the services


if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object


class ServiceAdminMixin(_ModelAdmin):
    """Admin add/change forms whose save is a service call (see the module docstring).

    Subclasses implement :meth:`service_save`; ``service_error_fields`` maps a service's error key
    (``"frequency_cap.count"``) to the form field that shows it.
    """

    service_error_fields: dict[str, str] = {}

    def service_save(self, request, obj, form, change: bool):
        raise NotImplementedError

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        model_admin = self

        class ServiceForm(form_class):  # type: ignore[valid-type,misc]  # the form class Django built for this request
            def _post_clean(self):
                # Instead of ModelForm's instance validation: the service validates the whole change and writes it
                # (Django's own UserCreationForm hooks in here the same way).
                if self._errors:
                    return
                try:
                    with transaction.atomic():  # several service calls (edit, then decide) stand or fall together
                        self.service_result = model_admin.service_save(request, obj, self, change)
                except ValidationError as exc:
                    model_admin.add_service_errors(self, exc)

        ServiceForm.__name__ = form_class.__name__
        return ServiceForm

    def add_service_errors(self, form, exc: ValidationError) -> None:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
        for key, messages_ in errors.items():
            field = self.service_error_fields.get(key, key)
            prefix = ""
            if field not in form.fields and "." in key:
                # "targeting.devices" shows on the targeting field as "devices: ..."
                head, _, rest = key.partition(".")
                field, prefix = self.service_error_fields.get(head, head), f"{rest}: "
            if field in form.fields:
                form.add_error(field, [prefix + message for message in messages_])
            else:
                form.add_error(None, [m if key == NON_FIELD_ERRORS else f"{key}: {m}" for m in messages_])

    def save_model(self, request, obj, form, change):
        obj.pk = form.service_result.pk
        obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None):
        # Campaigns are archived, creatives rejected, advertisers rejected: history and the ledger stay intact.
        return False


def _changed(form, change: bool, fields) -> list[str]:
    """The form fields to hand to a service: all of them on add, the ones the user changed otherwise."""
    return [f for f in fields if f in form.cleaned_data and (not change or f in form.changed_data)]


class ReadOnlyInlineFormSet(BaseInlineFormSet):
    """A display-only inline: it reads nothing from the POST, so it neither fails nor writes after the service."""

    def is_valid(self):
        return True

    def save(self, commit=True):
        self.new_objects, self.changed_objects, self.deleted_objects = [], [], []
        return []


class ReadOnlyInline(admin.TabularInline):
    formset = ReadOnlyInlineFormSet
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), max_length=2000)

    def __init__(self, *args, required: bool = True, label: str = "Reason", help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required
        self.fields["reason"].label = label
        self.fields["reason"].help_text = help_text


def reason_step(model_admin, request, queryset, *, action: str, title: str, intro: str, decide, **form_kwargs):
    """An admin action with an intermediate page that asks for a reason (CSRF-protected, lists the rows).

    ``decide(obj, reason)`` runs for each selected row once the form is submitted and valid.
    """
    if "apply" in request.POST:
        form = ReasonForm(request.POST, **form_kwargs)
        if form.is_valid():
            done = 0
            for obj in queryset:
                try:
                    decide(obj, form.cleaned_data["reason"])
                    done += 1
                except ValidationError as exc:
                    for message in exc.messages:
                        model_admin.message_user(request, f"{obj}: {message}", messages.ERROR)
            model_admin.message_user(request, f"{title}: {done} done.", messages.SUCCESS)
            return None  # back to the changelist
    else:
        form = ReasonForm(**form_kwargs)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "intro": intro,
        "queryset": queryset,
        "form": form,
        "action": action,
        "opts": model_admin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": model_admin.media,
    }
    return TemplateResponse(request, "admin/ads/action_reason.html", context)


# --------------------------------------------------------------------------- advertisers


class CampaignInline(ReadOnlyInline):
    model = Campaign
    readonly_fields = ("name", "status", "pricing", "total_budget", "spent", "start_at", "end_at")
    fields = readonly_fields


@admin.register(Advertiser)
class AdvertiserAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ["company", "user", "category", "approval_badge", "approved_at", "approved_by", "created_at"]
    list_filter = ["approval", "category"]
    search_fields = ["company", "user__username", "user__email"]
    list_select_related = ["user", "approved_by"]
    readonly_fields = ["user", "approval", "approval_note", "approved_at", "approved_by", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["user", "company", "category"]}),
        ("Approval", {"fields": ["approval", "approval_note", "approved_at", "approved_by"]}),
        ("Audit", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [CampaignInline]
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False  # an advertiser account gets its profile on first use (services.advertiser_for_user)

    @admin.display(description="Approval", ordering="approval")
    def approval_badge(self, obj):
        colour = {ApprovalState.APPROVED: "#1a7f37", ApprovalState.REJECTED: "#c9372c"}.get(obj.approval, "#b35900")
        return format_html(
            '<strong style="color:{}" title="{}">{}</strong>', colour, obj.approval_note, obj.get_approval_display()
        )

    def service_save(self, request, obj, form, change):
        fields = _changed(form, change, ["company", "category"])
        return services.advertiser_update(advertiser=obj, **{f: form.cleaned_data[f] for f in fields})

    @admin.action(description="Approve selected advertisers", permissions=["change"])
    def approve(self, request, queryset):
        for advertiser in queryset:
            services.advertiser_approve(advertiser=advertiser, by=request.user)
        self.message_user(request, f"{len(queryset)} advertiser(s) approved.", messages.SUCCESS)

    @admin.action(description="Reject selected advertisers…", permissions=["change"])
    def reject(self, request, queryset):
        return reason_step(
            self,
            request,
            queryset,
            action="reject",
            title="Reject advertisers",
            intro="Their campaigns stop serving until they are approved again.",
            decide=lambda advertiser, note: services.advertiser_reject(
                advertiser=advertiser, by=request.user, note=note
            ),
            required=False,
            label="Note",
            help_text="Why (kept on the advertiser's record).",
        )


# --------------------------------------------------------------------------- campaigns


class CreativeInline(ReadOnlyInline):
    model = Creative
    readonly_fields = ("name", "preview", "kind", "roblox_asset_id", "moderation_status", "moderation_reason")
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("asset")

    @admin.display(description="Preview")
    def preview(self, obj):
        return _thumbnail(obj)


CAMPAIGN_FORM_FIELDS = [
    "name",
    "status",
    "pricing",
    "max_bid",
    "total_budget",
    "daily_budget",
    "start_at",
    "end_at",
    "pacing",
    "targeting",
    "roblox_campaign_id",
    "game",
]


class CampaignAdminForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["advertiser", *CAMPAIGN_FORM_FIELDS, "frequency_cap_count", "frequency_cap_period_seconds"]
        help_texts = {
            "targeting": 'JSON, every key optional: {"countries_included": ["US"], "devices": ["mobile"], '
            '"hours_utc": [18, 19], ...}',
            "status": "ACTIVE is refused until the advertiser is approved and a creative is APPROVED.",
        }


@admin.register(Campaign)
class CampaignAdmin(MoneyAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    form = CampaignAdminForm
    list_display = [
        "name",
        "advertiser",
        "status_badge",
        "pricing",
        "max_bid",
        "spend",
        "remaining",
        "spent_percent",
        "daily_budget",
        "start_at",
        "end_at",
        "creatives",
    ]
    list_filter = ["status", "pricing", "pacing", ("advertiser", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "roblox_campaign_id", "advertiser__company"]
    autocomplete_fields = ["advertiser"]
    date_hierarchy = "start_at"
    readonly_fields = [
        "spent",
        "spend",
        "remaining",
        "spent_percent",
        "activation",
        "roblox_checklist",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["advertiser", "name", "status", "activation", "roblox_campaign_id"]}),
        ("Roblox ad integration", {"fields": ["game", "roblox_checklist"]}),
        (
            "Money",
            {"fields": ["pricing", "max_bid", "total_budget", "daily_budget", "spent", "remaining", "spent_percent"]},
        ),
        (
            "Schedule and delivery",
            {"fields": ["start_at", "end_at", "pacing", "frequency_cap_count", "frequency_cap_period_seconds"]},
        ),
        ("Targeting", {"fields": ["targeting"]}),
        ("Audit", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [CreativeInline]
    actions = ["activate", "pause", "archive"]
    service_error_fields = {
        "frequency_cap": "frequency_cap_count",
        "frequency_cap.count": "frequency_cap_count",
        "frequency_cap.period_seconds": "frequency_cap_period_seconds",
    }

    def get_queryset(self, request):
        # The selector's annotations give the creative counts without a query per row.
        return selectors.campaign_list(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)  # money as the site shows it (MoneyAdminMixin)
        if obj is None:  # a new campaign is always a DRAFT
            return [*readonly, "status"]
        return [*readonly, "advertiser"]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return _badge(obj.status, obj.get_status_display())

    @admin.display(description="Spent / total", ordering="spent")
    def spend(self, obj):
        if obj.total_budget is None:  # the add form
            return "—"
        return f"{obj.spent:.2f} / {obj.total_budget:.2f}"

    @admin.display(description="Remaining", ordering=F("total_budget") - F("spent"))
    def remaining(self, obj):
        if obj.total_budget is None:
            return "—"
        return f"{obj.remaining_budget:.2f}"

    @admin.display(description="Spent %", ordering=F("spent") / F("total_budget"))
    def spent_percent(self, obj):
        if obj.total_budget is None:
            return "—"
        percent = min(100.0, obj.spend_ratio * 100)
        return format_html(
            '<progress value="{}" max="100" style="width:5em"></progress> {}%',
            f"{percent:.1f}",
            f"{percent:.1f}",
        )

    @admin.display(description="Creatives (approved)")
    def creatives(self, obj):
        return f"{getattr(obj, 'creative_count', '?')} ({getattr(obj, 'approved_creative_count', '?')})"

    @admin.display(description="Roblox checklist")
    def roblox_checklist(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        problems = compliance.serving_problems(obj)
        return "Everything Roblox requires is in place." if not problems else " · ".join(problems)

    @admin.display(description="May serve?")
    def activation(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        problems = services.activation_problems(obj)
        return "Yes" if not problems else " ".join(problems)

    def service_save(self, request, obj, form, change):
        data: dict[str, Any] = {f: form.cleaned_data[f] for f in _changed(form, change, CAMPAIGN_FORM_FIELDS)}
        if _changed(form, change, ["frequency_cap_count", "frequency_cap_period_seconds"]):
            count = form.cleaned_data.get("frequency_cap_count")
            period = form.cleaned_data.get("frequency_cap_period_seconds")
            data["frequency_cap"] = (
                None if count is None and period is None else {"count": count, "period_seconds": period}
            )
        if change:
            return services.campaign_update(campaign=obj, data=data)
        return services.campaign_create(advertiser=form.cleaned_data["advertiser"], data=data)

    def _set_status(self, request, queryset, change, label: str) -> None:
        done = 0
        for campaign in queryset:
            try:
                change(campaign=campaign)
                done += 1
            except ValidationError as exc:
                for message in exc.messages:
                    self.message_user(request, f"{campaign}: {message}", messages.ERROR)
        self.message_user(request, f"{done} campaign(s) {label}.", messages.SUCCESS if done else messages.WARNING)

    @admin.action(description="Activate or resume selected campaigns", permissions=["change"])
    def activate(self, request, queryset):
        self._set_status(request, queryset, services.campaign_activate, "activated")

    @admin.action(description="Pause selected campaigns", permissions=["change"])
    def pause(self, request, queryset):
        self._set_status(request, queryset, services.campaign_pause, "paused")

    @admin.action(description="Archive selected campaigns", permissions=["change"])
    def archive(self, request, queryset):
        self._set_status(request, queryset, services.campaign_archive, "archived")


# --------------------------------------------------------------------------- creatives: the moderation queue


CREATIVE_CONTENT_FIELDS = ["name", "kind", "roblox_asset_id", "minigame", "click_action"]


class CreativeAdminForm(forms.ModelForm):
    decision = forms.ChoiceField(
        choices=[
            ("", "— no decision —"),
            (ModerationStatus.APPROVED, "Approve"),
            (ModerationStatus.REJECTED, "Reject"),
        ],
        required=False,
        help_text="Recorded with your name and the time.",
    )
    decision_reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="Required to reject; the advertiser sees it.",
    )

    class Meta:
        model = Creative
        fields = ["campaign", *CREATIVE_CONTENT_FIELDS, "npc_model_asset_id", "npc_dialogue", "roblox_placement_id"]
        help_texts = {
            "npc_dialogue": 'JSON list of lines: ["Hi!", "Try our new flavour."]',
            "minigame": 'JSON: {"template": "obby", "duration_seconds": 60, "reward": {"type": "none"}}',
            "click_action": 'JSON: {"type": "none"}, {"type": "teleport", "place_id": N} or '
            '{"type": "purchase", "product_type": "gamepass", "product_id": N}',
        }


@admin.register(Creative)
class CreativeAdmin(MoneyAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    """The moderation queue: pending creatives first, oldest first."""

    form = CreativeAdminForm
    list_display = [
        "name",
        "preview",
        "kind",
        "moderation_badge",
        "campaign",
        "advertiser",
        "moderation_reason",
        "moderated_by",
        "created_at",
    ]
    list_display_links = ["name"]
    list_filter = ["moderation_status", "kind", "campaign__advertiser"]
    search_fields = ["name", "campaign__name", "campaign__advertiser__company", "roblox_asset_id__exact"]
    autocomplete_fields = ["campaign"]
    readonly_fields = [
        "large_preview",
        "asset",
        "moderation_status",
        "moderation_reason",
        "moderated_by",
        "moderated_at",
        "roblox_review",
        "roblox_review_note",
        "roblox_checked_at",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["campaign", "name", "kind", "roblox_asset_id", "large_preview"]}),
        ("NPC", {"fields": ["npc_model_asset_id", "npc_dialogue"]}),
        ("Minigame", {"fields": ["minigame"]}),
        ("On click", {"fields": ["click_action"]}),
        ("Roblox", {"fields": ["roblox_placement_id", "roblox_review", "roblox_review_note", "roblox_checked_at"]}),
        (
            "Moderation",
            {
                "fields": [
                    "moderation_status",
                    "moderation_reason",
                    "moderated_by",
                    "moderated_at",
                    "decision",
                    "decision_reason",
                ]
            },
        ),
        ("Audit", {"fields": ["asset", "created_at", "updated_at"]}),
    ]
    actions = ["approve", "reject", "roblox_check", "roblox_record_approved"]
    service_error_fields = {
        "npc": "npc_model_asset_id",
        "npc.model_asset_id": "npc_model_asset_id",
        "npc.dialogue": "npc_dialogue",
        "status": "decision",
        "reason": "decision_reason",
    }

    def get_queryset(self, request):
        return selectors.moderation_queue().select_related("moderated_by")

    def get_ordering(self, request):
        # The queue's own order (pending first, then oldest); a column the user clicks still takes over.
        return list(selectors.moderation_queue().query.order_by)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))  # money as the site shows it (MoneyAdminMixin)
        return [*readonly, "campaign"] if obj is not None else readonly

    @admin.display(description="Preview")
    def preview(self, obj):
        return _thumbnail(obj)

    @admin.display(description="Preview")
    def large_preview(self, obj):
        return _thumbnail(obj, size=150) if obj is not None and obj.pk else "—"

    @admin.display(description="Moderation", ordering="moderation_status")
    def moderation_badge(self, obj):
        return _badge(obj.moderation_status, obj.get_moderation_status_display())

    @admin.display(description="Advertiser", ordering="campaign__advertiser__company")
    def advertiser(self, obj):
        return obj.campaign.advertiser

    def service_save(self, request, obj, form, change):
        cleaned = form.cleaned_data
        data: dict[str, Any] = {
            f: cleaned[f] for f in _changed(form, change, [*CREATIVE_CONTENT_FIELDS, "roblox_placement_id"])
        }
        if _changed(form, change, ["npc_model_asset_id", "npc_dialogue"]):
            data["npc"] = {"model_asset_id": cleaned.get("npc_model_asset_id"), "dialogue": cleaned.get("npc_dialogue")}
        if change:
            creative = services.creative_update(creative=obj, data=data) if data else obj
        else:
            creative = services.creative_create(campaign=cleaned["campaign"], data=data)
        if cleaned.get("decision"):
            creative = services.creative_moderate(
                creative=creative,
                status=cleaned["decision"],
                reason=cleaned.get("decision_reason", ""),
                by=request.user,
            )
        return creative

    @admin.action(description="Approve selected creatives", permissions=["change"])
    def approve(self, request, queryset):
        for creative in queryset:
            services.creative_moderate(creative=creative, status=ModerationStatus.APPROVED, by=request.user)
        self.message_user(request, f"{len(queryset)} creative(s) approved.", messages.SUCCESS)

    @admin.action(
        description="Check selected creatives with Roblox again (owner and moderation)", permissions=["change"]
    )
    def roblox_check(self, request, queryset):
        # Roblox is asked by a worker (never on the request path); the verdict shows on each creative.
        for creative in queryset:
            compliance.creative_roblox_check_queue(creative_id=creative.pk)
        self.message_user(request, f"{len(queryset)} creative(s) queued for a check with Roblox.", messages.SUCCESS)

    @admin.action(description="Record: Roblox approved them (as Ads Manager shows)", permissions=["change"])
    def roblox_record_approved(self, request, queryset):
        for creative in queryset:
            compliance.creative_roblox_review_record(
                creative=creative, review=RobloxReview.APPROVED, note="Seen approved in Ads Manager.", by=request.user
            )
        self.message_user(request, f"{len(queryset)} creative(s) recorded as approved by Roblox.", messages.SUCCESS)

    @admin.action(description="Reject selected creatives…", permissions=["change"])
    def reject(self, request, queryset):
        return reason_step(
            self,
            request,
            queryset,
            action="reject",
            title="Reject creatives",
            intro="The advertiser sees the reason next to each creative.",
            decide=lambda creative, reason: services.creative_moderate(
                creative=creative, status=ModerationStatus.REJECTED, reason=reason, by=request.user
            ),
            help_text="What the advertiser should change.",
        )


# --------------------------------------------------------------------------- ledger


@admin.register(LedgerEntry)
class LedgerEntryAdmin(MoneyAdminMixin, admin.ModelAdmin):
    """The money record is append-only: written by the charging code, never edited by hand."""

    list_display = ["created_at", "campaign", "kind", "amount", "decision_id", "note", "created_by"]
    list_filter = ["kind", ("campaign", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["campaign__name", "note", "decision_id__exact"]
    list_select_related = ["campaign", "created_by"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --------------------------------------------------------------------------- Roblox compliance and revenue share


class RevenueShareTierInline(admin.TabularInline):
    model = RevenueShareTier
    extra = 0
    can_delete = False  # a published tier is corrected, not deleted
    fields = ["code", "name", "cptv", "countries", "is_default"]


@admin.register(RevenueShareSchedule)
class RevenueShareScheduleAdmin(MoneyAdminMixin, admin.ModelAdmin):
    """Roblox's published revenue share, as data: a new table is a new schedule with its effective date."""

    list_display = ["name", "effective_from", "intro_days", "after_intro_cptv", "campaign_cap"]
    inlines = [RevenueShareTierInline]
    actions = ["reprice"]

    def has_delete_permission(self, request, obj=None):
        return False  # a schedule is history: a newer table is a new schedule with its own effective date

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The table changed: the visits already counted under it are priced again (through the service).
        from ads import revenue_share

        revenue_share.price_visits()

    @admin.action(description="Reprice the qualified visits of campaigns under these schedules", permissions=["change"])
    def reprice(self, request, queryset):
        from ads import revenue_share

        count = revenue_share.price_visits()
        self.message_user(request, f"{count} qualified visit(s) repriced.", messages.SUCCESS)


@admin.register(QualifiedVisit)
class QualifiedVisitAdmin(MoneyAdminMixin, admin.ModelAdmin):
    """Counted from the stored engagements (ads.revenue_share); read only."""

    list_display = ["engaged_at", "campaign", "game_id", "player_id", "session", "country", "tier", "cost"]
    list_filter = ["tier"]
    search_fields = ["player_id__exact", "session"]
    readonly_fields = [f.name for f in QualifiedVisit._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreativeUpload)
class CreativeUploadAdmin(admin.ModelAdmin):
    """Artwork uploads to Roblox (ads.compliance); read only, with a retry action."""

    list_display = ["name", "campaign", "game", "state", "roblox_asset_id", "error", "created_at"]
    list_filter = ["state"]
    exclude = ["content"]
    readonly_fields = [f.name for f in CreativeUpload._meta.fields if f.name != "content"]
    actions = ["process_now"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Send or poll selected uploads now", permissions=["change"])
    def process_now(self, request, queryset):
        for upload in queryset:
            compliance.creative_upload_queue(upload_id=upload.pk)
        self.message_user(request, f"{len(queryset)} upload(s) queued for Roblox.", messages.SUCCESS)
