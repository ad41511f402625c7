"""allauth login stages adapted to MeetNow."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.stages import PhoneVerificationStage as BasePhoneVerificationStage


class PhoneVerificationStage(BasePhoneVerificationStage):  # type: ignore[misc]  # allauth ships no types
    """Like allauth's, but an account without a phone (a social sign-up, P3) may log in.

    allauth aborts the login of any user without a phone when the phone is a required
    sign-up field (research/allauth.md, pitfall 3). Phone sign-ups always have one.
    """

    def handle(self) -> Any:
        user = self.login.user
        if user is not None and get_adapter().get_phone(user) is None:
            return None, True
        return super().handle()
