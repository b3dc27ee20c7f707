"""Reads that cross relations, for the advertiser console, the API and staff."""

from __future__ import annotations

from django.db.models import Case, Count, Q, QuerySet, Value, When

from ads.models import Advertiser, Campaign, CampaignStatus, Creative, ModerationStatus


def advertiser_of(user) -> Advertiser | None:
    if not user.is_authenticated:
        return None
    return Advertiser.objects.filter(user=user).first()


def campaigns_visible_to(user) -> QuerySet[Campaign]:
    """Advertisers see their own campaigns; staff see all; everyone else none."""
    if not user.is_authenticated:
        return Campaign.objects.none()
    # game and creatives: the compliance checklist (serving_problems) reads them for every campaign.
    qs = Campaign.objects.select_related("advertiser", "advertiser__user", "game").prefetch_related("creatives")
    return qs if user.is_staff else qs.filter(advertiser__user=user)


def campaign_list(*, user, search: str = "", status: str = "") -> QuerySet[Campaign]:
    qs = campaigns_visible_to(user).annotate(
        creative_count=Count("creatives", distinct=True),
        approved_creative_count=Count(
            "creatives", filter=Q(creatives__moderation_status=ModerationStatus.APPROVED), distinct=True
        ),
    )
    if search:
        qs = qs.filter(Q(name__icontains=search.strip()) | Q(roblox_campaign_id__icontains=search.strip()))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def creatives_visible_to(user) -> QuerySet[Creative]:
    if not user.is_authenticated:
        return Creative.objects.none()
    qs = Creative.objects.select_related("campaign", "campaign__advertiser", "asset")
    return qs if user.is_staff else qs.filter(campaign__advertiser__user=user)


def creatives_of(campaign: Campaign) -> QuerySet[Creative]:
    return campaign.creatives.select_related("asset", "moderated_by").order_by("-created_at", "-id")


def moderation_queue() -> QuerySet[Creative]:
    """Pending creatives first, oldest first: what staff review next."""
    pending_first = Case(When(moderation_status=ModerationStatus.PENDING, then=Value(0)), default=Value(1))
    return (
        Creative.objects.select_related("campaign__advertiser", "asset")
        .annotate(_queue=pending_first)
        .order_by("_queue", "created_at", "id")
    )


def campaigns_registered_for(game) -> QuerySet[Campaign]:
    """The campaigns registered in Ads Manager for ``game`` (its owner's view), with their creatives."""
    return (
        Campaign.objects.filter(game=game)
        .exclude(status=CampaignStatus.ARCHIVED)
        .select_related("advertiser", "game")
        .prefetch_related("creatives")
        .order_by("-start_at", "-id")
    )
