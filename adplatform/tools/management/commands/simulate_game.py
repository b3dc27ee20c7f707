from __future__ import annotations

import logging
import os
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from adplatform.tools.simulator import ROBLOX_REQUESTS_PER_MINUTE, SimConfig, Simulation, format_summary, regulars

ROSTER_FROM_BOARD = 40  # the game's best players come back to play
ROSTER_REGULARS = 12  # and so do these made-up regulars, whose scores add up run after run


def _default_base_url() -> str:
    """Where runplatform (`make run`) serves: its HOST and PORT, which it passes to the processes it starts."""
    host = os.environ.get("HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::", "[::]"):  # noqa: S104 - listening everywhere: call it on this machine
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{os.environ.get('PORT') or 8000}"


class Command(BaseCommand):
    help = (
        "Simulate Roblox game servers against the platform's real HTTP API: players joining and leaving, ad "
        "decisions, batched impressions/clicks/interactions, score tokens and signed score updates, each server "
        f"under Roblox's {ROBLOX_REQUESTS_PER_MINUTE} requests a minute."
    )

    def add_arguments(self, parser):
        parser.add_argument("--servers", type=int, default=2, help="Game servers (threads), default 2.")
        parser.add_argument("--players", type=int, default=8, help="Players per server, default 8.")
        parser.add_argument("--duration", type=float, default=60, help="Seconds to run; 0 runs until Ctrl-C.")
        parser.add_argument("--rate", type=float, default=1.0, help="Scale of activity (2 = twice as busy).")
        parser.add_argument(
            "--base-url",
            default=_default_base_url(),
            help="The platform's address (default http://$HOST:$PORT as `make run` serves it, or "
            "http://127.0.0.1:8000).",
        )
        parser.add_argument("--api-key", help="The game's API key (with --signing-secret).")
        parser.add_argument("--signing-secret", help="The key's signing secret.")
        parser.add_argument("--game", help="Game slug to create a fresh key for (default: the demo game).")
        parser.add_argument(
            "--request-budget",
            type=int,
            default=480,
            help=f"Requests a minute each server may make, at most {ROBLOX_REQUESTS_PER_MINUTE}.",
        )
        parser.add_argument("--batch-interval", type=float, default=2.0, help="Seconds between event batches.")
        parser.add_argument("--batch-size", type=int, default=100, help="Events that make a batch go at once.")
        parser.add_argument("--seed", type=int, help="Random seed, for a repeatable run.")
        parser.add_argument(
            "--returning",
            type=float,
            default=0.8,
            help="Share of joining players who are regulars coming back (the game's top players and a dozen "
            "simulated regulars), so scores build up and the board moves; 0 makes every player new. Default 0.8.",
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        if options["servers"] < 1 or options["players"] < 0 or options["rate"] <= 0 or options["duration"] < 0:
            raise CommandError("--servers must be >= 1, --players >= 0, --rate > 0 and --duration >= 0.")
        if not 1 <= options["request_budget"] <= ROBLOX_REQUESTS_PER_MINUTE:
            raise CommandError(f"--request-budget must be between 1 and {ROBLOX_REQUESTS_PER_MINUTE}.")
        if not 1 <= options["batch_size"] <= 500:
            raise CommandError("--batch-size must be between 1 and 500 (the API's largest batch).")
        if not 0 <= options["returning"] <= 1:
            raise CommandError("--returning must be between 0 and 1.")
        api_key, secret = options["api_key"], options["signing_secret"]
        if bool(api_key) != bool(secret):
            raise CommandError("Give both --api-key and --signing-secret, or neither.")
        game = None
        if not api_key:
            game, api_key, secret = self._fresh_key(options["game"])
        elif options["game"]:
            from games.models import Game

            game = Game.objects.filter(slug=options["game"]).first()
        config = SimConfig(
            base_url=options["base_url"].rstrip("/"),
            api_key=api_key,
            signing_secret=secret,
            servers=options["servers"],
            players=options["players"],
            duration=options["duration"],
            rate=options["rate"],
            request_budget=options["request_budget"],
            batch_interval=options["batch_interval"],
            batch_size=options["batch_size"],
            seed=options["seed"],
            roster=self._roster(game) if options["returning"] else [],
            returning=options["returning"],
        )
        if not logging.getLogger().handlers and not logging.getLogger("adplatform").handlers:
            logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
        # The wrapped stream itself: django-stubs types OutputWrapper's attributes as its __getattr__'s callables.
        simulation = Simulation(config, out=self.stdout._out, quiet=options["verbosity"] < 1)  # type: ignore[arg-type]
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"Simulating {config.servers} server(s) x {config.players} player(s) against {config.base_url} "
                + (f"for {config.duration:g} s" if config.duration else "until Ctrl-C")
                + "..."
            )
            self.stdout.flush()
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, lambda *_: simulation.stop())
        try:
            result = simulation.run()
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        self.stdout.write(format_summary(result, config))
        return None

    @staticmethod
    def _roster(game) -> list[tuple[int, str]]:
        """The players who come back: the game's best (its leaderboard) and the simulator's regulars."""
        players: list[tuple[int, str]] = []
        if game is not None:
            from scoreboard.services import leaderboard_top

            board = leaderboard_top(game.slug, ROSTER_FROM_BOARD)
            players = [(e.player_id, e.username or f"Player{e.player_id}") for e in (board.entries if board else [])]
        return players + regulars(ROSTER_REGULARS)

    def _fresh_key(self, slug: str | None):
        from games.demo import DEMO_PLACE_ID
        from games.models import Game
        from games.services import api_key_create

        games = Game.objects.all()
        game = games.filter(slug=slug).first() if slug else games.filter(roblox_place_id=DEMO_PLACE_ID).first()
        if game is None:
            hint = f"No game with the slug {slug!r}." if slug else "No demo game: run `python manage.py seed_demo`."
            raise CommandError(hint)
        _, raw, secret = api_key_create(game=game, name="simulate_game")
        if self.verbosity >= 1:
            self.stdout.write(f"Created API key {raw[:10]}... for {game.slug} (name 'simulate_game').")
        return game, raw, secret
