from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from adplatform.accounts import selectors, services
from adplatform.accounts.models import PersonalAccessToken, User

pytestmark = pytest.mark.django_db


def test_signup_creates_an_inactive_account_waiting_for_approval():
    user = services.user_signup(
        username="newstudio", email="n@example.com", password="a-long-unusual-passphrase", role="OWNER"
    )
    user.refresh_from_db()
    assert user.is_active is False
    assert user.is_pending_approval
    assert user.role == User.Role.OWNER
    assert user.check_password("a-long-unusual-passphrase")


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"role": "STAFF"}, "role"),
        ({"password": "123"}, "password"),
        ({"email": "taken@example.com"}, "email"),
        ({"username": "TAKEN"}, "username"),
    ],
)
def test_signup_rejects_bad_requests_and_saves_nothing(user_factory, kwargs, field):
    user_factory(username="taken", email="taken@example.com")
    data = {"username": "someone", "email": "s@example.com", "password": "a-long-unusual-passphrase", "role": "OWNER"}
    with pytest.raises(ValidationError) as exc:
        services.user_signup(**{**data, **kwargs})
    assert field in exc.value.message_dict
    assert User.objects.count() == 1


def test_approve_activates_the_account(staff_user):
    user = services.user_signup(username="adv", email="a@example.com", password="a-long-unusual-passphrase",
                                role="ADVERTISER")  # fmt: skip
    services.user_approve(user=user, approved_by=staff_user)
    user.refresh_from_db()
    assert user.is_active and user.approved_by == staff_user and user.approved_at is not None


def test_token_is_stored_hashed_and_shown_once(owner):
    token, raw = services.token_create(user=owner, name="ci")
    stored = PersonalAccessToken.objects.get(pk=token.pk)
    assert raw.startswith("adp_") and len(raw) > 40
    assert stored.key_hash != raw and raw not in stored.key_hash
    assert stored.prefix == raw[:12]
    assert selectors.token_get_by_key(raw) == stored


def test_token_lookup_refuses_unknown_and_foreign_formats(owner):
    services.token_create(user=owner, name="ci")
    assert selectors.token_get_by_key("adp_unknown") is None
    assert selectors.token_get_by_key("not-our-format") is None
    assert selectors.token_get_by_key("adp_" + "x" * 500) is None


def test_token_create_validates_name_and_expiry(owner):
    with pytest.raises(ValidationError):
        services.token_create(user=owner, name="   ")
    with pytest.raises(ValidationError):
        services.token_create(user=owner, name="x", expires_in_days=0)
    assert not PersonalAccessToken.objects.exists()


def test_last_used_is_written_at_most_once_a_minute(owner, django_assert_num_queries):
    token, _ = services.token_create(user=owner, name="ci")
    services.token_touch(token=token)
    first = token.last_used_at
    with django_assert_num_queries(0):
        services.token_touch(token=token)
    assert token.last_used_at == first
    token.last_used_at = timezone.now() - timedelta(minutes=2)
    with django_assert_num_queries(1):
        services.token_touch(token=token)
