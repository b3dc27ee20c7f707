"""Public pages: the index of live boards and one game's live top 10 (works without JavaScript)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from games.models import Game
from scoreboard.live import snapshot, top_entries


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


@require_GET
def board_live(request, slug: str):
    game = Game.objects.filter(slug=slug, is_active=True).only("id", "name", "slug", "icon_url").first()
    state = snapshot(slug) if game else None
    if state is None:
        raise Http404("No such leaderboard.")
    return render(request, "scoreboard/live_board.html", {"game": game, "state": state})
