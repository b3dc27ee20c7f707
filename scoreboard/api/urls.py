"""The scoreboard part of /api/v1/: score tokens and updates, public leaderboards, action types."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from scoreboard.api import signing_views, views

router = SimpleRouter()
router.register(
    r"manage/games/(?P<game_pk>[0-9]+)/action-types", views.ActionTypeViewSet, basename="manage-action-type"
)

urlpatterns = [
    path("scores/tokens", views.ScoreTokenView.as_view(), name="scores-tokens"),
    path("scores/tokens/revoke", views.ScoreTokenRevokeView.as_view(), name="scores-tokens-revoke"),
    path("scores/update", views.ScoreUpdateView.as_view(), name="scores-update"),
    # per-server signing keys and batched updates (scoreboard/signing.py, scoreboard/batch.py)
    path("scores/signing-keys", signing_views.SigningKeyView.as_view(), name="scores-signing-keys"),
    path("scores/update/batch", signing_views.ScoreBatchView.as_view(), name="scores-update-batch"),
    path("leaderboards/<slug:game_slug>", views.LeaderboardView.as_view(), name="leaderboard"),
    path(
        "leaderboards/<slug:game_slug>/players/<int:player_id>",
        views.LeaderboardPlayerView.as_view(),
        name="leaderboard-player",
    ),
    *router.urls,
]
