"""``Authorization: Bearer <score token>`` for the score update endpoint."""

from __future__ import annotations

from rest_framework import authentication, permissions

from adplatform.core.api.client import client_ip as platform_client_ip
from scoreboard import services
from scoreboard.services import ScoreClaims


def client_ip(request) -> str | None:
    """The address bad score tokens are counted and blocked by: the client's, behind trusted proxies only."""
    return platform_client_ip(request) or None


class ScoreTokenAuthentication(authentication.BaseAuthentication):
    """A player's score token (HS256 JWT from ``POST /api/v1/scores/tokens``).

    Missing, malformed or badly signed tokens are 401 ``token_invalid`` (never
    anonymous access); expired ones 401 ``token_expired``. Revocation is
    checked by the update itself, in the same Redis round trip as the nonce.
    """

    def authenticate(self, request):
        claims = services.score_token_authenticate(
            authorization=request.headers.get("Authorization"), ip=client_ip(request)
        )
        return claims, claims

    def authenticate_header(self, request):
        return 'Bearer realm="scores"'


class HasScoreToken(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ScoreClaims)
