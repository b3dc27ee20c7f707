from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from adplatform.accounts.models import User

if TYPE_CHECKING:
    _LoginForm = AuthenticationForm
else:
    _LoginForm = object


class ThrottledLoginMixin(_LoginForm):
    """Failed logins counted per account and per address; a locked one is refused before the password is checked."""

    locked_message = (
        "Too many failed login attempts for this account or from this address. Try again in %(minutes)s "
        "minute(s); the right password will not work before then."
    )

    def clean(self):
        from django.core.exceptions import ValidationError

        from adplatform.core import auth_throttle
        from adplatform.core.api.client import client_ip

        request = getattr(self, "request", None)
        scopes = auth_throttle.login_scopes(
            self.data.get("username", ""), (client_ip(request) or "unknown") if request else "unknown"
        )
        wait = auth_throttle.locked_for("login", scopes)
        if not wait:
            try:
                cleaned = super().clean()
            except ValidationError as exc:
                if getattr(exc, "code", None) != "invalid_login":
                    raise
                wait = auth_throttle.record_failure("login", scopes)
                if not wait:
                    raise
            else:
                auth_throttle.reset("login", {"account": scopes["account"]})
                return cleaned
        else:
            auth_throttle.record_failure("login", scopes)  # still trying while locked: counted, and extends it
        raise ValidationError(self.locked_message, code="locked", params={"minutes": max(1, -(-wait // 60))})


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login, throttled like the site's."""


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "inactive": "This account is waiting for approval by our staff. We will email you when it is ready.",
    }


class SignupForm(forms.Form):
    role = forms.ChoiceField(
        choices=[
            (User.Role.OWNER, "Game owner: I run Roblox games"),
            (User.Role.ADVERTISER, "Advertiser: I run campaigns"),
        ],
        widget=forms.RadioSelect,
        label="I am a",
    )
    username = forms.RegexField(
        regex=r"^[\w.@+-]{3,150}$",
        max_length=150,
        help_text="3 to 150 letters, digits and @ . + - _",
        error_messages={"invalid": "3 to 150 letters, digits and @ . + - _ only."},
    )
    email = forms.EmailField()
    company = forms.CharField(max_length=200, required=False, label="Studio or company")
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000, label="Anything staff should know"
    )
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label="Password again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return cleaned


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “deploy script”.")
    expires_in_days = forms.TypedChoiceField(
        choices=[("", "Never"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")],
        coerce=int,
        empty_value=None,
        required=False,
        label="Expires",
    )


def time_zone_choices() -> list[tuple[str, str]]:
    import zoneinfo

    names = sorted(name for name in zoneinfo.available_timezones() if "/" in name and not name.startswith("Etc/"))
    return [("UTC", "UTC"), *((name, name.replace("_", " ")) for name in names)]


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label="Time zone", choices=time_zone_choices, help_text="Dates and times on every page are shown in this zone."
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "company", "time_zone"]
