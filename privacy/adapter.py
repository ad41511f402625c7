"""allauth adapter hook of privacy, wired from settings (``ACCOUNT_ADAPTER``).

Extends ``accounts.adapter.AccountAdapter``: a person who logs in with a one-time
code (or their linked social account) during the cooling-off period of their
account deletion cancels it, and the login proceeds (P13), unless the app asks for
a restricted rights session with ``X-Rights-Access: 1``: then nothing is canceled
(``privacy.rights_session``). Each login also stamps the session with the user's
re-consent state (P16, ``privacy.middleware``).
"""

from __future__ import annotations

from typing import Any

from allauth.account.authentication import get_authentication_records
from allauth.core.exceptions import ImmediateHttpResponse
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, JsonResponse

from accounts.adapter import AccountAdapter as AccountsAdapter
from accounts.adapter import rights_access_asked
from accounts.models import User
from privacy.consents import gate_session_stamp
from privacy.lifecycle import erasure_cancel_by_login
from privacy.rights_session import rights_reason, rights_session_open

CANCELING_METHODS = {"code", "socialaccount"}


class AccountAdapter(AccountsAdapter):
    def pre_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> Any:
        if isinstance(user, User) and rights_access_asked(request):
            reason = rights_reason(user)
            if reason:
                # A rights session instead of a login: nothing is canceled or unlocked.
                token = rights_session_open(user=user, reason=reason)
                raise ImmediateHttpResponse(
                    JsonResponse(
                        {
                            "status": 200,
                            "data": {
                                "restricted": True,
                                "reason": reason,
                                "rights_token": token,
                                "expires_in": settings.MEETNOW_RIGHTS_SESSION_TTL,
                            },
                        }
                    )
                )
        if isinstance(user, User) and not user.is_active and not user.is_banned:
            records = get_authentication_records(request, user)
            canceling = bool(records) and records[-1].get("method") in CANCELING_METHODS
            if canceling and erasure_cancel_by_login(user=user):
                user.refresh_from_db(fields=["is_active"])
        return super().pre_login(request, user, **kwargs)

    def post_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> Any:
        response = super().post_login(request, user, **kwargs)
        # The re-consent gate reads this stamp instead of querying on every request.
        gate_session_stamp(session=request.session, user_id=user.pk)
        return response
