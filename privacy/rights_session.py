"""The restricted "rights session" (P13, P17): banned accounts and accounts in the
deletion cooling-off can still export their data, follow their privacy requests,
cancel the deletion (where the user may) and ask support — and nothing else.

The app asks for it by sending ``X-Rights-Access: 1`` on the login-by-code requests
(``/_allauth/app/v1/auth/code/request`` and ``.../confirm``). Once the code is
confirmed, such an account gets no session; the login answers 200 with a
``rights_token`` instead (``privacy.adapter``). Without the header nothing changes:
a banned account is refused (``account_banned``, no code sent) and a code login in
the cooling-off cancels the deletion.

The token goes in ``X-Rights-Token``. It reaches only :data:`RIGHTS_URL_NAMES`;
every other API endpoint answers 403 ``restricted_session``. It lasts
``MEETNOW_RIGHTS_SESSION_TTL`` seconds, ends at ``DELETE
/api/v1/privacy/rights-session``, and only its SHA-256 is stored (in the cache).
The code that opened it confirms identity for one privacy request, as a fresh
reauthentication does.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from accounts.models import User
from privacy.models import OPEN_REQUEST_STATUSES, PrivacyRequest, RequestKind

HEADER = "X-Rights-Token"
ACCESS_HEADER = "X-Rights-Access"
_KEY = "privacy:rights-session:"

# The API endpoints (URL names) a rights session reaches.
RIGHTS_URL_NAMES = frozenset(
    {
        "privacy-requests",
        "privacy-request",
        "privacy-request-verify",
        "privacy-request-cancel",
        "privacy-export-download",
        "privacy-documents-current",
        "privacy-processors",
        "privacy-rights-session",
        "support-tickets",
        "support-ticket",
        "support-ticket-replies",
        "notices",
        "notice-read",
    }
)


class RestrictedSession(exceptions.APIException):
    """403 ``restricted_session`` (the error shape takes the code from here)."""

    status_code = 403
    default_code = "restricted_session"
    default_detail = _(
        "This account can only export its data, follow its privacy requests and contact support."
    )


@dataclass
class RightsSession:
    """What DRF puts in ``request.auth`` for a rights token."""

    key: str
    user_id: int
    reason: str
    issued_at: float
    identity_used: bool

    def save(self) -> None:
        remaining = int(self.issued_at + settings.MEETNOW_RIGHTS_SESSION_TTL - time.time())
        if remaining > 0:
            cache.set(
                self.key,
                {
                    "user_id": self.user_id,
                    "reason": self.reason,
                    "issued_at": self.issued_at,
                    "identity_used": self.identity_used,
                },
                remaining,
            )

    def identity_take(self) -> bool:
        """The code that opened the session confirms identity once, while fresh."""
        fresh = time.time() - self.issued_at <= settings.MEETNOW_PRIVACY_IDENTITY_MAX_AGE
        if self.identity_used or not fresh:
            return False
        self.identity_used = True
        self.save()
        return True


def _key(token: str) -> str:
    return _KEY + hashlib.sha256(token.encode()).hexdigest()


def rights_reason(user: User) -> str:
    """Why ``user`` may only have a rights session: ``banned``, ``pending_erasure``, or
    ``""`` for an account that logs in normally."""
    if user.is_banned:
        return "banned"
    if not user.is_active and (
        User.objects.filter(pk=user.pk)
        .filter(
            Exists(
                PrivacyRequest.objects.filter(
                    user=OuterRef("pk"),
                    kind=RequestKind.ERASURE,
                    status__in=OPEN_REQUEST_STATUSES,
                )
            )
        )
        .exists()
    ):
        return "pending_erasure"
    return ""


def rights_session_open(*, user: User, reason: str) -> str:
    """A new rights token for ``user`` (returned once; only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    RightsSession(
        key=_key(token), user_id=user.pk, reason=reason, issued_at=time.time(), identity_used=False
    ).save()
    return token


def rights_session_close(*, session: RightsSession) -> None:
    cache.delete(session.key)


def rights_session_find(token: str) -> RightsSession | None:
    key = _key(token)
    data: dict[str, Any] | None = cache.get(key)
    if not data:
        return None
    return RightsSession(key=key, **data)


class RightsTokenAuthentication(BaseAuthentication):
    """``X-Rights-Token``: the user of a rights session, on the rights endpoints only."""

    def authenticate(self, request: Any) -> tuple[User, RightsSession] | None:
        token = request.headers.get(HEADER)
        if not token:
            return None
        session = rights_session_find(token)
        user = User.objects.filter(pk=session.user_id).first() if session else None
        if session is None or user is None:
            raise exceptions.AuthenticationFailed(
                _("This rights session has ended. Log in again."), code="invalid_token"
            )
        match = getattr(request, "resolver_match", None)
        if match is None or match.url_name not in RIGHTS_URL_NAMES:
            raise RestrictedSession
        return user, session

    def authenticate_header(self, request: Any) -> str:
        return HEADER


_RIGHTS_PATHS = (
    "/api/v1/privacy/requests",
    "/api/v1/privacy/rights-session",
    "/api/v1/privacy/documents",
    "/api/v1/privacy/processors",
    "/api/v1/support/tickets",
    "/api/v1/notices",
)


class RightsTokenScheme(OpenApiAuthenticationExtension):
    """Documents ``X-Rights-Token`` in the OpenAPI schema, on the rights endpoints only."""

    target_class = RightsTokenAuthentication
    name = "RightsToken"

    def get_security_requirement(  # type: ignore[override]  # None: not on this path
        self, auto_schema: Any
    ) -> dict[str, list[Any]] | None:
        path = str(getattr(auto_schema, "path", ""))
        return {self.name: []} if path.startswith(_RIGHTS_PATHS) else None

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": HEADER}
