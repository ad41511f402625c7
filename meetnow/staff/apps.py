"""The Django admin app, with MeetNow's admin site as its default site."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """``django.contrib.admin`` whose ``admin.site`` is :class:`MeetNowAdminSite`.

    Apps keep registering on ``django.contrib.admin.site`` as usual.
    """

    default_site = "meetnow.staff.site.MeetNowAdminSite"
