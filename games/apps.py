from django.apps import AppConfig


class GamesConfig(AppConfig):
    name = "games"
    verbose_name = "Games"

    def ready(self):
        from adplatform.core.serving import serving_version_bumped
        from games import keycache, messaging, services, tasks  # noqa: F401  (tasks: registered for games.jobs)
        from games.api import schema  # noqa: F401  (documents the X-API-Key scheme in OpenAPI)

        # The hooks through which lower modules reach higher ones without importing them.
        serving_version_bumped.connect(messaging.on_serving_version_bumped, dispatch_uid="games.messaging")
        keycache.set_use_recorder(lambda key_id: services.api_key_touch(key_id=key_id))
