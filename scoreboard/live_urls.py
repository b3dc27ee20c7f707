from django.urls import path

from scoreboard import live_views

app_name = "live"

urlpatterns = [
    path("", live_views.board_index, name="index"),
    path("<slug:slug>/", live_views.board_live, name="board"),
    path("<slug:slug>/tv/", live_views.board_tv, name="tv"),
    path("<slug:slug>/overlay/", live_views.board_overlay, name="overlay"),
]
