"""The Django admin app, with MeetNow's admin site as its default site."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.apps import AdminConfig
from django.contrib.auth.signals import user_logged_in
from django.http import HttpRequest


class StaffAdminConfig(AdminConfig):
    """``django.contrib.admin`` whose ``admin.site`` is :class:`MeetNowAdminSite`.

    Apps keep registering on ``django.contrib.admin.site`` as usual.
    """

    default_site = "staff.site.MeetNowAdminSite"

    def ready(self) -> None:
        super().ready()
        user_logged_in.connect(_staff_logged_in, dispatch_uid="meetnow.staff.logged_in")


def _staff_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # The idle clock of a staff session starts at login.
    if request is not None and getattr(user, "is_staff", False) and hasattr(request, "session"):
        from staff.mfa import staff_session_touch

        staff_session_touch(request)
