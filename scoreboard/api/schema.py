"""OpenAPI extensions so drf-spectacular documents the score token (Bearer JWT) scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ScoreTokenScheme(OpenApiAuthenticationExtension):
    target_class = "scoreboard.api.authentication.ScoreTokenAuthentication"
    name = "ScoreToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "A player's score token from `POST /api/v1/scores/tokens` (HS256; claims `sub` = Roblox user id, "
                "`game`, `jti`, `exp`, at most 15 minutes). Every update also carries `X-Signature`: the hex "
                "HMAC-SHA256 of the raw request body, keyed with the signing secret of the game key that minted "
                "the token."
            ),
        }
