from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from adplatform.accounts import selectors, services
from adplatform.accounts.forms import LoginForm, ProfileForm, SignupForm, TokenCreateForm
from adplatform.core.forms import apply_validation_error, form_is_valid


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def _signup_validate(data: dict) -> None:
    services.user_signup_validate(
        username=data.get("username"), email=data.get("email"), password=data.get("password1"), role=data.get("role")
    )


def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form_is_valid(form, _signup_validate, field_map={"password": "password1"}):
        data = form.cleaned_data
        try:
            services.user_signup(
                username=data["username"],
                email=data["email"],
                password=data["password1"],
                role=data["role"],
                company=data["company"],
                note=data["note"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc, field_map={"password": "password1"})
        else:
            return render(request, "accounts/signup_done.html", {"email": data["email"]})
    return render(request, "accounts/signup.html", {"form": form})


@login_required
def account(request):
    profile_form = ProfileForm(instance=request.user)
    token_form = TokenCreateForm()
    if request.method == "POST":
        if "save_profile" in request.POST:
            profile_form = ProfileForm(request.POST, instance=request.user)
            if profile_form.is_valid():
                try:
                    services.user_update_profile(
                        user=request.user,
                        data={f: profile_form.cleaned_data[f] for f in ProfileForm.Meta.fields},
                    )
                except ValidationError as exc:
                    apply_validation_error(profile_form, exc)
                else:
                    messages.success(request, "Profile saved.")
                    return redirect("accounts:account")
        elif "create_token" in request.POST:
            token_form = TokenCreateForm(request.POST)
            if token_form.is_valid():
                try:
                    token, raw = services.token_create(
                        user=request.user,
                        name=token_form.cleaned_data["name"],
                        expires_in_days=token_form.cleaned_data["expires_in_days"],
                    )
                except ValidationError as exc:
                    apply_validation_error(token_form, exc)
                else:
                    # Shown once, on this response only; never stored in the session.
                    return render(request, "accounts/token_created.html", {"token": token, "raw_key": raw})
    page = Paginator(selectors.token_list(user=request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/account.html",
        {"profile_form": profile_form, "token_form": token_form, "page": page},
    )


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(selectors.token_list(user=request.user), pk=pk)
    services.token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked. Scripts using it now get 401.")
    return redirect("accounts:account")


@login_required
def notifications(request):
    """The person's notifications, newest first; opening the page marks them read, POST marks all read."""
    from adplatform.accounts.models import Notification

    if request.method == "POST":
        services.notifications_mark_read(user=request.user)
        messages.success(request, "Every notification is marked read.")
        return redirect("accounts:notifications")
    page = Paginator(Notification.objects.filter(user=request.user), 25).get_page(request.GET.get("page"))
    unread_ids = [n.pk for n in page.object_list if n.read_at is None]
    response = render(request, "accounts/notifications.html", {"page": page, "unread_ids": set(unread_ids)})
    if unread_ids:
        services.notifications_mark_read(user=request.user, ids=unread_ids)
    return response
