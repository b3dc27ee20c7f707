from django.apps import AppConfig


class ToolsConfig(AppConfig):
    """Installed for its management commands: ``runplatform``, ``seed_demo``, ``simulate_game``."""

    name = "adplatform.tools"
    label = "tools"
    verbose_name = "Developer tools"
