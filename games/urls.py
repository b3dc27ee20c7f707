from django.urls import path

from games import compliance_views, views

app_name = "games"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("add/", views.game_add, name="add"),
    path("<slug:slug>/", views.game_detail, name="detail"),
    path("<slug:slug>/edit/", views.game_edit, name="edit"),
    path("<slug:slug>/delete/", views.game_delete, name="delete"),
    path("<slug:slug>/sync/", views.game_sync, name="sync"),
    path("<slug:slug>/containers/add/", views.container_add, name="container-add"),
    path("<slug:slug>/containers/<int:pk>/edit/", views.container_edit, name="container-edit"),
    path("<slug:slug>/containers/<int:pk>/status/", views.container_status, name="container-status"),
    path("<slug:slug>/containers/<int:pk>/delete/", views.container_delete, name="container-delete"),
    path("<slug:slug>/playlists/add/", views.playlist_add, name="playlist-add"),
    path("<slug:slug>/playlists/<int:pk>/edit/", views.playlist_edit, name="playlist-edit"),
    path("<slug:slug>/playlists/<int:pk>/delete/", views.playlist_delete, name="playlist-delete"),
    path("<slug:slug>/keys/add/", views.api_key_add, name="key-add"),
    path("<slug:slug>/keys/<int:pk>/revoke/", views.api_key_revoke, name="key-revoke"),
]

# Roblox compliance: the owner's Open Cloud key (games.compliance_views).
urlpatterns += [
    path("<slug:slug>/open-cloud/", compliance_views.open_cloud_key, name="open-cloud"),
]
