from django.apps import AppConfig


class AdsConfig(AppConfig):
    name = "ads"
    verbose_name = "Ads"

    def ready(self) -> None:
        from ads import admin_reporting  # noqa: F401  (registers the AdPerformance admin)
