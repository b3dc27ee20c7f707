"""Reads that cross relations, with the joins their callers need."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from games.models import AdContainer, ContainerStatus, ContainerStatusChange, Game, GameApiKey, Playlist


def games_visible_to(user) -> QuerySet[Game]:
    """Owners see their own games; staff see all. Everyone else sees none."""
    if not user.is_authenticated:
        return Game.objects.none()
    qs = Game.objects.select_related("owner")
    return qs if user.is_staff else qs.filter(owner=user)


def game_list_with_counts(*, user, search: str = "") -> QuerySet[Game]:
    qs = games_visible_to(user).annotate(
        container_count=Count("containers", distinct=True),
        active_container_count=Count("containers", filter=Q(containers__status=ContainerStatus.ACTIVE), distinct=True),
    )
    if search:
        term = search.strip()
        condition = Q(name__icontains=term) | Q(slug__icontains=term)
        if term.isdigit():
            condition |= Q(roblox_place_id=int(term)) | Q(roblox_universe_id=int(term))
        qs = qs.filter(condition)
    return qs.order_by("name", "id")


def containers_of(game: Game) -> QuerySet[AdContainer]:
    return game.containers.select_related("playlist").order_by("name", "id")


def container_history(container: AdContainer, limit: int = 20) -> QuerySet[ContainerStatusChange]:
    return container.status_changes.select_related("changed_by")[:limit]


def playlists_of(game: Game) -> QuerySet[Playlist]:
    return game.playlists.prefetch_related("items__asset").annotate(item_count=Count("items"))


def api_keys_of(game: Game) -> QuerySet[GameApiKey]:
    return game.api_keys.select_related("created_by").order_by("-created_at", "-id")


def game_server_containers(game_id: int) -> list[AdContainer]:
    return list(AdContainer.objects.filter(game_id=game_id).order_by("id"))
