from django.core.management.base import BaseCommand

from ads.budget import budget_rebuild


class Command(BaseCommand):
    help = "Rebuild the Redis budget state of campaigns from the PostgreSQL ledger and open reservations."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, action="append", help="Only these campaign ids (repeatable).")
        parser.add_argument(
            "--all", action="store_true", help="Rebuild even campaigns whose state is present (after a Redis restore)."
        )

    def handle(self, *args, **options):
        rebuilt = budget_rebuild(campaign_ids=options["campaign"], only_missing=not options["all"])
        self.stdout.write(f"Rebuilt {len(rebuilt)} campaign(s): {', '.join(map(str, rebuilt)) or '-'}")
