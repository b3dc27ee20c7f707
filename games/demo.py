"""Demo game for seed_demo: one container of each type, a house playlist and an API key."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from games import services
from games.models import AdContainer, ContainerType, Game, GameApiKey, Playlist, PlaylistItem

DEMO_PLACE_ID = 920587237  # a public, well-known place id; synced from Roblox when reachable
DEMO_KEY_NAME = "seed_demo"

CONTAINERS = [
    {"name": "Lobby billboard", "type": ContainerType.DISPLAY, "placement": "lobby-billboard",
     "width_studs": Decimal("16"), "height_studs": Decimal("9"), "floor_price_cpm": Decimal("0.50")},
    {"name": "Shopkeeper NPC", "type": ContainerType.NPC, "placement": "shopkeeper-npc",
     "width_studs": Decimal("4"), "height_studs": Decimal("6"), "floor_price_cpm": Decimal("1.00")},
    {"name": "Sponsored obby", "type": ContainerType.MINIGAME, "placement": "sponsored-obby",
     "width_studs": Decimal("40"), "height_studs": Decimal("40"), "floor_price_cpm": Decimal("2.00")},
]  # fmt: skip
HOUSE_ASSETS = [(1818, 15), (1819, 10)]


@transaction.atomic
def seed(context: dict) -> None:
    owner = context["_users"]["owner"]
    game = Game.objects.filter(roblox_place_id=DEMO_PLACE_ID).first()
    if game is None:
        game = services.game_create(owner=owner, roblox_place_id=DEMO_PLACE_ID, name="Demo Obby")
        services.game_update(game=game, data={"description": "The demo game created by seed_demo."})

    playlist = Playlist.objects.filter(game=game, name="House ads").first()
    if playlist is None:
        playlist = services.playlist_create(game=game, name="House ads", container_type=ContainerType.DISPLAY)
    if not PlaylistItem.objects.filter(playlist=playlist).exists():
        services.playlist_set_items(
            playlist=playlist,
            items=[{"roblox_asset_id": asset_id, "display_seconds": secs} for asset_id, secs in HOUSE_ASSETS],
        )

    container_ids = []
    for spec in CONTAINERS:
        container = AdContainer.objects.filter(game=game, placement=spec["placement"]).first()
        if container is None:
            data = {**spec, "playlist": playlist if spec["type"] == ContainerType.DISPLAY else None}
            container = services.container_create(game=game, data=data, by=owner)
        container_ids.append(container.pk)

    # Keys are stored hashed: a re-run rotates the demo key so it can be printed again.
    for key in GameApiKey.objects.filter(game=game, name=DEMO_KEY_NAME, revoked_at__isnull=True):
        services.api_key_revoke(key=key)
    _, raw_key, secret = services.api_key_create(game=game, name=DEMO_KEY_NAME, by=owner)

    context.update(
        game_slug=game.slug,
        game_id=game.pk,
        api_key=raw_key,
        signing_secret=secret,
        container_ids=container_ids,
        _game=game,
        _containers=list(AdContainer.objects.filter(pk__in=container_ids).order_by("pk")),
    )
