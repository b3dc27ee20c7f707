"""Websocket routes of every app, gathered in one list for the ASGI router."""

from django.urls import path

from adplatform.project import consumers
from scoreboard.routing import websocket_urlpatterns as scoreboard_routes

websocket_urlpatterns = [
    path("ws/ping/", consumers.PingConsumer.as_asgi()),  # type: ignore[arg-type]  # a consumer, not an HTTP view
    *scoreboard_routes,
]
