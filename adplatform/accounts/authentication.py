"""``Authorization: Token <personal access token>`` for the management API."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from adplatform.accounts import selectors, services
from adplatform.core import auth_throttle


class PersonalAccessTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None  # another scheme (Bearer for score tokens) is not ours to judge
        key = key.strip()
        if not key or " " in key:
            raise exceptions.AuthenticationFailed("Malformed token header.", code="token_invalid")
        token = selectors.token_get_by_key(key)
        if token is None or token.revoked_at is not None or not token.is_active:
            auth_throttle.api_failure("token", request)  # counted per address; 429 once it is locked
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.", code="token_invalid")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This token was revoked.", code="token_revoked")
        if not token.is_active:
            raise exceptions.AuthenticationFailed("This token has expired.", code="token_expired")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This account is not active.", code="authentication_failed")
        services.token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword
