"""Everything under /api/v1/: each app adds its own ``api/urls.py`` here."""

from django.urls import include, path

from adplatform.accounts.api.views import MeView
from ads.api.decisions import DecisionBatchView, DecisionView
from ads.api.events import EventBatchView
from ads.api.report_views import CampaignReportView, GameReportView

urlpatterns = [
    # The game servers' hot paths first (decisions, events, score updates): each request walks the list in order.
    path("decisions", DecisionView.as_view(), name="decisions"),
    path("decisions/batch", DecisionBatchView.as_view(), name="decisions-batch"),  # sdk: one request per player
    path("events", EventBatchView.as_view(), name="events"),
    path("", include("scoreboard.api.urls")),
    path("me", MeView.as_view(), name="me"),
    path("manage/campaigns/<int:pk>/report/", CampaignReportView.as_view(), name="manage-campaign-report"),
    path("manage/games/<int:pk>/report/", GameReportView.as_view(), name="manage-game-report"),
    path("roblox/", include("integrations.api.urls")),
    path("", include("games.api.urls")),
    path("", include("ads.api.urls")),
]
