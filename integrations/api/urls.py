"""/api/v1/roblox/...: cached reads of Roblox's public web APIs."""

from django.urls import path

from integrations.api import views

# Ids are matched as strings so that a malformed one is a 400 from the serializer, not a 404.
urlpatterns = [
    path("places/<str:place_id>/universe", views.PlaceUniverseView.as_view(), name="roblox-place-universe"),
    path("universes/<str:universe_id>", views.UniverseView.as_view(), name="roblox-universe"),
    path("assets/<str:asset_id>", views.AssetView.as_view(), name="roblox-asset"),
    path("thumbnails/games", views.GameIconsView.as_view(), name="roblox-game-icons"),
]
