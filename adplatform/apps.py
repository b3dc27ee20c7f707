from django.apps import AppConfig


class AdplatformConfig(AppConfig):
    name = "adplatform"
    verbose_name = "Platform"

    def ready(self):
        from adplatform.api import schema  # noqa: F401  (registers OpenAPI extensions)
