"""Forms of the owner console. They check the shape of the input; the services in
``games.services`` own every business rule and raise field errors the views put
back on these forms."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from django import forms

from games.models import AdCategory, AdContainer, ContainerStatus, ContainerType, Game, Playlist

PLACE_ID_ERRORS = {
    "required": "Enter the place id from your game's Roblox address.",
    "invalid": "A place id is a whole number, such as 920587237.",
    "min_value": "A place id is a positive number.",
}


class GameAddForm(forms.Form):
    roblox_place_id = forms.IntegerField(
        label="Roblox place id",
        min_value=1,
        max_value=2**63 - 1,
        error_messages=PLACE_ID_ERRORS,
        help_text="The number in your game's address: roblox.com/games/<strong>920587237</strong>/…",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "920587237"}),
    )
    name = forms.CharField(
        max_length=200,
        required=False,
        help_text="Leave empty to use the name on Roblox once the game is synced.",
    )


class GameEditForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    slug = forms.SlugField(
        max_length=80,
        label="Address",
        help_text="Used in public addresses such as the live leaderboard page.",
    )
    is_active = forms.BooleanField(
        required=False,
        label="Active",
        help_text="An inactive game's keys are refused and its containers never fill.",
    )

    @classmethod
    def initial_for(cls, game: Game) -> dict:
        return {"name": game.name, "description": game.description, "slug": game.slug, "is_active": game.is_active}


class StatusReasonMixin(forms.Form):
    status = forms.ChoiceField(choices=ContainerStatus.choices, initial=ContainerStatus.ACTIVE)
    status_reason = forms.CharField(
        max_length=500,
        required=False,
        label="Reason",
        help_text="Required for maintenance; kept in the container's history.",
    )


class ContainerForm(StatusReasonMixin):
    name = forms.CharField(max_length=100)
    type = forms.ChoiceField(choices=ContainerType.choices, initial=ContainerType.DISPLAY)
    placement = forms.SlugField(
        max_length=64,
        required=False,
        help_text="The CollectionService tag your script uses to find this container. Empty: made from the name.",
    )
    width_studs = forms.DecimalField(
        label="Width (studs)", max_digits=6, decimal_places=2, min_value=Decimal("0.01"), initial=Decimal("16")
    )
    height_studs = forms.DecimalField(
        label="Height (studs)",
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.01"),
        initial=Decimal("9"),
        help_text="Display billboards are 8 x 4.5 to 32 x 18 studs (Roblox's limits).",
    )
    floor_price_cpm = forms.DecimalField(
        label="Floor price (CPM, USD)",
        max_digits=12,
        decimal_places=6,
        min_value=Decimal("0"),
        initial=Decimal("0"),
        help_text="The least a campaign pays per 1,000 impressions here.",
    )
    blocked_categories = forms.MultipleChoiceField(
        choices=AdCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Campaigns of these categories never show here.",
    )
    playlist = forms.ModelChoiceField(
        queryset=Playlist.objects.none(),
        required=False,
        label="House playlist",
        empty_label="None",
        help_text="Shown when no campaign fills the container; its type must match.",
    )

    field_order = ["name", "type", "placement", "width_studs", "height_studs", "floor_price_cpm",
                   "blocked_categories", "playlist", "status", "status_reason"]  # fmt: skip

    def __init__(self, *args, game: Game, **kwargs):
        super().__init__(*args, **kwargs)
        playlist = self.fields["playlist"]
        assert isinstance(playlist, forms.ModelChoiceField)
        playlist.queryset = game.playlists.order_by("name", "id")

    @classmethod
    def initial_for(cls, container: AdContainer) -> dict:
        return {
            "name": container.name,
            "type": container.type,
            "placement": container.placement,
            # as people type amounts: 0.5, not 0.500000
            "width_studs": _plain(container.width_studs),
            "height_studs": _plain(container.height_studs),
            "floor_price_cpm": _plain(container.floor_price_cpm),
            "blocked_categories": container.blocked_categories,
            "playlist": container.playlist_id,
            "status": container.status,
        }

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        if not data.get("placement"):
            data.pop("placement", None)
        return data

    def partial_service_data(self) -> dict:
        """``service_data`` of the fields that passed the form's checks (after ``is_valid()``), for
        ``games.services.container_validate`` in the same submit."""
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        if not data.get("placement"):
            data.pop("placement", None)
        return data


def _plain(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


class ContainerStatusForm(StatusReasonMixin):
    """The inline switch on each row of the containers table."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status_reason"].widget.attrs.update(
            {"placeholder": "Reason (needed for maintenance)", "maxlength": 500}
        )


class PlaylistForm(forms.Form):
    name = forms.CharField(max_length=100)
    container_type = forms.ChoiceField(
        choices=ContainerType.choices,
        initial=ContainerType.DISPLAY,
        label="For containers of type",
    )


class PlaylistItemForm(forms.Form):
    roblox_asset_id = forms.IntegerField(
        label="Roblox asset id",
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        error_messages={"invalid": "An asset id is a whole number.", "min_value": "An asset id is positive."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    display_seconds = forms.IntegerField(label="Seconds", min_value=1, max_value=3600, required=False, initial=15)

    def clean(self):
        cleaned = super().clean() or self.cleaned_data  # Django's clean() returns cleaned_data
        if cleaned.get("roblox_asset_id") and not cleaned.get("display_seconds"):
            cleaned["display_seconds"] = 15
        return cleaned


class BasePlaylistItemFormSet(forms.BaseFormSet):
    def items(self) -> tuple[list[dict], list[forms.Form]]:
        """The rows with an asset id, in order, and the forms they came from (to put errors back)."""
        rows, sources = [], []
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form):  # type: ignore[attr-defined]  # Django's, unstubbed
                continue
            asset_id = form.cleaned_data.get("roblox_asset_id")
            if not asset_id or form.errors:  # a faulted row shows its own errors
                continue
            rows.append({"roblox_asset_id": asset_id, "display_seconds": form.cleaned_data["display_seconds"]})
            sources.append(form)
        return rows, sources


PlaylistItemFormSet = cast(
    type[BasePlaylistItemFormSet],  # formset_factory's stub returns the base class, not ours
    forms.formset_factory(
        PlaylistItemForm, formset=BasePlaylistItemFormSet, extra=3, can_delete=True, max_num=50, validate_max=True
    ),
)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Key name",
        help_text="Where the key is used, e.g. “production servers”.",
    )
