"""DRF authentication with the app's allauth session token (``X-Session-Token``)."""

from __future__ import annotations

from typing import Any

from allauth.core.internal.sessionkit import get_session_user
from allauth.headless.adapter import get_adapter
from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication
from allauth.headless.internal.sessionkit import lookup_session
from allauth.usersessions.internal import usersessionkit
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.exceptions import AuthenticationFailed

from meetnow.lib.i18n import user_time_zone

_MEMO = "_meetnow_token_session"


def token_session(request: HttpRequest, token: str) -> SessionBase | None:
    """The live session behind an app token, or ``None``; looked up once per request
    (the re-consent gate and DRF authentication both need it)."""
    memo: tuple[str, SessionBase | None] | None = request.__dict__.get(_MEMO)
    if memo is not None and memo[0] == token:
        return memo[1]
    session: SessionBase | None = lookup_session(token)
    setattr(request, _MEMO, (token, session))
    return session


class SessionTokenAuthentication(XSessionTokenAuthentication):  # type: ignore[misc]  # allauth ships no types
    """The token from allauth's headless flows, as used by the REST API.

    A missing token leaves the request anonymous (the permission then answers 401);
    a bad, expired or revoked token is refused with 401 ``invalid_token`` rather than
    being treated as anonymous (which would give a 403).
    """

    allow_anonymous_users = False
    allow_invalid_session_tokens = False

    def authenticate(self, request: Any) -> tuple[Any, SessionBase] | None:
        # allauth's own method, with the session lookup shared with the gate.
        token = self.get_session_token(request)
        if not token:
            return None
        http_request: HttpRequest = getattr(request, "_request", request)
        session = token_session(http_request, token)
        if session is None:
            raise AuthenticationFailed(get_adapter().error_messages["invalid_token"])
        user = get_session_user(session)
        if user is None:
            raise AuthenticationFailed()
        usersessionkit.track_activity(http_request, user=user, session=session)
        # Dates and times for people in this answer are in the user's zone
        # (meetnow.lib.i18n.display); StaffLanguageMiddleware resets it afterwards.
        timezone.activate(user_time_zone(user))
        return user, session


class SessionTokenScheme(OpenApiAuthenticationExtension):
    """Documents the token header in the OpenAPI schema (``/api/schema/``)."""

    target_class = SessionTokenAuthentication
    name = "SessionToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "X-Session-Token"}
