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
            _failed(request)
            raise exceptions.AuthenticationFailed("Unknown or malformed API key.", code="api_key_invalid")
        if info.revoked:
            _failed(request)
            raise exceptions.AuthenticationFailed("This API key was revoked.", code="api_key_invalid")
        if not info.game_active:
            raise exceptions.AuthenticationFailed("This game is deactivated.", code="api_key_invalid")
        return info, info

    def authenticate_header(self, request):
        return self.header


def _failed(request) -> None:
    """Count a bad key against the address once per request (the decisions fast path and DRF both look)."""
    from adplatform.core import auth_throttle

    django_request = getattr(request, "_request", request)
    locked = getattr(django_request, "_api_key_locked", None)
    if locked is not None:
        raise locked
    if not getattr(django_request, "_api_key_failure_counted", False):
        django_request._api_key_failure_counted = True
        try:
            auth_throttle.api_failure("api_key", django_request)
        except exceptions.Throttled as exc:  # the address is locked: 429, on whichever path answers
            django_request._api_key_locked = exc
            raise


class IsGameServer(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKeyInfo)
