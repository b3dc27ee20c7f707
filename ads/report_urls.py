"""The report pages under /reports/ (``reports:`` URL names)."""

from django.urls import path

from ads import report_views as views

app_name = "reports"

urlpatterns = [
    path("", views.reports_home, name="home"),
    path("campaigns/", views.campaigns_overview, name="campaigns"),
    path("campaigns/csv/", views.campaigns_overview_csv, name="campaigns-csv"),
    path("campaigns/<int:pk>/", views.campaign_report, name="campaign"),
    path("campaigns/<int:pk>/csv/", views.campaign_report_csv, name="campaign-csv"),
    path("campaigns/<int:pk>/live/", views.campaign_live, name="campaign-live"),
    path("campaigns/<int:pk>/invalid/", views.campaign_invalid, name="campaign-invalid"),
    path("earnings/", views.earnings_overview, name="earnings"),
    path("earnings/csv/", views.earnings_overview_csv, name="earnings-csv"),
    path("games/<int:pk>/", views.game_report, name="game"),
    path("games/<int:pk>/csv/", views.game_report_csv, name="game-csv"),
    path("games/<int:pk>/live/", views.game_live, name="game-live"),
    path("games/<int:pk>/invalid/", views.game_invalid, name="game-invalid"),
    path("platform/", views.platform_overview, name="platform"),
]
