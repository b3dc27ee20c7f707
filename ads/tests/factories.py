from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from adplatform.accounts.tests.factories import ModelFactory, UserFactory
from ads.models import Advertiser, ApprovalState, Campaign, CampaignStatus, Creative, ModerationStatus, RobloxReview


class AdvertiserFactory(ModelFactory[Advertiser]):
    class Meta:
        model = Advertiser

    user = factory.SubFactory(UserFactory, role="ADVERTISER")
    company = factory.Sequence(lambda n: f"Brand {n}")
    category = "toys"
    approval = ApprovalState.APPROVED


class CampaignFactory(ModelFactory[Campaign]):
    class Meta:
        model = Campaign

    advertiser = factory.SubFactory(AdvertiserFactory)
    name = factory.Sequence(lambda n: f"Summer push {n}")
    status = CampaignStatus.DRAFT
    pricing = "CPM"
    max_bid = Decimal("5.000000")
    total_budget = Decimal("100.000000")
    start_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    end_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    # Registered in Roblox Ads Manager (ads.compliance): without it a campaign never serves.
    roblox_campaign_id = factory.Sequence(lambda n: f"rbx-adint-{n}")


class CreativeFactory(ModelFactory[Creative]):
    class Meta:
        model = Creative

    campaign = factory.SubFactory(CampaignFactory)
    name = factory.Sequence(lambda n: f"Banner {n}")
    kind = "DISPLAY"
    roblox_asset_id = factory.Sequence(lambda n: 5550000 + n)
    click_action = factory.LazyFunction(lambda: {"type": "none"})
    moderation_status = ModerationStatus.APPROVED
    # Ads Manager's placement id and Roblox's approval of the owner's asset: needed to serve.
    roblox_placement_id = factory.Sequence(lambda n: f"placement-{n}")
    roblox_review = RobloxReview.APPROVED
