"""The owner console: server-rendered pages over the games services and selectors.

Every game page looks its game up through ``selectors.games_visible_to``, so a
game that is not the user's is a 404, whatever the page or method.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from adplatform.accounts.models import User
from adplatform.core.forms import apply_validation_error, form_is_valid
from games import delivery, selectors, services
from games.forms import (
    ApiKeyForm,
    ContainerForm,
    ContainerStatusForm,
    GameAddForm,
    GameEditForm,
    PlaylistForm,
    PlaylistItemFormSet,
)
from games.models import AdContainer, ContainerStatus, Game, GameApiKey, Playlist

DELIVERY_DAYS = 7

GAMES_PER_PAGE = 20
ROWS_PER_PAGE = 25
API_KEY_SECRET_NAME = "adplatform_api_key"  # noqa: S105 - the name of a Roblox secret, not a secret
# Paths under /games/ that a game's slug must not take, or its page would be unreachable.
RESERVED_SLUGS = services.RESERVED_SLUGS


# --------------------------------------------------------------------------- helpers


def _delivery(column: str, ids: list[int]) -> dict:
    """The last 7 days' figures of the given games or containers (from the ads app, through games.delivery)."""
    return delivery.delivery(column, ids, DELIVERY_DAYS)


def owner_required(view):
    """Logged in, and an owner (or staff). Others may not open the owners' lists."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_staff or getattr(request.user, "role", None) == User.Role.OWNER):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _game(request, slug: str) -> Game:
    return get_object_or_404(selectors.games_visible_to(request.user), slug=slug)


def _container(game: Game, pk: int) -> AdContainer:
    return get_object_or_404(AdContainer.objects.select_related("playlist").filter(game=game), pk=pk)


def _playlist(game: Game, pk: int) -> Playlist:
    return get_object_or_404(Playlist.objects.filter(game=game), pk=pk)


class Pager:
    """One paginated list on a page that may hold several, each with its own ``?<param>=``."""

    def __init__(self, request, queryset, *, param: str, per_page: int, anchor: str = ""):
        self.param = param
        self.anchor = anchor
        self.page: Page = Paginator(queryset, per_page).get_page(request.GET.get(param))
        others = [(k, v) for k, values in request.GET.lists() if k != param for v in values]
        self.query = urlencode(others)

    def url(self, number: int) -> str:
        prefix = f"{self.query}&" if self.query else ""
        return f"?{prefix}{self.param}={number}{'#' + self.anchor if self.anchor else ''}"

    @property
    def previous_url(self) -> str:
        return self.url(self.page.previous_page_number()) if self.page.has_previous() else ""

    @property
    def next_url(self) -> str:
        return self.url(self.page.next_page_number()) if self.page.has_next() else ""


def _api_base(request) -> str:
    return request.build_absolute_uri("/api/v1").rstrip("/")


def _connect_snippet(request, game: Game, containers: list[AdContainer]) -> str:
    example = containers[0].placement if containers else "lobby-billboard"
    return render_to_string(
        "games/connect.luau",
        {"game": game, "base_url": _api_base(request), "secret_name": API_KEY_SECRET_NAME, "placement": example},
    )


def _render_game(request, game: Game, *, key_form=None, failed_status=None, status: int = 200):
    """The game page. ``failed_status`` is ``(container_id, bound form)`` of a switch that was refused."""
    containers = Pager(
        request, selectors.containers_of(game), param="cpage", per_page=ROWS_PER_PAGE, anchor="containers"
    )
    rows = []
    figures = _delivery("container_id", [c.pk for c in containers.page.object_list])
    for container in containers.page.object_list:
        if failed_status and failed_status[0] == container.pk:
            form = failed_status[1]
        else:
            form = ContainerStatusForm(prefix=f"c{container.pk}", initial={"status": container.status})
        rows.append((container, form, figures.get(container.pk, delivery.nothing())))
    playlist_list = selectors.playlists_of(game).order_by("name", "id")
    playlists = Pager(request, playlist_list, param="ppage", per_page=ROWS_PER_PAGE, anchor="playlists")
    keys = Pager(request, selectors.api_keys_of(game), param="kpage", per_page=ROWS_PER_PAGE, anchor="api-keys")
    context = {
        "game": game,
        "containers": containers,
        "container_rows": rows,
        "playlists": playlists,
        "keys": keys,
        "key_form": key_form or ApiKeyForm(),
        "api_base": _api_base(request),
        "secret_name": API_KEY_SECRET_NAME,
        "snippet": _connect_snippet(request, game, [c for c, _, _ in rows]),
        "delivery": _delivery("game_id", [game.pk]).get(game.pk, delivery.nothing()),
        "delivery_days": DELIVERY_DAYS,
    }
    return render(request, "games/game_detail.html", context, status=status)


# --------------------------------------------------------------------------- games


@owner_required
def dashboard(request):
    search = request.GET.get("q", "").strip()[:100]
    games = selectors.game_list_with_counts(user=request.user, search=search)
    page = Paginator(games, GAMES_PER_PAGE).get_page(request.GET.get("page"))
    figures = _delivery("game_id", [g.pk for g in page.object_list])
    rows = [(game, figures.get(game.pk, delivery.nothing())) for game in page.object_list]
    return render(
        request,
        "games/dashboard.html",
        {
            "page": page,
            "rows": rows,
            "delivery_days": DELIVERY_DAYS,
            "search": search,
            "query": urlencode({"q": search}) if search else "",
        },
    )


@owner_required
def game_add(request):
    form = GameAddForm(request.POST or None)
    if request.method == "POST" and form_is_valid(
        form,
        lambda data: services.game_create_validate(
            roblox_place_id=data.get("roblox_place_id"), name=data.get("name") or ""
        ),
    ):
        try:
            with transaction.atomic():
                game = services.game_create(
                    owner=request.user,
                    roblox_place_id=form.cleaned_data["roblox_place_id"],
                    name=form.cleaned_data["name"],
                )
                if game.slug in RESERVED_SLUGS:
                    game = services.game_update(game=game, data={"slug": f"{game.slug}-{game.roblox_place_id}"})
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"“{game.name}” added. Its details are being fetched from Roblox.")
            return redirect("games:detail", slug=game.slug)
    return render(request, "games/game_add.html", {"form": form})


@login_required
def game_detail(request, slug: str):
    return _render_game(request, _game(request, slug))


@login_required
def game_edit(request, slug: str):
    game = _game(request, slug)
    form = GameEditForm(request.POST or None, initial=GameEditForm.initial_for(game))
    if request.method == "POST" and form_is_valid(
        form, lambda data: services.game_update_validate(game=game, data=data)
    ):
        try:
            game = services.game_update(game=game, data=dict(form.cleaned_data))
        except ValidationError as exc:
            apply_validation_error(form, exc)
            game.refresh_from_db()
        else:
            messages.success(request, "Game saved.")
            return redirect("games:detail", slug=game.slug)
    return render(request, "games/game_edit.html", {"game": game, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def game_delete(request, slug: str):
    game = _game(request, slug)
    if request.method == "POST":
        name = game.name
        try:
            services.game_delete(game=game)
        except ProtectedError:
            messages.error(request, f"“{name}” has delivery records that must be kept; deactivate it instead.")
            return redirect("games:detail", slug=game.slug)
        messages.success(request, f"“{name}” deleted with its containers, playlists and API keys.")
        return redirect("games:dashboard")
    return render(
        request,
        "games/confirm_delete.html",
        {
            "game": game,
            "title": f"Delete “{game.name}”?",
            "consequence": "Its containers, playlists, status history and API keys are deleted too. "
            "Game servers using its keys get 401 from now on. This cannot be undone.",
            "button": "Delete game",
            "cancel_url": reverse("games:detail", args=[game.slug]),
        },
    )


@login_required
@require_POST
def game_sync(request, slug: str):
    game = _game(request, slug)
    services.game_request_sync(game=game)
    messages.info(request, "Refreshing from Roblox. This page shows the result when it is done.")
    return redirect("games:detail", slug=game.slug)


# --------------------------------------------------------------------------- containers


def _container_form_ok(form: ContainerForm, *, game: Game, container: AdContainer | None = None) -> bool:
    """The form's checks and ``container_validate`` on every field that passed them, in the same submit."""
    return form_is_valid(
        form, lambda _: services.container_validate(game=game, container=container, data=form.partial_service_data())
    )


@login_required
def container_add(request, slug: str):
    game = _game(request, slug)
    form = ContainerForm(request.POST or None, game=game)
    if request.method == "POST" and _container_form_ok(form, game=game):
        try:
            container = services.container_create(game=game, data=form.service_data(), by=request.user)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"Container “{container.name}” created.")
            return redirect(reverse("games:detail", args=[game.slug]) + "#containers")
    return render(request, "games/container_form.html", {"game": game, "form": form, "container": None})


@login_required
def container_edit(request, slug: str, pk: int):
    game = _game(request, slug)
    container = _container(game, pk)
    form = ContainerForm(request.POST or None, game=game, initial=ContainerForm.initial_for(container))
    if request.method == "POST" and _container_form_ok(form, game=game, container=container):
        try:
            services.container_update(container=container, data=form.service_data(), by=request.user)
        except ValidationError as exc:
            apply_validation_error(form, exc)
            container = _container(game, pk)  # the service set fields on the instance it was given
        else:
            messages.success(request, f"Container “{container.name}” saved.")
            return redirect(reverse("games:detail", args=[game.slug]) + "#containers")
    return render(
        request,
        "games/container_form.html",
        {"game": game, "form": form, "container": container, "history": selectors.container_history(container)},
    )


@login_required
@require_POST
def container_status(request, slug: str, pk: int):
    game = _game(request, slug)
    container = _container(game, pk)
    form = ContainerStatusForm(request.POST, prefix=f"c{container.pk}")
    if form.is_valid():
        try:
            services.container_set_status(
                container=container,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["status_reason"],
                by=request.user,
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            label = ContainerStatus(container.status).label
            messages.success(request, f"“{container.name}” is now {label.lower()}.")
            return redirect(reverse("games:detail", args=[game.slug]) + "#containers")
    return _render_game(request, game, failed_status=(container.pk, form))


@login_required
@require_http_methods(["GET", "POST"])
def container_delete(request, slug: str, pk: int):
    game = _game(request, slug)
    container = _container(game, pk)
    if request.method == "POST":
        services.container_delete(container=container)
        messages.success(request, f"Container “{container.name}” deleted.")
        return redirect(reverse("games:detail", args=[game.slug]) + "#containers")
    return render(
        request,
        "games/confirm_delete.html",
        {
            "game": game,
            "title": f"Delete container “{container.name}”?",
            "consequence": f"Game servers asking for placement “{container.placement}” get 404 from now on, "
            "and its status history is deleted. This cannot be undone.",
            "button": "Delete container",
            "cancel_url": reverse("games:container-edit", args=[game.slug, container.pk]),
        },
    )


# --------------------------------------------------------------------------- playlists


@login_required
def playlist_add(request, slug: str):
    game = _game(request, slug)
    form = PlaylistForm(request.POST or None)
    if request.method == "POST" and form_is_valid(
        form,
        lambda data: services.playlist_validate(
            game=game, name=data.get("name"), container_type=data.get("container_type")
        ),
    ):
        try:
            playlist = services.playlist_create(game=game, **form.cleaned_data)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, f"Playlist “{playlist.name}” created. Add its assets below.")
            return redirect("games:playlist-edit", slug=game.slug, pk=playlist.pk)
    return render(request, "games/playlist_add.html", {"game": game, "form": form})


def _items_initial(playlist: Playlist) -> list[dict]:
    return [
        {"roblox_asset_id": item.asset.roblox_asset_id, "display_seconds": item.display_seconds}
        for item in playlist.items.select_related("asset").order_by("position")
    ]


@login_required
def playlist_edit(request, slug: str, pk: int):
    game = _game(request, slug)
    playlist = _playlist(game, pk)
    initial = {"name": playlist.name, "container_type": playlist.container_type}
    form = PlaylistForm(request.POST or None, initial=initial)
    formset = PlaylistItemFormSet(request.POST or None, initial=_items_initial(playlist), prefix="items")
    if request.method == "POST" and _playlist_forms_ok(form, formset, game=game, playlist=playlist):
        rows, sources = formset.items()
        try:
            with transaction.atomic():
                if form.cleaned_data["container_type"] != playlist.container_type:
                    # A playlist changes type only when empty; its new rows are checked against the new type.
                    services.playlist_set_items(playlist=playlist, items=[])
                services.playlist_update(playlist=playlist, **form.cleaned_data)
                services.playlist_set_items(playlist=playlist, items=rows)
        except ValidationError as exc:
            _apply_playlist_errors(form, formset, sources, exc)
            playlist.refresh_from_db()
        else:
            messages.success(request, f"Playlist “{playlist.name}” saved with {len(rows)} item(s).")
            return redirect(reverse("games:detail", args=[game.slug]) + "#playlists")
    items = playlist.items.select_related("asset").order_by("position")
    return render(
        request,
        "games/playlist_edit.html",
        {"game": game, "playlist": playlist, "form": form, "formset": formset, "items": items},
    )


def _playlist_forms_ok(form: PlaylistForm, formset, *, game: Game, playlist: Playlist) -> bool:
    """The playlist's form, every row and ``playlist_validate`` on what passed them, in the same submit."""
    valid = form.is_valid()
    valid = formset.is_valid() and valid
    rows, sources = formset.items()
    try:
        services.playlist_validate(
            game=game,
            playlist=playlist,
            name=form.cleaned_data.get("name"),
            container_type=form.cleaned_data.get("container_type"),
            items=rows,
        )
    except ValidationError as exc:
        _apply_playlist_errors(form, formset, sources, exc, skip_faulted=True)
        return False
    return valid


def _apply_playlist_errors(form, formset, sources, exc: ValidationError, *, skip_faulted: bool = False) -> None:
    """``items[i]`` errors go on the row they came from; the rest on the playlist's form (``skip_faulted``:
    not on a field the form already faulted)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        if skip_faulted and field in form.errors:
            continue
        if field.startswith("items[") and field.endswith("]"):
            index = int(field[len("items[") : -1])
            if 0 <= index < len(sources):
                # on the asset id: the input is then marked invalid and described by the message
                sources[index].add_error("roblox_asset_id", errors)
                continue
        form.add_error(field if field in form.fields else None, errors)


@login_required
@require_http_methods(["GET", "POST"])
def playlist_delete(request, slug: str, pk: int):
    game = _game(request, slug)
    playlist = _playlist(game, pk)
    if request.method == "POST":
        services.playlist_delete(playlist=playlist)
        messages.success(request, f"Playlist “{playlist.name}” deleted.")
        return redirect(reverse("games:detail", args=[game.slug]) + "#playlists")
    used_by = playlist.containers.count()
    consequence = "This cannot be undone."
    if used_by:
        consequence = f"{used_by} container(s) use it and will show nothing when no campaign fills them. " + consequence
    return render(
        request,
        "games/confirm_delete.html",
        {
            "game": game,
            "title": f"Delete playlist “{playlist.name}”?",
            "consequence": consequence,
            "button": "Delete playlist",
            "cancel_url": reverse("games:playlist-edit", args=[game.slug, playlist.pk]),
        },
    )


# --------------------------------------------------------------------------- API keys


@login_required
@require_POST
def api_key_add(request, slug: str):
    game = _game(request, slug)
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            key, raw_key, signing_secret = services.api_key_create(
                game=game, name=form.cleaned_data["name"], by=request.user
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            # Shown once, on this response only: never stored in the session, never cached.
            response = render(
                request,
                "games/api_key_created.html",
                {
                    "game": game,
                    "key": key,
                    "raw_key": raw_key,
                    "signing_secret": signing_secret,
                    "secret_name": API_KEY_SECRET_NAME,
                    "api_base": _api_base(request),
                },
            )
            add_never_cache_headers(response)
            return response
    return _render_game(request, game, key_form=form)


@login_required
@require_POST
def api_key_revoke(request, slug: str, pk: int):
    game = _game(request, slug)
    key = get_object_or_404(GameApiKey.objects.filter(game=game), pk=pk)
    services.api_key_revoke(key=key)
    messages.success(request, f"Key “{key.name}” revoked. Game servers using it now get 401.")
    return redirect(reverse("games:detail", args=[game.slug]) + "#api-keys")
