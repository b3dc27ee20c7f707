"""Forms of the advertiser console. They check the shape of the input and build the
dicts the services in ``ads.services`` take; the services own every business rule
and raise field errors that the views put back on these forms
(``adplatform.core.forms.apply_validation_error`` with each form's ``field_map``)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from adplatform.core.countries import COUNTRY_NAMES
from ads.countries import COUNTRY_CODES
from ads.creatives import MINIGAME_TEMPLATES, PURCHASE_TYPES
from ads.models import Campaign, ClickAction, Creative, Device, Pacing, Pricing
from ads.targeting import TARGETING_KEYS
from games.models import AdCategory, ContainerType, Game

COUNTRY_CHOICES = sorted(((code, f"{COUNTRY_NAMES.get(code, code)} ({code})") for code in COUNTRY_CODES),
                         key=lambda choice: choice[1])  # fmt: skip

DAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
HOURS = [(hour, f"{hour:02d}") for hour in range(24)]
PERIOD_UNITS = [(1, "seconds"), (60, "minutes"), (3600, "hours"), (86400, "days")]
REWARD_TYPES = [("none", "No reward"), ("points", "Points"), ("badge", "A Roblox badge")]
_PURCHASE_LABELS = {"gamepass": "Game pass", "developer_product": "Developer product", "asset": "Asset"}
PURCHASE_CHOICES = [(kind, _PURCHASE_LABELS.get(kind, kind)) for kind in PURCHASE_TYPES]

ID_ERRORS = {"invalid": "A Roblox id is a whole number.", "min_value": "A Roblox id is positive."}
MAX_ID = 2**63 - 1
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def plain_decimal(value: Decimal | None) -> str:
    """``5.000000`` -> ``5``, ``2.500000`` -> ``2.5``: how people type amounts."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def join_ids(values: list | None) -> str:
    return ", ".join(str(value) for value in values or [])


def split_list(value: str) -> list[str]:
    """``"a, b,,c"`` or one per line -> ``["a", "b", "c"]``."""
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


def _id_field(label: str, *, required: bool = False, **kwargs) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=1,
        max_value=MAX_ID,
        error_messages=ID_ERRORS,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        **kwargs,
    )


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


class GamePickerWidget(forms.Widget):
    """A searchable list of the platform's games, by name and icon, that posts their ids.

    Without JavaScript it is a list of checkboxes; ``static/js/ads.js`` adds the filter box. It also
    accepts the old comma-separated form (``"12, 7"``), so scripts that post ids keep working.
    """

    # Drawn as a group of checkboxes: a fieldset and legend, errors linked to the first box.
    input_type = "checkbox"
    allow_multiple_selected = True

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.games: list[dict[str, Any]] = []

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name, "")]
        return ", ".join(str(v) for v in values if str(v).strip())

    def value_omitted_from_data(self, data, files, name):
        return False  # nothing ticked is a value: no restriction

    def render(self, name, value, attrs=None, renderer=None):
        from django.template.loader import render_to_string

        chosen = (
            {int(part) for part in split_list(str(value or "")) if part.isdigit()}
            if not isinstance(value, list)
            else {int(v) for v in value}
        )
        known = {game["id"] for game in self.games}
        games = [{**game, "checked": game["id"] in chosen} for game in self.games]
        games += [
            {"id": gid, "name": f"Game #{gid}", "icon_url": "", "checked": True} for gid in sorted(chosen - known)
        ]
        attrs = self.build_attrs(self.attrs, attrs)
        context = {
            "name": name,
            "games": games,
            "id": attrs.get("id", f"id_{name}"),
            "describedby": attrs.get("aria-describedby", ""),
            "invalid": attrs.get("aria-invalid", ""),
        }
        return render_to_string("ads/includes/game_picker.html", context)


class IdListField(forms.CharField):
    """Comma-separated positive whole numbers (game ids)."""

    def clean(self, value):
        value = super().clean(value)
        numbers = []
        for part in split_list(value or ""):
            if not part.isdigit() or int(part) <= 0:
                raise forms.ValidationError(f"“{part}” is not a game id; ids are positive whole numbers.")
            numbers.append(int(part))
        return numbers


PICKER_LIMIT = 500


def picker_games() -> list[dict[str, Any]]:
    """The active games advertisers may target, by name, for the game picker (one query)."""
    from django.db.models.functions import Lower

    from games.models import Game

    rows = Game.objects.filter(is_active=True).order_by(Lower("name"), "id").values("id", "name", "icon_url")
    return [dict(row) for row in rows[:PICKER_LIMIT]]


class AdvertiserProfileForm(forms.Form):
    company = forms.CharField(max_length=200, help_text="The brand players see; staff check it when approving.")
    category = forms.ChoiceField(
        choices=AdCategory.choices,
        help_text="Games may block categories, so tell the truth: a wrong category gets the account rejected.",
    )


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200)
    pricing = forms.ChoiceField(choices=Pricing.choices, initial=Pricing.CPM, widget=forms.RadioSelect)
    max_bid = forms.DecimalField(
        label="Maximum bid (USD)",
        min_value=Decimal("0.000001"),
        error_messages={"min_value": "Must be more than zero."},
        help_text="CPM: the most you pay for 1,000 viewable impressions. CPC: the most you pay for a click. "
        "You pay just above the runner-up, never more than this.",
        widget=forms.NumberInput(
            attrs={"autocomplete": "off", "placeholder": "4.50", "min": "0.000001", "step": "any"}
        ),
    )
    total_budget = forms.DecimalField(
        label="Total budget (USD)",
        min_value=Decimal("0.000001"),
        error_messages={"min_value": "Must be more than zero."},
        help_text="The most the campaign spends, ever.",
        widget=forms.NumberInput(attrs={"autocomplete": "off", "placeholder": "500", "min": "0.000001", "step": "any"}),
    )
    daily_budget = forms.DecimalField(
        label="Daily budget (USD)",
        required=False,
        min_value=Decimal("0.000001"),
        error_messages={"min_value": "Must be more than zero."},
        help_text="Resets at midnight UTC. Leave empty for no daily limit.",
        widget=forms.NumberInput(attrs={"autocomplete": "off", "min": "0.000001", "step": "any"}),
    )
    start_at = forms.DateTimeField(label="Start (UTC)", widget=DateTimeLocalInput())
    end_at = forms.DateTimeField(label="End (UTC)", widget=DateTimeLocalInput())
    pacing = forms.ChoiceField(choices=Pacing.choices, initial=Pacing.EVEN, widget=forms.RadioSelect)
    frequency_cap_count = forms.IntegerField(
        label="At most",
        required=False,
        min_value=1,
        max_value=10_000,
        widget=forms.NumberInput(attrs={"placeholder": "3", "min": "1", "max": "10000", "step": "1"}),
    )
    frequency_cap_period = forms.IntegerField(
        label="per",
        required=False,
        min_value=1,
        initial=1,
        widget=forms.NumberInput(attrs={"min": "1", "step": "1"}),
    )
    frequency_cap_unit = forms.TypedChoiceField(
        label="Unit", choices=PERIOD_UNITS, coerce=int, initial=86400, required=False
    )
    roblox_campaign_id = forms.CharField(
        label="Roblox ad-integration campaign id",
        max_length=64,
        required=False,
        help_text="From Roblox Ads Manager: Roblox requires ads in games to be registered there.",
    )
    game = forms.ModelChoiceField(
        label="Registered for game",
        queryset=Game.objects.filter(is_active=True).order_by("name", "id"),
        required=False,
        empty_label="Not registered yet",
        help_text="The game whose owner registered this campaign in Ads Manager: it serves only there, "
        "and its creatives must be that owner's assets.",
    )
    # Targeting: nothing chosen means no restriction.
    countries_included = forms.MultipleChoiceField(
        label="Only in these countries",
        choices=COUNTRY_CHOICES,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8, "data-country-select": ""}),
        help_text="None chosen: every country. Ctrl/⌘-click chooses several.",
    )
    countries_excluded = forms.MultipleChoiceField(
        label="Never in these countries",
        choices=COUNTRY_CHOICES,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8, "data-country-select": ""}),
    )
    devices = forms.MultipleChoiceField(
        choices=Device.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every device.",
    )
    container_types = forms.MultipleChoiceField(
        label="Ad formats",
        choices=ContainerType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every format your creatives fit.",
    )
    segments = forms.CharField(
        label="Player segments",
        required=False,
        max_length=2000,
        help_text="Comma-separated segment names the games report, e.g. <code>new-players, vip</code>.",
    )
    days_of_week = forms.TypedMultipleChoiceField(
        label="Days", choices=DAYS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    hours_utc = forms.TypedMultipleChoiceField(
        label="Hours (UTC)", choices=HOURS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    games_included = IdListField(
        label="Only in these games",
        required=False,
        max_length=2000,
        widget=GamePickerWidget,
        help_text="None ticked: every game. Type to find a game by name.",
    )
    games_excluded = IdListField(label="Never in these games", required=False, max_length=2000, widget=GamePickerWidget)

    # Service error keys -> form fields.
    field_map = {
        "frequency_cap": "frequency_cap_count",
        "frequency_cap.count": "frequency_cap_count",
        "frequency_cap.period_seconds": "frequency_cap_period",
        "targeting": "countries_included",
        **{f"targeting.{key}": key for key in TARGETING_KEYS},
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("days_of_week", "hours_utc"):
            # The hour grid draws its own labels; these name each box for screen readers.
            self.fields[name].widget.attrs["data-grid"] = name
        games = picker_games()
        for name in ("games_included", "games_excluded"):
            self.fields[name].widget.games = games
        zone = timezone.get_current_timezone_name()
        self.fields["start_at"].label = f"Start ({zone})"
        self.fields["end_at"].label = f"End ({zone})"

    @classmethod
    def initial_for(cls, campaign: Campaign) -> dict[str, Any]:
        targeting = campaign.targeting or {}
        initial: dict[str, Any] = {
            "name": campaign.name,
            "pricing": campaign.pricing,
            "max_bid": plain_decimal(campaign.max_bid),
            "total_budget": plain_decimal(campaign.total_budget),
            "daily_budget": plain_decimal(campaign.daily_budget),
            "start_at": campaign.start_at,
            "end_at": campaign.end_at,
            "pacing": campaign.pacing,
            "roblox_campaign_id": campaign.roblox_campaign_id,
            "game": campaign.game_id,
            "countries_included": targeting.get("countries_included", []),
            "countries_excluded": targeting.get("countries_excluded", []),
            "devices": targeting.get("devices", []),
            "container_types": targeting.get("container_types", []),
            "segments": ", ".join(targeting.get("segments", [])),
            "days_of_week": targeting.get("days_of_week", []),
            "hours_utc": targeting.get("hours_utc", []),
            "games_included": join_ids(targeting.get("games_included")),
            "games_excluded": join_ids(targeting.get("games_excluded")),
        }
        if campaign.frequency_cap_count:
            period = campaign.frequency_cap_period_seconds or 0
            unit = next(size for size, _ in reversed(PERIOD_UNITS) if period % size == 0)
            initial.update(frequency_cap_count=campaign.frequency_cap_count, frequency_cap_period=period // unit,
                           frequency_cap_unit=unit)  # fmt: skip
        return initial

    def clean(self):
        cleaned = super().clean() or self.cleaned_data  # Django's clean() returns cleaned_data
        count, period = cleaned.get("frequency_cap_count"), cleaned.get("frequency_cap_period")
        if count and not period and "frequency_cap_period" not in self.errors:
            self.add_error("frequency_cap_period", "Say over how long the cap counts, e.g. 1 day.")
        return cleaned

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        cap = None
        if data.get("frequency_cap_count") and data.get("frequency_cap_period"):
            unit = data.get("frequency_cap_unit") or 1
            cap = {"count": data["frequency_cap_count"], "period_seconds": data["frequency_cap_period"] * unit}
        targeting = {
            "countries_included": data["countries_included"],
            "countries_excluded": data["countries_excluded"],
            "devices": data["devices"],
            "segments": split_list(data["segments"]),
            "days_of_week": data["days_of_week"],
            "hours_utc": data["hours_utc"],
            "games_included": data["games_included"],
            "games_excluded": data["games_excluded"],
            "container_types": data["container_types"],
        }
        return {
            "name": data["name"],
            "pricing": data["pricing"],
            "max_bid": data["max_bid"],
            "total_budget": data["total_budget"],
            "daily_budget": data.get("daily_budget"),
            "start_at": data["start_at"],
            "end_at": data["end_at"],
            "pacing": data["pacing"],
            "frequency_cap": cap,
            "targeting": targeting,
            "roblox_campaign_id": data["roblox_campaign_id"],
            "game": data.get("game"),
        }

    TARGETING_FIELDS = ("countries_included", "countries_excluded", "devices", "segments", "days_of_week",
                        "hours_utc", "games_included", "games_excluded", "container_types")  # fmt: skip
    CAP_FIELDS = ("frequency_cap_count", "frequency_cap_period", "frequency_cap_unit")

    def partial_service_data(self) -> dict[str, Any]:
        """``service_data`` of the fields that passed the form's own checks (after ``is_valid()``), so the
        service can check the rest in the same submit (``ads.services.campaign_validate``)."""
        ok = {name for name in self.fields if name in self.cleaned_data and name not in self.errors}
        sources = {"frequency_cap": self.CAP_FIELDS, "targeting": self.TARGETING_FIELDS}
        complete = self.service_data_safe()
        return {key: value for key, value in complete.items() if set(sources.get(key, (key,))) <= ok}

    def service_data_safe(self) -> dict[str, Any]:
        """``service_data`` with the missing simple fields as ``None`` (their own errors are on the form)."""
        saved = self.cleaned_data
        self.cleaned_data = dict.fromkeys(self.fields) | {
            name: value for name, value in saved.items() if value is not None
        }
        for name in self.TARGETING_FIELDS:
            self.cleaned_data.setdefault(name, "" if name == "segments" else [])
            if self.cleaned_data[name] is None:
                self.cleaned_data[name] = "" if name == "segments" else []
        try:
            return self.service_data()
        finally:
            self.cleaned_data = saved

    def schedule_grid(self) -> dict[str, Any]:
        """The day x hour grid: the checkboxes, and which cells are on (no box ticked = every day/hour)."""

        def chosen(name: str) -> set[int]:
            values = self[name].value() or []
            out = set()
            for value in values:
                try:
                    out.add(int(value))
                except (TypeError, ValueError):
                    continue
            return out

        days, hours = chosen("days_of_week"), chosen("hours_utc")
        rows = []
        for day_widget, (day, _) in zip(self["days_of_week"], DAYS, strict=True):
            day_on = not days or day in days
            cells = [(hour, day_on and (not hours or hour in hours)) for hour in range(24)]
            rows.append({"widget": day_widget, "name": DAY_NAMES[day], "cells": cells})
        return {"hours": list(self["hours_utc"]), "rows": rows}


class CreativeForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(
        label="Format",
        choices=ContainerType.choices,
        initial=ContainerType.DISPLAY,
        widget=forms.Select(attrs={"data-kind-select": ""}),
        help_text="DISPLAY: an image on a billboard. NPC: a character that speaks for your brand. "
        "MINIGAME: a sponsored challenge.",
    )
    roblox_asset_id = _id_field(
        "Roblox asset id",
        required=True,
        help_text="The image (or decal, video) for a billboard; the model for an NPC or a minigame. "
        "Roblox moderates it; we show its thumbnail once Roblox has.",
    )
    roblox_placement_id = forms.CharField(
        label="Roblox placement id",
        max_length=64,
        required=False,
        help_text="From Ads Manager (Manage assets) once the owner added this asset to the campaign; "
        "the game wires the ad label's disclosure with it. Needed before the creative serves.",
    )
    npc_model_asset_id = _id_field("NPC model asset id", help_text="The character model the NPC wears.")
    npc_dialogue = forms.CharField(
        label="What the NPC says",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "data-dialogue-editor": ""}),
        help_text="One line per row, said in order (at most 20 lines of 200 characters).",
    )
    minigame_template = forms.ChoiceField(
        label="Template", choices=[("", "Choose a template")] + [(t, t.title()) for t in MINIGAME_TEMPLATES],
        required=False,
        widget=forms.Select(attrs={"data-template-select": ""}),
    )  # fmt: skip
    minigame_duration = forms.IntegerField(
        label="Duration (seconds)",
        required=False,
        initial=60,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text="From 10 to 600 seconds.",
    )
    reward_type = forms.ChoiceField(
        label="Reward", choices=REWARD_TYPES, initial="none", widget=forms.Select(attrs={"data-reward-select": ""})
    )
    reward_amount = forms.IntegerField(
        label="Points", required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"}), help_text="1 to 100000."
    )
    reward_badge_id = _id_field("Badge id")
    branding_color = forms.CharField(
        label="Brand colour",
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"placeholder": "#1F6FEB", "data-color-input": ""}),
        help_text="A #RRGGBB colour.",
    )
    branding_logo_asset_id = _id_field("Logo asset id")
    questions = forms.CharField(
        label="Quiz questions (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code-input"}),
        help_text="Quiz template only: a list of 1 to 20 questions, each "
        '<code>{"prompt": "…", "choices": ["…", "…"], "answer": 0}</code> '
        "with 2 to 6 choices; <code>answer</code> is the index of the right choice, from 0.",
    )
    click_type = forms.ChoiceField(
        label="When a player clicks",
        choices=ClickAction.choices,
        initial=ClickAction.NONE,
        widget=forms.Select(attrs={"data-click-select": ""}),
    )
    teleport_place_id = _id_field("Place id to teleport to")
    product_type = forms.ChoiceField(label="Product type", choices=PURCHASE_CHOICES, initial="gamepass")
    product_id = _id_field("Product id")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._questions: list | None = None

    @classmethod
    def initial_for(cls, creative: Creative) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": creative.name,
            "kind": creative.kind,
            "roblox_asset_id": creative.roblox_asset_id,
            "roblox_placement_id": creative.roblox_placement_id,
            "npc_model_asset_id": creative.npc_model_asset_id,
            "npc_dialogue": "\n".join(creative.npc_dialogue or []),
        }
        game = creative.minigame or {}
        if game:
            reward = game.get("reward") or {}
            branding = game.get("branding") or {}
            initial.update(
                minigame_template=game.get("template", ""),
                minigame_duration=game.get("duration_seconds"),
                reward_type=reward.get("type", "none"),
                reward_amount=reward.get("amount"),
                reward_badge_id=reward.get("badge_id"),
                branding_color=branding.get("primary_color", ""),
                branding_logo_asset_id=branding.get("logo_asset_id"),
                questions=json.dumps(game["questions"], indent=2) if "questions" in game else "",
            )
        action = creative.click_action or {}
        initial["click_type"] = action.get("type", ClickAction.NONE)
        if action.get("type") == ClickAction.TELEPORT:
            initial["teleport_place_id"] = action.get("place_id")
        elif action.get("type") == ClickAction.PURCHASE:
            initial.update(product_type=action.get("product_type"), product_id=action.get("product_id"))
        return initial

    def clean(self):
        cleaned = super().clean() or self.cleaned_data  # Django's clean() returns cleaned_data
        kind, template = cleaned.get("kind"), cleaned.get("minigame_template")
        text = (cleaned.get("questions") or "").strip()
        if kind == ContainerType.MINIGAME and template == "quiz" and text:
            try:
                self._questions = json.loads(text)
            except ValueError as exc:
                self.add_error("questions", f"This is not valid JSON: {exc}.")
        return cleaned

    @property
    def field_map(self) -> dict[str, str]:
        """Service error keys -> form fields; a reward or click-action error goes next to the id it is about."""
        data = getattr(self, "cleaned_data", {})
        reward_fields: dict[str, str] = {"points": "reward_amount", "badge": "reward_badge_id"}
        reward_field = reward_fields.get(str(data.get("reward_type") or ""), "reward_type")
        click_fields: dict[str, str] = {ClickAction.TELEPORT: "teleport_place_id", ClickAction.PURCHASE: "product_id"}
        click_field = click_fields.get(str(data.get("click_type") or ""), "click_type")
        return {
            "npc": "npc_model_asset_id",
            "npc.model_asset_id": "npc_model_asset_id",
            "npc.dialogue": "npc_dialogue",
            "minigame": "minigame_template",
            "minigame.template": "minigame_template",
            "minigame.duration_seconds": "minigame_duration",
            "minigame.reward": reward_field,
            "minigame.branding": "branding_color",
            "minigame.questions": "questions",
            "click_action": click_field,
        }

    def _minigame(self) -> dict[str, Any]:
        data = self.cleaned_data
        reward: dict[str, Any] = {"type": data["reward_type"]}
        if data["reward_type"] == "points":
            reward["amount"] = data.get("reward_amount")
        elif data["reward_type"] == "badge":
            reward["badge_id"] = data.get("reward_badge_id")
        game: dict[str, Any] = {
            "template": data.get("minigame_template") or "",
            "duration_seconds": data.get("minigame_duration"),
            "reward": reward,
        }
        branding: dict[str, Any] = {}
        if data.get("branding_color"):
            branding["primary_color"] = data["branding_color"].strip()
        if data.get("branding_logo_asset_id"):
            branding["logo_asset_id"] = data["branding_logo_asset_id"]
        if branding:
            game["branding"] = branding
        if game["template"] == "quiz":
            game["questions"] = self._questions
        return game

    def _click_action(self) -> dict[str, Any]:
        data = self.cleaned_data
        if data["click_type"] == ClickAction.TELEPORT:
            return {"type": ClickAction.TELEPORT, "place_id": data.get("teleport_place_id")}
        if data["click_type"] == ClickAction.PURCHASE:
            return {"type": ClickAction.PURCHASE, "product_type": data.get("product_type"),
                    "product_id": data.get("product_id")}  # fmt: skip
        return {"type": ClickAction.NONE}

    def service_data(self) -> dict[str, Any]:
        """The creative as ``creative_create``/``creative_update`` take it; fields of other kinds are left out."""
        data = self.cleaned_data
        kind = data["kind"]
        npc: dict[str, Any] = {"model_asset_id": None, "dialogue": []}
        if kind == ContainerType.NPC:
            npc = {
                "model_asset_id": data.get("npc_model_asset_id"),
                "dialogue": data.get("npc_dialogue", "").splitlines(),
            }
        return {
            "name": data["name"],
            "kind": kind,
            "roblox_asset_id": data["roblox_asset_id"],
            "npc": npc,
            "minigame": self._minigame() if kind == ContainerType.MINIGAME else None,
            "click_action": self._click_action(),
            "roblox_placement_id": data.get("roblox_placement_id", ""),
        }

    SOURCES = {
        "name": ("name",),
        "kind": ("kind",),
        "roblox_asset_id": ("roblox_asset_id",),
        "roblox_placement_id": ("roblox_placement_id",),
        "npc": ("kind", "npc_model_asset_id", "npc_dialogue"),
        "minigame": ("kind", "minigame_template", "minigame_duration", "reward_type", "reward_amount",
                     "reward_badge_id", "branding_color", "branding_logo_asset_id", "questions"),
        "click_action": ("click_type", "teleport_place_id", "product_type", "product_id"),
    }  # fmt: skip

    def partial_service_data(self) -> dict[str, Any]:
        """``service_data`` of the fields that passed the form's own checks (after ``is_valid()``), so the
        service checks the rest in the same submit (``ads.services.creative_validate``)."""
        ok = {name for name in self.fields if name in self.cleaned_data and name not in self.errors}
        saved = self.cleaned_data
        self.cleaned_data = {name: self.fields[name].initial for name in self.fields} | {
            "kind": ContainerType.DISPLAY, "npc_dialogue": "", "click_type": ClickAction.NONE, "reward_type": "none"
        } | {name: value for name, value in saved.items() if name in ok}  # fmt: skip
        try:
            complete = self.service_data()
        finally:
            self.cleaned_data = saved
        return {key: value for key, value in complete.items() if set(self.SOURCES.get(key, (key,))) <= ok}


class ReachForecastForm(forms.Form):
    """The targeting fields of ``CampaignForm``, for the reach forecast (``ads.views.reach_forecast``)."""

    countries_included = CampaignForm.base_fields["countries_included"]
    countries_excluded = CampaignForm.base_fields["countries_excluded"]
    devices = CampaignForm.base_fields["devices"]
    container_types = CampaignForm.base_fields["container_types"]
    segments = CampaignForm.base_fields["segments"]
    days_of_week = CampaignForm.base_fields["days_of_week"]
    hours_utc = CampaignForm.base_fields["hours_utc"]
    games_included = CampaignForm.base_fields["games_included"]
    games_excluded = CampaignForm.base_fields["games_excluded"]

    def targeting(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {**data, "segments": split_list(data.get("segments") or "")}
