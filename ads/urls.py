from django.urls import path

from ads import compliance_views, views

app_name = "ads"

urlpatterns = [
    path("", views.campaign_list, name="campaign-list"),
    path("new/", views.campaign_create, name="campaign-create"),
    path("profile/", views.profile, name="profile"),
    path("forecast/", views.reach_forecast, name="reach-forecast"),
    path("<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="campaign-edit"),
    path("<int:pk>/activate/", views.campaign_status, {"action": "activate"}, name="campaign-activate"),
    path("<int:pk>/submit/", views.campaign_status, {"action": "submit"}, name="campaign-submit"),
    path("<int:pk>/pause/", views.campaign_status, {"action": "pause"}, name="campaign-pause"),
    path("<int:pk>/resume/", views.campaign_status, {"action": "resume"}, name="campaign-resume"),
    path("<int:pk>/archive/", views.campaign_status, {"action": "archive"}, name="campaign-archive"),
    path("<int:pk>/creatives/new/", views.creative_create, name="creative-create"),
    path("<int:pk>/creatives/<int:creative_pk>/edit/", views.creative_edit, name="creative-edit"),
]

# Roblox compliance pages (ads.compliance_views).
urlpatterns += [
    path("<int:pk>/creatives/upload/", compliance_views.creative_upload, name="creative-upload"),
    path("games/<slug:slug>/integrations/", compliance_views.game_integrations, name="game-integrations"),
]
