"""Demo advertiser for seed_demo: an ACTIVE campaign with an approved creative for each container type."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ads import compliance, services
from ads.models import Campaign, CampaignStatus, Creative, ModerationStatus, RobloxReview

CAMPAIGN_NAME = "Demo toy launch"
# Stand-ins for what Roblox Ads Manager issues when the owner registers the demo campaign.
DEMO_ROBLOX_CAMPAIGN_ID = "demo-ad-integration"
CREATIVES = [
    {"name": "Billboard: new toy", "kind": "DISPLAY", "roblox_asset_id": 1818,
     "click_action": {"type": "teleport", "place_id": 920587237}},
    {"name": "Sponsored shopkeeper", "kind": "NPC", "roblox_asset_id": 1819,
     "npc": {"model_asset_id": 1820, "dialogue": ["Hey there!", "Have you seen the new Demo Toy?"]}},
    {"name": "Toy dash", "kind": "MINIGAME", "roblox_asset_id": 1821,
     "minigame": {"template": "race", "duration_seconds": 60, "reward": {"type": "points", "amount": 100},
                  "branding": {"primary_color": "#1F6FEB"}}},
]  # fmt: skip


@transaction.atomic
def seed(context: dict) -> None:
    users = context["_users"]
    advertiser = services.advertiser_for_user(user=users["advertiser"])
    if advertiser.category != "toys" or advertiser.company != "Demo Brand":
        services.advertiser_update(advertiser=advertiser, company="Demo Brand", category="toys")
    if not advertiser.is_approved:
        services.advertiser_approve(advertiser=advertiser, by=users["staff"])

    campaign = Campaign.objects.filter(advertiser=advertiser, name=CAMPAIGN_NAME).first()
    now = timezone.now()
    if campaign is None:
        campaign = services.campaign_create(
            advertiser=advertiser,
            data={"name": CAMPAIGN_NAME, "pricing": "CPM", "max_bid": "4.00", "total_budget": "500.00",
                  "daily_budget": "50.00", "start_at": now - timedelta(hours=1), "end_at": now + timedelta(days=60),
                  "pacing": "EVEN", "frequency_cap": {"count": 20, "period_seconds": 3600}, "targeting": {}},
        )  # fmt: skip
    elif campaign.end_at <= now + timedelta(days=1):
        campaign = services.campaign_update(campaign=campaign, data={"end_at": now + timedelta(days=60)})
    game = context.get("_game")
    if campaign.roblox_campaign_id != DEMO_ROBLOX_CAMPAIGN_ID or (game is not None and campaign.game_id != game.pk):
        data = {"roblox_campaign_id": DEMO_ROBLOX_CAMPAIGN_ID, **({"game": game} if game is not None else {})}
        campaign = services.campaign_update(campaign=campaign, data=data)

    for n, spec in enumerate(CREATIVES, start=1):
        creative = Creative.objects.filter(campaign=campaign, name=spec["name"]).first()
        if creative is None:
            creative = services.creative_create(campaign=campaign, data=spec)
        if not creative.roblox_placement_id:
            creative = services.creative_update(creative=creative, data={"roblox_placement_id": f"demo-placement-{n}"})
        if creative.moderation_status != ModerationStatus.APPROVED:
            services.creative_moderate(creative=creative, status="APPROVED", by=users["staff"])
        if creative.roblox_review != RobloxReview.APPROVED:
            # The demo runs offline: staff record Roblox's verdict as Ads Manager would show it.
            compliance.creative_roblox_review_record(
                creative=creative, review=RobloxReview.APPROVED, note="Demo data (no Roblox call).", by=users["staff"]
            )

    if campaign.status != CampaignStatus.ACTIVE:
        campaign.refresh_from_db()
        if campaign.status == CampaignStatus.ARCHIVED:
            raise RuntimeError("the demo campaign was archived; delete it to seed a new one")
        services.campaign_activate(campaign=campaign)
    context["campaign_id"] = campaign.pk
    context["_campaign"] = campaign
