"""The games part of /api/v1/: the game-server endpoints and ``manage/games/...``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from games.api import views

GAME = r"manage/games/(?P<game_pk>[0-9]+)"

router = SimpleRouter()
router.register(r"manage/games", views.GameViewSet, basename="manage-game")
router.register(rf"{GAME}/containers", views.ContainerViewSet, basename="manage-container")
router.register(rf"{GAME}/api-keys", views.ApiKeyViewSet, basename="manage-api-key")
router.register(rf"{GAME}/playlists", views.PlaylistViewSet, basename="manage-playlist")

urlpatterns = [
    path("game", views.GameServerGameView.as_view(), name="game-server-game"),
    path("containers", views.GameServerContainerListView.as_view(), name="game-server-containers"),
    path("containers/<int:id>", views.GameServerContainerDetailView.as_view(), name="game-server-container"),
    *router.urls,
]
