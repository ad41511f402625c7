"""The API's current user: the one helper every app's ``apis.py`` uses."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request

from accounts.models import User
from meetnow.lib.errors import ApplicationError


def current_user(request: Request) -> User:
    """The signed-in user of an API request.

    The views' ``IsAuthenticated`` has already refused anonymous requests; this
    narrows the type, and answers 401 in the one error shape should a view ever
    forget the permission.
    """
    user = request.user
    if not isinstance(user, User):
        raise ApplicationError("not_authenticated", _("Log in first."), status_code=401)
    return user
