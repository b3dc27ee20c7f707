import importlib
import json

from django.core.management.base import BaseCommand

# Each module's seed(context) runs in this order; later apps build on earlier ones.
DEMO_SEEDERS = ["adplatform.demo", "games.demo", "ads.demo", "scoreboard.demo", "integrations.demo"]

# The keys shared/API.md promises in the --json output, present even before an app fills them.
CONTRACT_KEYS = [
    "owner_token",
    "advertiser_token",
    "staff_token",
    "game_slug",
    "api_key",
    "signing_secret",
    "container_ids",
    "campaign_id",
]


class Command(BaseCommand):
    help = "Create (idempotently) demo users, tokens and whatever demo data each app provides."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the credentials as one JSON object.")

    def handle(self, *args, **options):
        context: dict = {}
        for module_name in DEMO_SEEDERS:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            module.seed(context)
        public = {key: context.get(key) for key in CONTRACT_KEYS}
        public.update({k: v for k, v in context.items() if not k.startswith("_") and k not in public})
        if options["json"]:
            self.stdout.write(_dumps(public))
            return
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Log in as {context['owner_username']}, {context['advertiser_username']} or")
        self.stdout.write(f"  {context['staff_username']} (staff) with the password {context['password']!r}.")
        for key in CONTRACT_KEYS:
            if public.get(key) is not None:
                self.stdout.write(f"  {key}: {public[key]}")


def _dumps(value) -> str:
    return json.dumps(value, indent=2, default=str)
