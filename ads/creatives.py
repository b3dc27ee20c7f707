"""Creative content rules: NPC dialogue, the minigame configuration schema and click actions.

Minigame configuration (``MINIGAME_SCHEMA``), a JSON object:

``template``        one of ``obby``, ``race``, ``collect``, ``quiz`` (required)
``duration_seconds`` 10 to 600 (required)
``reward``          ``{"type": "none"}`` | ``{"type": "badge", "badge_id": N}`` |
                    ``{"type": "points", "amount": 1..100000}`` (required)
``branding``        optional ``{"primary_color": "#RRGGBB", "logo_asset_id": N}``
``questions``       ``quiz`` only, 1 to 20 of ``{"prompt": str, "choices": [2..6 str], "answer": index}``
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

from ads.models import ClickAction

MAX_DIALOGUE_LINES = 20
MAX_DIALOGUE_LINE = 200
MINIGAME_TEMPLATES = ("obby", "race", "collect", "quiz")
PURCHASE_TYPES = ("gamepass", "developer_product", "asset")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")

MINIGAME_SCHEMA = {
    "type": "object",
    "required": ["template", "duration_seconds", "reward"],
    "properties": {
        "template": {"enum": list(MINIGAME_TEMPLATES)},
        "duration_seconds": {"type": "integer", "minimum": 10, "maximum": 600},
        "reward": {"type": "object"},
        "branding": {"type": "object"},
        "questions": {"type": "array", "maxItems": 20},
    },
}


def _positive_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def clean_dialogue(raw: Any) -> list[str]:
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        raw = raw.splitlines()
    if not isinstance(raw, list):
        raise ValidationError({"npc.dialogue": "A list of lines."})
    lines = [str(line).strip() for line in raw if str(line).strip()]
    if len(lines) > MAX_DIALOGUE_LINES:
        raise ValidationError({"npc.dialogue": f"At most {MAX_DIALOGUE_LINES} lines."})
    long = [i + 1 for i, line in enumerate(lines) if len(line) > MAX_DIALOGUE_LINE]
    if long:
        raise ValidationError({"npc.dialogue": f"Lines {long} are longer than {MAX_DIALOGUE_LINE} characters."})
    return lines


def clean_minigame(raw: Any) -> dict:
    """Validate a minigame configuration against ``MINIGAME_SCHEMA``; return it normalised."""
    if raw in (None, "", []):
        raise ValidationError({"minigame": "A minigame creative needs a configuration."})
    if not isinstance(raw, dict):
        raise ValidationError({"minigame": "Must be an object."})
    errors: dict[str, str] = {}
    unknown = set(raw) - set(MINIGAME_SCHEMA["properties"])
    if unknown:
        errors["minigame"] = f"Unknown keys: {', '.join(sorted(unknown))}."
    template = raw.get("template")
    if template not in MINIGAME_TEMPLATES:
        errors["minigame.template"] = f"One of {', '.join(MINIGAME_TEMPLATES)}."
    duration = raw.get("duration_seconds")
    if not (isinstance(duration, int) and not isinstance(duration, bool) and 10 <= duration <= 600):
        errors["minigame.duration_seconds"] = "A whole number of seconds from 10 to 600."
    reward = raw.get("reward")
    if not isinstance(reward, dict) or reward.get("type") not in ("none", "badge", "points"):
        errors["minigame.reward"] = 'An object with "type": "none", "badge" or "points".'
    elif reward["type"] == "badge" and not _positive_id(reward.get("badge_id")):
        errors["minigame.reward"] = "A badge reward needs a positive badge_id."
    elif reward["type"] == "points" and not (_positive_id(reward.get("amount")) and reward["amount"] <= 100_000):
        errors["minigame.reward"] = "A points reward needs an amount from 1 to 100000."
    branding = raw.get("branding")
    if branding is not None:
        if not isinstance(branding, dict) or set(branding) - {"primary_color", "logo_asset_id"}:
            errors["minigame.branding"] = "Only primary_color and logo_asset_id."
        elif "primary_color" in branding and not _COLOR.match(str(branding["primary_color"])):
            errors["minigame.branding"] = "primary_color is a #RRGGBB colour."
        elif "logo_asset_id" in branding and not _positive_id(branding["logo_asset_id"]):
            errors["minigame.branding"] = "logo_asset_id is a positive asset id."
    questions = raw.get("questions")
    if template == "quiz":
        if not isinstance(questions, list) or not 1 <= len(questions) <= 20:
            errors["minigame.questions"] = "A quiz has 1 to 20 questions."
        else:
            for n, question in enumerate(questions, start=1):
                ok = (
                    isinstance(question, dict)
                    and isinstance(question.get("prompt"), str)
                    and question["prompt"].strip()
                    and isinstance(question.get("choices"), list)
                    and 2 <= len(question["choices"]) <= 6
                    and all(isinstance(c, str) and c.strip() for c in question["choices"])
                    and isinstance(question.get("answer"), int)
                    and 0 <= question["answer"] < len(question["choices"])
                )
                if not ok:
                    errors["minigame.questions"] = f"Question {n} needs a prompt, 2-6 choices and a valid answer index."
                    break
    elif questions is not None:
        errors["minigame.questions"] = "Only a quiz has questions."
    if errors:
        raise ValidationError(errors)
    return raw


def clean_click_action(raw: Any) -> dict:
    if raw in (None, "", []):
        return {"type": ClickAction.NONE}
    if not isinstance(raw, dict):
        raise ValidationError({"click_action": "Must be an object."})
    kind = raw.get("type")
    if kind == ClickAction.NONE:
        return {"type": ClickAction.NONE}
    if kind == ClickAction.TELEPORT:
        if not _positive_id(raw.get("place_id")):
            raise ValidationError({"click_action": "A teleport needs a positive place_id."})
        return {"type": ClickAction.TELEPORT, "place_id": raw["place_id"]}
    if kind == ClickAction.PURCHASE:
        if raw.get("product_type") not in PURCHASE_TYPES or not _positive_id(raw.get("product_id")):
            raise ValidationError(
                {"click_action": f"A purchase needs product_type ({', '.join(PURCHASE_TYPES)}) and a product_id."}
            )
        return {"type": ClickAction.PURCHASE, "product_type": raw["product_type"], "product_id": raw["product_id"]}
    raise ValidationError({"click_action": "type is one of none, teleport, purchase."})
