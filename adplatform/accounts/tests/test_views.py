import pytest
from django.test import Client
from django.urls import reverse

from adplatform.accounts import services
from adplatform.accounts.models import PersonalAccessToken, User

pytestmark = pytest.mark.django_db

SIGNUP = {
    "role": "ADVERTISER",
    "username": "brandco",
    "email": "ads@brand.example",
    "company": "Brand Co",
    "note": "We sell toys",
    "password1": "a-long-unusual-passphrase",
    "password2": "a-long-unusual-passphrase",
}


def test_signup_page_creates_an_inactive_account(client):
    response = client.post(reverse("accounts:signup"), SIGNUP)
    assert response.status_code == 200
    assert "your request is in" in response.content.decode()
    user = User.objects.get(username="brandco")
    assert user.is_active is False
    assert user.role == User.Role.ADVERTISER
    assert user.company == "Brand Co"


def test_signup_page_shows_field_errors_and_saves_nothing(client):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "password2": "different", "email": "nope"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "The two passwords differ." in html
    assert "Enter a valid email address." in html
    assert not User.objects.exists()


def test_signup_page_shows_weak_password_on_its_field(client):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "password1": "12345678", "password2": "12345678"})
    assert "too common" in response.content.decode()
    assert not User.objects.exists()


def test_pending_account_cannot_log_in_and_is_told_why(client):
    services.user_signup(username="waiting", email="w@example.com", password="a-long-unusual-passphrase",
                         role="OWNER")  # fmt: skip
    response = client.post(reverse("accounts:login"), {"username": "waiting", "password": "a-long-unusual-passphrase"})
    assert response.status_code == 200
    assert "waiting for approval" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_approved_account_logs_in(client, owner):
    response = client.post(reverse("accounts:login"), {"username": owner.username, "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_page_form_without_csrf_token_is_rejected():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("accounts:signup"), SIGNUP)
    assert response.status_code == 403
    assert not User.objects.exists()


def test_account_page_requires_login(client):
    response = client.get(reverse("accounts:account"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_account_page_creates_a_token_shown_once(client, owner):
    client.force_login(owner)
    response = client.post(reverse("accounts:account"), {"create_token": "1", "name": "deploy"})
    html = response.content.decode()
    token = PersonalAccessToken.objects.get(user=owner)
    raw = html.split('id="token-key">')[1].split("<")[0]
    assert raw.startswith(token.prefix)
    assert services.hash_key(raw) == token.key_hash
    # The list shows only the prefix afterwards.
    listing = client.get(reverse("accounts:account")).content.decode()
    assert token.prefix in listing and raw not in listing


def test_account_page_shows_token_form_errors(client, owner):
    client.force_login(owner)
    response = client.post(reverse("accounts:account"), {"create_token": "1", "name": ""})
    assert "This field is required." in response.content.decode()
    assert not PersonalAccessToken.objects.exists()


def test_revoke_from_the_account_page(client, owner):
    token, _ = services.token_create(user=owner, name="old")
    client.force_login(owner)
    response = client.post(reverse("accounts:token-revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_one_user_cannot_revoke_anothers_token(client, owner, advertiser):
    token, _ = services.token_create(user=owner, name="owner-only-token")
    client.force_login(advertiser)
    assert client.post(reverse("accounts:token-revoke", args=[token.pk])).status_code == 404
    assert client.get(reverse("accounts:account")).content.decode().count("owner-only-token") == 0
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoke_needs_post(client, owner):
    token, _ = services.token_create(user=owner, name="old")
    client.force_login(owner)
    assert client.get(reverse("accounts:token-revoke", args=[token.pk])).status_code == 405


def test_staff_approve_accounts_in_admin(client, staff_user):
    pending = services.user_signup(username="pending", email="p@example.com", password="a-long-unusual-passphrase",
                                   role="OWNER")  # fmt: skip
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "approve_accounts", "_selected_action": [pending.pk]},
        follow=True,
    )
    assert response.status_code == 200
    pending.refresh_from_db()
    assert pending.is_active and pending.approved_by == staff_user


@pytest.mark.parametrize("name", ["home", "accounts:login", "accounts:signup"])
def test_public_pages_render(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert '<meta name="viewport"' in response.content.decode()


def test_unknown_page_renders_the_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
