"""Action types: what a game server may credit, and the in-process cache the update path reads them from."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from adplatform.core.localcache import TTLCache
from games.models import Game
from scoreboard.models import ActionType

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionRule:
    """An action type as the update path reads it (cached in process per game)."""

    id: int
    key: str
    base_score: int
    cooldown_seconds: int
    max_per_hour: int | None
    is_active: bool
    streak_window: int | None = None
    streak_step_percent: int = 0
    streak_max_percent: int = 100

    @classmethod
    def of(cls, action_type: ActionType) -> ActionRule:
        streak = (action_type.rules or {}).get("streak") or {}
        return cls(
            id=action_type.pk,
            key=action_type.key,
            base_score=action_type.base_score,
            cooldown_seconds=action_type.cooldown_seconds,
            max_per_hour=action_type.max_per_hour,
            is_active=action_type.is_active,
            streak_window=streak.get("window_seconds"),
            streak_step_percent=streak.get("step_percent", 0),
            streak_max_percent=streak.get("max_percent", 100),
        )

    @property
    def reads_history(self) -> bool:
        return bool(self.cooldown_seconds or self.max_per_hour or self.streak_window)


_action_rules: TTLCache[dict[str, ActionRule]] = TTLCache(ttl=getattr(settings, "SCORE_ACTION_TYPE_CACHE_SECONDS", 5.0))


def action_rules(game_id: int) -> dict[str, ActionRule]:
    """The game's action types by key (active or not), from the in-process cache."""
    return _action_rules.get_or_load(
        game_id, lambda: {a.key: ActionRule.of(a) for a in ActionType.objects.filter(game_id=game_id)}
    )


ACTION_TYPE_FIELDS = {"key", "name", "base_score", "cooldown_seconds", "max_per_hour", "is_active", "rules"}


_STREAK_LIMITS = {"window_seconds": (1, 604800), "step_percent": (0, 1000), "max_percent": (100, 1000)}


def action_type_rules_clean(rules: Any) -> dict:
    """Validate the ``rules`` object (schema in :class:`scoreboard.models.ActionType`); return it normalised."""
    if rules in (None, ""):
        return {}
    if not isinstance(rules, dict):
        raise ValidationError({"rules": 'A JSON object, such as {"streak": {"window_seconds": 86400, ...}}.'})
    unknown = set(rules) - {"streak"}
    if unknown:
        raise ValidationError({"rules": f"Unknown rules: {', '.join(sorted(unknown))} (known: streak)."})
    cleaned: dict = {}
    streak = rules.get("streak")
    if streak is not None:
        if not isinstance(streak, dict) or set(streak) - set(_STREAK_LIMITS) or "window_seconds" not in streak:
            raise ValidationError(
                {"rules": 'streak is {"window_seconds": int, "step_percent": int, "max_percent": int}.'}
            )
        values = {"step_percent": 10, "max_percent": 200, **streak}
        for name, (low, high) in _STREAK_LIMITS.items():
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValidationError({"rules": f"streak.{name} must be a whole number from {low} to {high}."})
        cleaned["streak"] = values
    return cleaned


def _action_type_save(action_type: ActionType) -> ActionType:
    action_type.rules = action_type_rules_clean(action_type.rules)
    action_type.full_clean()
    try:
        with transaction.atomic():
            action_type.save()
    except IntegrityError as exc:
        raise ValidationError({"key": "The game already has an action type with this key."}) from exc
    game_id = action_type.game_id
    transaction.on_commit(lambda: _action_rules.invalidate(game_id))
    return action_type


@transaction.atomic
def action_type_create(*, game: Game, data: dict[str, Any]) -> ActionType:
    """Add an action type to a game; game servers can credit it at once (other processes within 5 s)."""
    unknown = set(data) - ACTION_TYPE_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "Unknown field."))
    if ActionType.objects.filter(game=game, key=data.get("key")).exists():
        raise ValidationError({"key": "The game already has an action type with this key."})
    action_type = _action_type_save(ActionType(game=game, **data))
    logger.info("action type created", extra={"game_id": game.pk, "action_type": action_type.key})
    return action_type


@transaction.atomic
def action_type_update(*, action_type: ActionType, data: dict[str, Any]) -> ActionType:
    """Change an action type. The key is what game scripts send, so it never changes."""
    unknown = set(data) - ACTION_TYPE_FIELDS
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "Unknown field."))
    if "key" in data and data["key"] != action_type.key:
        raise ValidationError({"key": "The key cannot change (game scripts send it); add a new action type."})
    for field, value in data.items():
        setattr(action_type, field, value)
    action_type = _action_type_save(action_type)
    logger.info("action type updated", extra={"game_id": action_type.game_id, "action_type": action_type.key})
    return action_type
