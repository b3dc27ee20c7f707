from django.urls import re_path

from scoreboard.consumers import LeaderboardConsumer

websocket_urlpatterns = [
    re_path(r"^ws/leaderboards/(?P<slug>[-a-zA-Z0-9_]+)/$", LeaderboardConsumer.as_asgi()),
]
