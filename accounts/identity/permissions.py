"""``MEETNOW_VERIFIED_ONLY``: functions that need a verified identity (P7: none by default).

Any app calls :func:`verified_required` (a service-level check) or puts
``VerifiedOnly.for_function("posts")`` in a view's ``permission_classes``; both
answer 403 ``identity_verification_required`` with the function in ``param``, so
the app can offer verification. Reads the flag on the user row: no query.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from meetnow.lib.errors import ApplicationError


def verification_required_for(function: str) -> bool:
    return function in settings.MEETNOW_VERIFIED_ONLY


def verified_required(*, user: Any, function: str) -> None:
    """Raise 403 ``identity_verification_required`` when ``function`` needs a verified
    account and ``user`` has none."""
    if not verification_required_for(function):
        return
    if getattr(user, "identity_verified", False):
        return
    raise ApplicationError(
        "identity_verification_required",
        _("Verify your identity to use this function."),
        param=function,
        status_code=403,
    )


class VerifiedOnly(BasePermission):
    """DRF permission for a view whose function may need a verified identity."""

    function = ""

    @classmethod
    def for_function(cls, function: str) -> type[VerifiedOnly]:
        return type(f"VerifiedOnly_{function}", (cls,), {"function": function})

    def has_permission(self, request: Request, view: Any) -> bool:
        verified_required(user=request.user, function=self.function)
        return True
