"""The owner's Open Cloud connection (Roblox compliance, ads/COMPLIANCE.md).

The platform uploads advertisers' artwork as the owner's asset and checks assets with Roblox through
the owner's Open Cloud key. The key is write-only: this page stores or removes it, never shows it.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from adplatform.core.forms import apply_validation_error
from games import services
from games.views import _game


class OpenCloudKeyForm(forms.Form):
    open_cloud_api_key = forms.CharField(
        label="Open Cloud API key",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="From the Creator Dashboard, for the account or group that owns the game, with the Assets API "
        "(asset:read, asset:write) and MessagingService (publish) permissions. Leave empty to remove it.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def open_cloud_key(request, slug: str):
    game = _game(request, slug)
    form = OpenCloudKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.game_set_open_cloud_key(game=game, api_key=form.cleaned_data["open_cloud_api_key"])
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, "Open Cloud key saved." if game.open_cloud_api_key else "Open Cloud key removed.")
            return redirect("games:detail", slug=game.slug)
    return render(request, "games/open_cloud_key.html", {"game": game, "form": form})
