"""``/api/v1/manage/campaigns/{id}/uploads/``: artwork uploads for scripts, as the console's upload page.

The image is uploaded to Roblox as the game owner's asset (``ads.compliance``); the upload object says
where that stands and, once done, which creative it became.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import parsers, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ads import compliance, selectors
from ads.api.serializers import InputSerializer
from ads.api.views import CAMPAIGN_PK, NOT_FOUND_404, VALIDATION_400
from ads.models import CreativeUpload


class CreativeUploadSerializer(serializers.ModelSerializer):
    campaign = serializers.IntegerField(source="campaign_id", read_only=True)
    game = serializers.IntegerField(source="game_id", read_only=True)
    creative = serializers.IntegerField(source="creative_id", read_only=True, allow_null=True)

    class Meta:
        model = CreativeUpload
        fields = ["id", "campaign", "game", "name", "content_type", "size_bytes", "width", "height", "state",
                  "roblox_asset_id", "creative", "error", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields


class CreativeUploadInputSerializer(InputSerializer):
    name = serializers.CharField(max_length=200)
    image = serializers.FileField(help_text="PNG, JPEG or BMP (size and dimension limits: see the console).")


@extend_schema(tags=["manage: creatives"], parameters=[CAMPAIGN_PK])
class CampaignUploadsView(APIView):
    # JSON too, so a JSON body gets the 400 that says the image must be a file (not a 415).
    parser_classes = [parsers.MultiPartParser, parsers.FormParser, parsers.JSONParser]

    def _campaign(self, request, campaign_pk: int):
        return get_object_or_404(selectors.campaigns_visible_to(request.user), pk=campaign_pk)

    @extend_schema(
        operation_id="manage_campaign_uploads_list",
        summary="The campaign's artwork uploads (newest first)",
        responses={200: inline_serializer("CreativeUploads", {"results": CreativeUploadSerializer(many=True)}),
                   404: NOT_FOUND_404},
    )  # fmt: skip
    def get(self, request, campaign_pk: int, version=None):
        campaign = self._campaign(request, campaign_pk)
        uploads = campaign.uploads.order_by("-created_at", "-id")[:200]
        return Response({"results": CreativeUploadSerializer(uploads, many=True).data})

    @extend_schema(
        operation_id="manage_campaign_uploads_create",
        summary="Hand in artwork: uploaded to Roblox as the game owner's asset, then a creative",
        request={"multipart/form-data": CreativeUploadInputSerializer},
        responses={201: CreativeUploadSerializer, 400: VALIDATION_400, 404: NOT_FOUND_404},
    )
    def post(self, request, campaign_pk: int, version=None):
        campaign = self._campaign(request, campaign_pk)
        serializer = CreativeUploadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        image = serializer.validated_data["image"]
        upload = compliance.creative_upload_create(
            campaign=campaign,
            name=serializer.validated_data["name"],
            data=image.read(compliance.upload_limits()["max_bytes"] + 1),
            filename=image.name,
            by=request.user,
        )
        return Response(CreativeUploadSerializer(upload).data, status=status.HTTP_201_CREATED)
