"""Staff two-factor login (P12): the session state and allauth.mfa's authenticators.

Staff sign in to the admin with username + password (Django's admin login, rate
limited), then prove a second factor against their allauth.mfa authenticators:
a TOTP code or one of their recovery codes. A staff account without TOTP enrols
first. The session records which user passed the second step and when the staff
member was last active; both live only in the (server-side) session.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, clear_totp_secret
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from accounts.models import User

SESSION_MFA_USER = "meetnow.staff.mfa_user"
SESSION_MFA_AT = "meetnow.staff.mfa_at"
SESSION_LAST_SEEN = "meetnow.staff.last_seen"


# --- Reads ---------------------------------------------------------------------


def staff_mfa_required() -> bool:
    return bool(getattr(settings, "MEETNOW_STAFF_MFA_REQUIRED", True))


def staff_mfa_passed(request: HttpRequest) -> bool:
    """Whether this session's user passed the second factor in this session."""
    user = request.user
    return bool(user.is_authenticated and request.session.get(SESSION_MFA_USER) == user.pk)


def staff_totp_enrolled(*, user: Any) -> bool:
    return bool(
        Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()
    )


def staff_idle_seconds(request: HttpRequest, *, now: float | None = None) -> float | None:
    """Seconds since the staff member's last request, or None when not tracked yet."""
    seen = request.session.get(SESSION_LAST_SEEN)
    if seen is None:
        return None
    return (now if now is not None else time.time()) - float(seen)


# --- Writes --------------------------------------------------------------------


def staff_mfa_mark_passed(request: HttpRequest) -> None:
    """The session's user proved a second factor: admin pages open (P12).

    The session key changes, as after any privilege change, so a key seen before
    the second step is worth nothing afterwards.
    """
    request.session.cycle_key()
    request.session[SESSION_MFA_USER] = request.user.pk
    request.session[SESSION_MFA_AT] = int(time.time())
    staff_session_touch(request)


def staff_session_touch(request: HttpRequest, *, now: float | None = None) -> None:
    """Record activity and keep the session alive for the idle timeout from now."""
    request.session[SESSION_LAST_SEEN] = int(now if now is not None else time.time())
    request.session.set_expiry(settings.MEETNOW_STAFF_IDLE_TIMEOUT)


@transaction.atomic
def staff_totp_activate(*, request: HttpRequest, user: User, secret: str) -> list[str]:
    """Enrol ``user``'s authenticator app (TOTP) and create their recovery codes.

    Uses allauth.mfa's own authenticator types, so the codes work wherever allauth
    checks them. Returns the recovery codes, shown once right after enrolment.
    """
    TOTP.activate(user, secret)
    codes = RecoveryCodes.activate(user)
    clear_totp_secret(request)
    unused: list[str] = codes.get_unused_codes()
    return unused
