"""``{% compliance_panel campaign %}``: the Roblox checklist and uploads of a campaign (campaign page)."""

from __future__ import annotations

from django import template

from ads.compliance import compliance_checklist

register = template.Library()


@register.inclusion_tag("ads/includes/compliance_panel.html", takes_context=True)
def compliance_panel(context, campaign):
    checklist = compliance_checklist(campaign)
    return {
        "campaign": campaign,
        "checklist": checklist,
        "serves": all(item.ok for item in checklist),
        "uploads": list(campaign.uploads.order_by("-created_at", "-id")[:10]),
        "finished": context.get("finished", False),
    }
