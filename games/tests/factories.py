from decimal import Decimal

import factory

from adplatform.accounts.tests.factories import ModelFactory, UserFactory
from games import services
from games.models import AdContainer, Asset, ContainerStatus, ContainerType, Game, Playlist


class GameFactory(ModelFactory[Game]):
    class Meta:
        model = Game

    owner = factory.SubFactory(UserFactory, role="OWNER")
    name = factory.Sequence(lambda n: f"Obby World {n}")
    slug = factory.Sequence(lambda n: f"obby-world-{n}")
    roblox_place_id = factory.Sequence(lambda n: 920587000 + n)
    roblox_universe_id = factory.Sequence(lambda n: 3300000 + n)


class AssetFactory(ModelFactory[Asset]):
    class Meta:
        model = Asset

    roblox_asset_id = factory.Sequence(lambda n: 1818000 + n)
    asset_type = "Image"
    name = factory.Sequence(lambda n: f"Poster {n}")
    moderation_state = "COMPLETED"


class PlaylistFactory(ModelFactory[Playlist]):
    class Meta:
        model = Playlist

    game = factory.SubFactory(GameFactory)
    name = factory.Sequence(lambda n: f"House ads {n}")
    container_type = ContainerType.DISPLAY


class AdContainerFactory(ModelFactory[AdContainer]):
    class Meta:
        model = AdContainer

    game = factory.SubFactory(GameFactory)
    name = factory.Sequence(lambda n: f"Lobby billboard {n}")
    type = ContainerType.DISPLAY
    status = ContainerStatus.ACTIVE
    placement = factory.Sequence(lambda n: f"lobby-billboard-{n}")
    width_studs = Decimal("16")
    height_studs = Decimal("9")
    floor_price_cpm = Decimal("1.000000")


def make_api_key(game: Game, name: str = "servers"):
    """A real key through the service: returns ``(key, raw_key, signing_secret)``."""
    return services.api_key_create(game=game, name=name)
