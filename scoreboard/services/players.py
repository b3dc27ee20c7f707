"""Players: created on their first token, banned and unbanned (the board follows after the commit)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from scoreboard.models import Player, Score
from scoreboard.services.rankings import _after_commit_board

logger = logging.getLogger(__name__)


def player_upsert(*, game_id: int, player_id: int, username: str = "") -> Player:
    """The game's player with this Roblox user id, created with an empty score when new."""
    player = Player.objects.filter(game_id=game_id, roblox_user_id=player_id).first()
    if player is None:
        with transaction.atomic():
            player, created = Player.objects.get_or_create(
                game_id=game_id, roblox_user_id=player_id, defaults={"username": username}
            )
            if created:
                Score.objects.create(player=player, game_id=game_id)
    if username and player.username != username:
        player.username = username
        player.save(update_fields=["username", "updated_at"])
    return player


@transaction.atomic
def player_ban(*, player: Player, reason: str = "", by=None) -> Player:
    """Ban a player: score updates are refused (403) and the player leaves the leaderboard."""
    now = timezone.now()
    Player.objects.filter(pk=player.pk).update(is_banned=True, banned_at=now, ban_reason=reason, updated_at=now)
    player.is_banned, player.banned_at, player.ban_reason = True, now, reason
    score = Score.objects.filter(player=player).first()
    _after_commit_board(player=player, score=score, op="d")
    logger.info("player banned", extra={"player_id": player.pk, "game_id": player.game_id, "by": _who(by)})
    return player


@transaction.atomic
def player_unban(*, player: Player, by=None) -> Player:
    """Lift a ban: the player's score (kept while banned) is back on the leaderboard."""
    now = timezone.now()
    Player.objects.filter(pk=player.pk).update(is_banned=False, banned_at=None, ban_reason="", updated_at=now)
    player.is_banned, player.banned_at, player.ban_reason = False, None, ""
    score = Score.objects.filter(player=player).first()
    if score is not None and score.reached_at is not None:
        _after_commit_board(player=player, score=score, op="p")
    logger.info("player unbanned", extra={"player_id": player.pk, "game_id": player.game_id, "by": _who(by)})
    return player


def _who(user) -> int | None:
    return getattr(user, "pk", None)
