"""Public pages: the index of live boards and one game's live top 10 (works without JavaScript)."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from games.models import Game
from scoreboard.live import TOP, snapshot, top_entries


@require_GET
def board_index(request):
    query = request.GET.get("q", "").strip()
    games = Game.objects.filter(is_active=True).order_by("name", "id")
    if query:
        games = games.filter(name__icontains=query)
    page = Paginator(games.only("id", "name", "slug", "icon_url"), 24).get_page(request.GET.get("page"))
    boards = []
    for game in page.object_list:
        entries = top_entries(game.slug) or []
        boards.append({"game": game, "leader": entries[0] if entries else None})
    return render(
        request,
        "scoreboard/live_index.html",
        {"page": page, "boards": boards, "q": query, "query": f"q={query}" if query else ""},
    )


def _board(slug: str) -> tuple[Game, dict]:
    game = Game.objects.filter(slug=slug, is_active=True).only("id", "name", "slug", "icon_url").first()
    state = snapshot(slug) if game else None
    if game is None or state is None:
        raise Http404("No such leaderboard.")
    return game, state


@require_GET
def board_live(request, slug: str):
    game, state = _board(slug)
    context = {
        "game": game,
        "state": state,
        "now": timezone.now(),
        "tv_url": request.build_absolute_uri(reverse("live:tv", args=[slug])),
        "overlay_url": request.build_absolute_uri(reverse("live:overlay", args=[slug])),
    }
    return render(request, "scoreboard/live_board.html", context)


@require_GET
def board_tv(request, slug: str):
    """Kiosk mode: the board alone, dark and large, for a screen across the room (no site chrome)."""
    game, state = _board(slug)
    return render(request, "scoreboard/live_tv.html", {"game": game, "state": state, "now": timezone.now()})


@require_GET
@xframe_options_exempt  # some streaming tools frame their browser sources
def board_overlay(request, slug: str):
    """A transparent strip of the top rows for OBS or Streamlabs browser sources (``?rows=1..10&scale=0.5..3``)."""
    game, state = _board(slug)
    rows = _clamped(request.GET.get("rows"), int, 1, TOP, TOP)
    scale = _clamped(request.GET.get("scale"), float, 0.5, 3.0, 1.0)
    state = {**state, "entries": state["entries"][:rows]}
    context = {"game": game, "state": state, "rows": rows, "scale": round(scale, 2), "now": timezone.now()}
    response = render(request, "scoreboard/live_overlay.html", context)
    # The default policy forbids framing; a browser source that frames the page gets the same board.
    response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", "frame-ancestors *"
    )
    return response


def _clamped(raw: str | None, kind, low, high, default):
    """A query parameter read leniently: out of range is clamped, nonsense gives the default."""
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        return default
    if value != value:  # NaN
        return default
    return min(high, max(low, value))
