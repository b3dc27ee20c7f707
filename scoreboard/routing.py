from django.urls import re_path

from scoreboard.consumers import LeaderboardConsumer

websocket_urlpatterns = [
    # A Channels consumer: django-stubs' re_path() knows only HTTP views.
    re_path(r"^ws/leaderboards/(?P<slug>[-a-zA-Z0-9_]+)/$", LeaderboardConsumer.as_asgi()),  # type: ignore[arg-type]
]
