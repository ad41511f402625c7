"""Staff sessions: second factor before any page, and expiry after inactivity (P12).

Runs after authentication, for sessions (cookies) of staff accounts only; app
users authenticate with a token header per request and never reach these checks.

- Idle longer than ``MEETNOW_STAFF_IDLE_TIMEOUT`` seconds: the session ends and
  the browser is sent to the admin login, back to the same page afterwards.
- Signed in with a password but no second factor yet: every page except the
  login, logout and two-factor pages redirects to the second step (or to TOTP
  enrolment when the account has no authenticator app yet).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from staff import mfa

# Write the "last seen" time at most this often, not on every request.
TOUCH_EVERY_SECONDS = 60


def _exempt_paths() -> tuple[str, ...]:
    return (
        reverse("admin:login"),
        reverse("admin:logout"),
        reverse("admin:staff_mfa_verify"),
        reverse("admin:staff_mfa_enrol"),
    )


class StaffSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # No user: a token-only API request, which has no cookie session
        # (meetnow.lib.middleware.token_only_request).
        user = getattr(request, "user", None)
        if user is None or not (user.is_authenticated and user.is_staff):
            return self.get_response(request)

        now = time.time()
        idle = mfa.staff_idle_seconds(request, now=now)
        if idle is not None and idle > settings.MEETNOW_STAFF_IDLE_TIMEOUT:
            logout(request)
            messages.info(request, _("Your session ended after a period of inactivity."))
            if request.path.startswith(reverse("admin:index")):
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            return self.get_response(request)
        if idle is None or idle >= min(
            TOUCH_EVERY_SECONDS, settings.MEETNOW_STAFF_IDLE_TIMEOUT / 2
        ):
            mfa.staff_session_touch(request, now=now)

        if (
            mfa.staff_mfa_required()
            and not mfa.staff_mfa_passed(request)
            and request.path not in _exempt_paths()
            and not request.path.startswith(settings.STATIC_URL)
        ):
            step = (
                "admin:staff_mfa_verify"
                if mfa.staff_totp_enrolled(user=user)
                else "admin:staff_mfa_enrol"
            )
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse(step)}?{query}")
        return self.get_response(request)
