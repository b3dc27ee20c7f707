"""OpenAPI extensions so drf-spectacular documents the game-server ``X-API-Key`` scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class GameApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "games.authentication.GameApiKeyAuthentication"
    name = "GameApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "A game's server key (`gk_...`), created by the game's owner and shown once.",
        }
