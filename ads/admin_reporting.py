"""Django admin for the hourly performance figures (read-only): staff filter and sort them there.

Imported from ``AdsConfig.ready()`` so it stays apart from ``ads/admin.py``.
"""

from __future__ import annotations

from django.contrib import admin

from ads.models import AdPerformance


@admin.register(AdPerformance)
class AdPerformanceAdmin(admin.ModelAdmin):
    list_display = (
        "hour",
        "campaign",
        "creative",
        "game",
        "container",
        "country",
        "device",
        "decisions",
        "fills_paid",
        "fills_house",
        "fill_rate",
        "impressions",
        "viewable_impressions",
        "viewable_rate",
        "clicks",
        "ctr",
        "interactions",
        "conversions",
        "invalid_events",
        "spend",
        "ecpm",
    )
    list_filter = (
        ("hour", admin.DateFieldListFilter),
        ("campaign", admin.RelatedOnlyFieldListFilter),
        ("game", admin.RelatedOnlyFieldListFilter),
        "device",
        "country",
    )
    list_select_related = ("campaign", "creative", "game", "container")
    date_hierarchy = "hour"
    search_fields = ("campaign__name", "game__name", "container__name", "creative__name")
    ordering = ("-hour", "-spend")
    list_per_page = 100
    show_full_result_count = False  # the table grows by the hour: no COUNT(*) of all of it

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="fill rate")
    def fill_rate(self, obj: AdPerformance) -> str:
        return _percent(obj.fills_paid, obj.decisions)

    @admin.display(description="viewable")
    def viewable_rate(self, obj: AdPerformance) -> str:
        return _percent(obj.viewable_impressions, obj.impressions)

    @admin.display(description="CTR")
    def ctr(self, obj: AdPerformance) -> str:
        return _percent(obj.clicks, obj.impressions, 2)

    @admin.display(description="eCPM")
    def ecpm(self, obj: AdPerformance) -> str:
        return f"{obj.spend * 1000 / obj.impressions:.4f}" if obj.impressions else "—"


def _percent(part: int, whole: int, places: int = 1) -> str:
    return f"{part * 100 / whole:.{places}f}%" if whole else "—"
