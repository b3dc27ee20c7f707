from django.apps import AppConfig


class ScoreboardConfig(AppConfig):
    name = "scoreboard"
    verbose_name = "Scoreboard"

    def ready(self):
        from scoreboard.api import schema  # noqa: F401  (documents the score token scheme in OpenAPI)
