"""``X-API-Key`` authentication for game servers."""

from __future__ import annotations

from rest_framework import authentication, exceptions, permissions

from games import keycache
from games.keycache import ApiKeyInfo


class GameApiKeyAuthentication(authentication.BaseAuthentication):
    header = "X-API-Key"

    def authenticate(self, request):
        raw = request.headers.get(self.header, "")
        if not raw:
            raise exceptions.NotAuthenticated(f"Send the game's key in the {self.header} header.")
        info = keycache.lookup(raw.strip())
        if info is None:
            raise exceptions.AuthenticationFailed("Unknown or malformed API key.", code="api_key_invalid")
        if info.revoked:
            raise exceptions.AuthenticationFailed("This API key was revoked.", code="api_key_invalid")
        if not info.game_active:
            raise exceptions.AuthenticationFailed("This game is deactivated.", code="api_key_invalid")
        return info, info

    def authenticate_header(self, request):
        return self.header


class IsGameServer(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKeyInfo)
