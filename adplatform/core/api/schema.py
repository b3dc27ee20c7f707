"""OpenAPI extensions so drf-spectacular documents our own authentication classes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class PersonalAccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "adplatform.accounts.authentication.PersonalAccessTokenAuthentication"
    name = "PersonalAccessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <personal access token>`, created on the account page.",
        }
