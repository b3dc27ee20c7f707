from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "adplatform.core"
    label = "core"
    verbose_name = "Platform"

    def ready(self):
        from adplatform.core.api import schema  # noqa: F401  (registers OpenAPI extensions)
