import contextlib
import importlib
import json
import logging
import sys

from django.core.management.base import BaseCommand

# Each module's seed(context) runs in this order; later apps build on earlier ones.
DEMO_SEEDERS = ["adplatform.tools.demo", "games.demo", "ads.demo", "scoreboard.demo", "integrations.demo"]

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
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print the credentials as one JSON object, and nothing else on stdout (log lines go to stderr).",
        )

    def handle(self, *args, **options):
        if options["json"]:
            # Everything but the JSON goes to stderr: log lines, and whatever prints to stdout while seeding
            # (the console email backend prints the notifications the demo's approvals send).
            with _logs_to_stderr(), contextlib.redirect_stdout(sys.stderr):
                public = seed()
            self.stdout.write(_dumps(public))
            return
        public = seed()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Log in as {public['owner_username']}, {public['advertiser_username']} or")
        self.stdout.write(f"  {public['staff_username']} (staff) with the password {public['password']!r}.")
        for key in CONTRACT_KEYS:
            if public.get(key) is not None:
                self.stdout.write(f"  {key}: {public[key]}")


def seed() -> dict:
    """Run every app's demo seeder; the public part of what they made (the ``--json`` object)."""
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
    return public


def banner(public: dict | None, url: str) -> str:
    """What ``make run`` prints last, once everything is up: where to go, who to log in as, the keys."""
    rule = "=" * 78
    lines = [rule, f"  The platform is running at {url}/   (Ctrl-C stops everything)"]
    if public:
        slug = public.get("game_slug")
        if slug:
            lines.append(f"  Live board     {url}/leaderboards/{slug}/   TV: {url}/leaderboards/{slug}/tv/")
        lines += [
            f"  API docs       {url}/api/docs/",
            "",
            f"  Log in as {public.get('owner_username')} (game owner), {public.get('advertiser_username')} "
            f"(advertiser) or {public.get('staff_username')} (staff)",
            f"  with the password {public.get('password')!r}.",
            "",
            "  API tokens (header  Authorization: Token <token>):",
        ]
        for role in ("owner", "advertiser", "staff"):
            if public.get(f"{role}_token"):
                lines.append(f"    {role:<11}{public[f'{role}_token']}")
        if public.get("api_key"):
            lines += [
                "  Demo game server key (header  X-API-Key) and its signing secret:",
                f"    {public['api_key']}",
                f"    {public.get('signing_secret')}",
            ]
    else:
        lines.append(f"  API docs       {url}/api/docs/")
    lines += [
        "",
        "  Logs: warnings and errors only. LOG_LEVEL=INFO and ACCESS_LOG_LEVEL=INFO show more.",
        rule,
    ]
    return "\n".join(lines)


@contextlib.contextmanager
def _logs_to_stderr():
    """Point every log handler that writes to stdout at stderr for a while: stdout carries only the JSON."""
    loggers = [logging.getLogger(), *logging.root.manager.loggerDict.values()]  # placeholders have no handlers
    moved = []
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):
            if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stdout, sys.__stdout__):
                moved.append((handler, handler.setStream(sys.stderr)))
    try:
        yield
    finally:
        for handler, stream in moved:
            handler.setStream(stream)


def _dumps(value) -> str:
    return json.dumps(value, indent=2, default=str)
