"""Rebuild the Redis leaderboards from PostgreSQL (all games, or one with --game)."""

from django.core.management.base import BaseCommand, CommandError

from games.models import Game
from scoreboard import services


class Command(BaseCommand):
    help = "Rebuild every game's leaderboard sorted set from PostgreSQL (or one game's with --game SLUG)."

    def add_arguments(self, parser):
        parser.add_argument("--game", metavar="SLUG", help="Only this game.")

    def handle(self, *args, **options):
        games = Game.objects.order_by("pk")
        if options["game"]:
            games = games.filter(slug=options["game"])
            if not games.exists():
                raise CommandError(f"No game with the slug {options['game']!r}.")
        for game in games:
            count = services.leaderboard_rebuild(game_id=game.pk, slug=game.slug, reason="command")
            if count is None:
                self.stdout.write(self.style.WARNING(f"{game.slug}: another rebuild is running; skipped."))
            else:
                self.stdout.write(f"{game.slug}: {count} players")
        self.stdout.write(self.style.SUCCESS("Leaderboards rebuilt."))
