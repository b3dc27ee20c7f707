"""The ads part of /api/v1/: ``manage/campaigns/...`` and ``manage/creatives/...``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from ads.api import compliance_views, views

router = SimpleRouter()
router.register(r"manage/campaigns", views.CampaignViewSet, basename="manage-campaign")
router.register(
    r"manage/campaigns/(?P<campaign_pk>[0-9]+)/creatives",
    views.CampaignCreativeViewSet,
    basename="manage-campaign-creative",
)
router.register(r"manage/creatives", views.CreativeViewSet, basename="manage-creative")

urlpatterns = [
    *router.urls,
    path(
        "manage/campaigns/<int:campaign_pk>/uploads/",
        compliance_views.CampaignUploadsView.as_view(),
        name="manage-campaign-uploads",
    ),
]
