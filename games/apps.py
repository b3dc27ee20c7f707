from django.apps import AppConfig


class GamesConfig(AppConfig):
    name = "games"
    verbose_name = "Games"

    def ready(self):
        from games.api import schema  # noqa: F401  (documents the X-API-Key scheme in OpenAPI)
