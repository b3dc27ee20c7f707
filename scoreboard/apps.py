from django.apps import AppConfig


class ScoreboardConfig(AppConfig):
    name = "scoreboard"
    verbose_name = "Scoreboard"

    def ready(self):
        from scoreboard import tasks  # noqa: F401  (registered for the name live_avatars queues by)
        from scoreboard.api import schema  # noqa: F401  (documents the score token scheme in OpenAPI)
