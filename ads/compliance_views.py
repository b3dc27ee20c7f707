"""Console pages of Roblox compliance: artwork uploads (``ads.compliance`` does the work).

Kept apart from ``ads.views`` so the console's pages and these grow without stepping on each other;
the same rules hold: a campaign is looked up through ``selectors.campaigns_visible_to`` (another
advertiser's is a 404) and every write goes through a service.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from adplatform.core.forms import apply_validation_error, form_is_valid
from ads import compliance, selectors, services
from ads.models import CampaignStatus
from ads.views import _campaign, advertiser_required
from games.selectors import games_visible_to


class CreativeUploadForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="Shown in reports and to staff.")
    image = forms.FileField(
        label="Artwork",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/bmp"}),
        help_text="PNG, JPEG or BMP.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limits = compliance.upload_limits()
        self.fields["image"].help_text = (
            f"PNG, JPEG or BMP, at most {limits['max_bytes'] // (1024 * 1024)} MB, each side "
            f"{limits['min_side']} to {limits['max_side']} px. A billboard shows 16:9 best."
        )


def _upload_validate(campaign, data: dict) -> None:
    """The campaign-level and image problems, checked with the form's in one submit (the image read once)."""
    image = data.get("image")
    content = None
    if image is not None:
        content = image.read(compliance.upload_limits()["max_bytes"] + 1)
        image.seek(0)
    compliance.creative_upload_validate(campaign=campaign, name=data.get("name"), data=content)


@advertiser_required
@require_http_methods(["GET", "POST"])
def creative_upload(request, pk: int):
    campaign = _campaign(request, pk)
    detail = reverse("ads:campaign-detail", args=[campaign.pk]) + "#compliance"
    if campaign.status == CampaignStatus.ARCHIVED:
        messages.error(request, "An archived campaign takes no new creatives.")
        return redirect(detail)
    form = CreativeUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form_is_valid(form, lambda data: _upload_validate(campaign, data)):
        image = form.cleaned_data["image"]
        try:
            compliance.creative_upload_create(
                campaign=campaign,
                name=form.cleaned_data["name"],
                data=image.read(compliance.upload_limits()["max_bytes"] + 1),
                filename=image.name,
                by=request.user,
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)  # "game" and "campaign" problems show above the form
        else:
            messages.success(
                request,
                "Artwork received: it is being uploaded to Roblox as the game owner's asset. It becomes a "
                "creative once Roblox has processed it, and serves once Roblox's moderation approved it.",
            )
            return redirect(detail)
    return render(request, "ads/creative_upload.html", {"form": form, "campaign": campaign})


# --------------------------------------------------------------------------- the owner's side: Ads Manager ids


@login_required
@require_http_methods(["GET", "POST"])
def game_integrations(request, slug: str):
    """The campaigns registered for one of the owner's games, with the ids Ads Manager gave them.

    The owner registers each campaign and its assets in Roblox Ads Manager, so the owner may enter the
    ad-integration campaign id and each asset's placement id here (through the same services).
    """
    game = get_object_or_404(games_visible_to(request.user), slug=slug)
    campaigns = list(selectors.campaigns_registered_for(game))
    errors: dict[int, list[str]] = {}
    if request.method == "POST":
        campaign = next((c for c in campaigns if str(c.pk) == request.POST.get("campaign")), None)
        if campaign is None:
            raise Http404("No such campaign registered for this game.")
        try:
            with transaction.atomic():
                services.campaign_update(
                    campaign=campaign, data={"roblox_campaign_id": request.POST.get("roblox_campaign_id", "")}
                )
                for creative in campaign.creatives.all():
                    key = f"placement-{creative.pk}"
                    if key in request.POST:
                        services.creative_update(creative=creative, data={"roblox_placement_id": request.POST[key]})
        except ValidationError as exc:
            errors[campaign.pk] = [m for ms in exc.message_dict.values() for m in ms]
        else:
            messages.success(request, f"Ads Manager ids of “{campaign.name}” saved.")
            return redirect(reverse("ads:game-integrations", args=[game.slug]) + f"#campaign-{campaign.pk}")
    rows = [(c, compliance.compliance_checklist(c), errors.get(c.pk, [])) for c in campaigns]
    return render(request, "ads/game_integrations.html", {"game": game, "rows": rows})
