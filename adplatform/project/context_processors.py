from django.conf import settings


def pending_review_counts() -> dict[str, int]:
    """What waits for staff: creatives to moderate, advertisers and sign-ups to approve (three counts)."""
    from adplatform.accounts.models import User
    from ads.models import Advertiser, ApprovalState, Creative, ModerationStatus

    counts = {
        "creatives": Creative.objects.filter(moderation_status=ModerationStatus.PENDING).count(),
        "advertisers": Advertiser.objects.filter(approval=ApprovalState.PENDING).count(),
        "signups": User.objects.filter(is_active=False, approved_at__isnull=True).count(),
    }
    counts["total"] = sum(counts.values())
    return counts


def navigation(request):
    """What the base layout needs to draw the right navigation for the person."""
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    role = getattr(user, "role", None) if signed_in else None
    is_staff = bool(user is not None and signed_in and user.is_staff)
    context = {
        "nav_role": role,
        "nav_is_staff": is_staff,
        "nav_unread": 0,
        "nav_pending": None,
        "debug": settings.DEBUG,
    }
    if signed_in:
        from adplatform.accounts.models import Notification

        context["nav_unread"] = Notification.objects.filter(user=user, read_at__isnull=True).count()
        if is_staff:
            context["nav_pending"] = pending_review_counts()
    return context
