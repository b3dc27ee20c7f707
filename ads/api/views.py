"""The advertisers' management API (``Authorization: Token``) and the staff moderation endpoint.

Each view validates input with a serializer, calls one service or selector
from ``ads`` and serializes the result. Advertisers see only their own
campaigns and creatives, staff see all; anything else is 404, never 403
(shared/API.md). The rules (budgets, schedules, targeting, activation,
moderation) are the services'; their refusals arrive as 400 with field details.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ads import selectors, services
from ads.api.serializers import (
    CampaignFilterSerializer,
    CampaignInputSerializer,
    CampaignSerializer,
    CampaignUpdateSerializer,
    CreativeInputSerializer,
    CreativeSerializer,
    ModerationInputSerializer,
)
from ads.models import Campaign, CampaignStatus, Creative

LIST_PARAMETERS = [
    OpenApiParameter("limit", OpenApiTypes.INT, description="Page size (default 50, at most 200)."),
    OpenApiParameter("cursor", OpenApiTypes.STR, description="The `next` or `previous` link's cursor."),
]
VALIDATION_400 = OpenApiResponse(description="`validation_error`: `details` maps fields to messages; nothing saved.")
NOT_FOUND_404 = OpenApiResponse(description="`not_found`: no such object, or one of another advertiser.")


class CanCreateCampaigns(permissions.BasePermission):
    """Advertisers create campaigns for themselves and staff for any advertiser; game owners do not."""

    message = "Only advertiser accounts create campaigns."

    def has_permission(self, request, view) -> bool:
        if getattr(view, "action", None) != "create":
            return True
        user = request.user
        return bool(user.is_staff or getattr(user, "is_advertiser", False))


class ModeratesCreatives(permissions.BasePermission):
    """Checked on a creative the caller can already see: its advertiser gets 403, others never reach here (404)."""

    message = "Only staff moderate creatives."

    def has_object_permission(self, request, view, obj) -> bool:
        return bool(request.user.is_staff)


# --------------------------------------------------------------------------- campaigns


@extend_schema_view(
    retrieve=extend_schema(
        operation_id="manage_campaigns_read",
        summary="A campaign",
        responses={200: CampaignSerializer, 404: NOT_FOUND_404},
    ),
)
@extend_schema(tags=["manage: campaigns"])
class CampaignViewSet(viewsets.GenericViewSet):
    """Advertisers manage their own campaigns; staff manage all. Another advertiser's campaign is 404."""

    serializer_class = CampaignSerializer
    queryset = Campaign.objects.none()  # the schema reads the model; requests use get_queryset
    permission_classes = [permissions.IsAuthenticated, CanCreateCampaigns]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Campaign.objects.none()
        return selectors.campaigns_visible_to(self.request.user)

    @extend_schema(
        operation_id="manage_campaigns_list",
        summary="Campaigns the caller may manage",
        description="Advertisers see their own campaigns, staff all, game owners none.",
        parameters=[
            *LIST_PARAMETERS,
            OpenApiParameter("status", OpenApiTypes.STR, enum=CampaignStatus.values),
            OpenApiParameter("search", OpenApiTypes.STR, description="Part of the name or the Roblox campaign id."),
        ],
        responses={200: CampaignSerializer(many=True), 400: VALIDATION_400},
    )
    def list(self, request, *args, **kwargs):
        filters = CampaignFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        campaigns = selectors.campaign_list(user=request.user, **filters.validated_data)
        page = self.paginate_queryset(campaigns)
        return self.get_paginated_response(CampaignSerializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(CampaignSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="manage_campaigns_create",
        summary="Create a campaign (a DRAFT)",
        description="Required: `name`, `max_bid`, `total_budget`, `start_at`, `end_at`. The campaign starts as a "
        'DRAFT; activate it with `PATCH {"status": "ACTIVE"}` once the advertiser is approved and a creative is.',
        request=CampaignInputSerializer,
        responses={
            201: CampaignSerializer,
            400: VALIDATION_400,
            403: OpenApiResponse(description="`permission_denied`: not an advertiser account."),
        },
    )
    def create(self, request, *args, **kwargs):
        serializer = CampaignInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        advertiser = data.pop("advertiser", None) or services.advertiser_for_user(user=request.user)
        campaign = services.campaign_create(advertiser=advertiser, data=data)
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="manage_campaigns_update",
        summary="Change, pause, resume, activate or archive a campaign",
        description="Send only the fields to change. `status`: `PAUSED` pauses, `ACTIVE` activates a draft or "
        "resumes a paused campaign (400 until the advertiser is approved, a creative is APPROVED, the budget is "
        "not spent and the schedule has not ended), `ARCHIVED` archives. Nothing is saved when any part is refused.",
        request=CampaignUpdateSerializer,
        responses={200: CampaignSerializer, 400: VALIDATION_400, 404: NOT_FOUND_404},
    )
    def partial_update(self, request, *args, **kwargs):
        campaign = self.get_object()
        serializer = CampaignUpdateSerializer(
            data=request.data, partial=True, context={"request": request, "campaign": campaign}
        )
        serializer.is_valid(raise_exception=True)
        campaign = services.campaign_update(campaign=campaign, data=dict(serializer.validated_data))
        return Response(CampaignSerializer(campaign).data)


CAMPAIGN_PK = OpenApiParameter("campaign_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The campaign's id.")


@extend_schema(tags=["manage: creatives"], parameters=[CAMPAIGN_PK])
class CampaignCreativeViewSet(viewsets.GenericViewSet):
    """The creatives of a campaign the caller can see; another advertiser's campaign is 404."""

    serializer_class = CreativeSerializer
    queryset = Creative.objects.none()
    http_method_names = ["get", "post", "head", "options"]

    def get_campaign(self) -> Campaign:
        if not hasattr(self, "_campaign"):
            visible = selectors.campaigns_visible_to(self.request.user)
            self._campaign = get_object_or_404(visible, pk=self.kwargs["campaign_pk"])
        return self._campaign

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Creative.objects.none()
        return selectors.creatives_of(self.get_campaign())

    @extend_schema(
        operation_id="manage_campaign_creatives_list",
        summary="The campaign's creatives",
        parameters=LIST_PARAMETERS,
        responses={200: CreativeSerializer(many=True), 404: NOT_FOUND_404},
    )
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CreativeSerializer(page, many=True).data)

    @extend_schema(
        operation_id="manage_campaign_creatives_create",
        summary="Add a creative to the campaign",
        description="The creative waits for staff review (`moderation.status` PENDING) before it can serve. "
        "`kind` is DISPLAY, NPC (needs `npc.model_asset_id` and dialogue) or MINIGAME (needs `minigame`).",
        request=CreativeInputSerializer,
        responses={201: CreativeSerializer, 400: VALIDATION_400, 404: NOT_FOUND_404},
    )
    def create(self, request, *args, **kwargs):
        campaign = self.get_campaign()
        serializer = CreativeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        creative = services.creative_create(campaign=campaign, data=dict(serializer.validated_data))
        return Response(CreativeSerializer(creative).data, status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------- creatives


@extend_schema(tags=["manage: creatives"])
class CreativeViewSet(viewsets.GenericViewSet):
    """One creative by id, and the staff moderation decision on it."""

    serializer_class = CreativeSerializer
    queryset = Creative.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Creative.objects.none()
        return selectors.creatives_visible_to(self.request.user)

    @extend_schema(
        operation_id="manage_creatives_read",
        summary="A creative",
        responses={200: CreativeSerializer, 404: NOT_FOUND_404},
    )
    def retrieve(self, request, *args, **kwargs):
        return Response(CreativeSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="manage_creatives_update",
        summary="Change a creative",
        description="Changing its content (kind, asset, NPC, minigame, click action) sends an approved or rejected "
        "creative back to review.",
        request=CreativeInputSerializer,
        responses={200: CreativeSerializer, 400: VALIDATION_400, 404: NOT_FOUND_404},
    )
    def partial_update(self, request, *args, **kwargs):
        creative = self.get_object()
        serializer = CreativeInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        creative = services.creative_update(creative=creative, data=dict(serializer.validated_data))
        return Response(CreativeSerializer(creative).data)

    @extend_schema(
        operation_id="manage_creatives_moderate",
        summary="Approve or reject a creative (staff only)",
        description="A rejection needs a `reason`, which the advertiser sees.",
        request=ModerationInputSerializer,
        responses={
            200: CreativeSerializer,
            400: VALIDATION_400,
            403: OpenApiResponse(description="`permission_denied`: only staff moderate."),
            404: NOT_FOUND_404,
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="moderation",
        permission_classes=[permissions.IsAuthenticated, ModeratesCreatives],
    )
    def moderation(self, request, *args, **kwargs):
        creative = self.get_object()  # 404 when unseen, then 403 for a non-staff caller
        serializer = ModerationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        creative = services.creative_moderate(creative=creative, by=request.user, **serializer.validated_data)
        return Response(CreativeSerializer(creative).data)
