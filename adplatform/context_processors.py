from django.conf import settings


def navigation(request):
    """What the base layout needs to draw the right navigation for the person."""
    user = getattr(request, "user", None)
    role = getattr(user, "role", None) if user is not None and user.is_authenticated else None
    return {
        "nav_role": role,
        "nav_is_staff": bool(user is not None and user.is_authenticated and user.is_staff),
        "debug": settings.DEBUG,
    }
