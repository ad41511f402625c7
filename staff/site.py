"""MeetNow's admin site: rate-limited password step, two-factor pages, dashboard, audit.

Every app registers on ``django.contrib.admin.site`` as usual; ``StaffAdminConfig``
makes that site an instance of this class. The second factor itself is enforced by
:class:`staff.middleware.StaffSessionMiddleware` for every page.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.core import ratelimit
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _

# Staff accounts are keyed by username for the login rate limit; failures count
# per IP and per username (allauth's "login_failed" rate: 10/m/ip, 5/5m/key).
RATE_ACTION = "login_failed"


class MeetNowAdminSite(admin.AdminSite):
    site_header = _("MeetNow staff")
    site_title = _("MeetNow staff")
    index_title = _("Dashboard")
    index_template = "admin/meetnow/index.html"
    site_url = None  # no public site to link to: the app is the mobile client

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        from django.contrib.admin.models import LogEntry

        from staff.audit import LogEntryAdmin

        self.register(LogEntry, LogEntryAdmin)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        from staff import views

        extra = [
            path(
                "2fa/verify/",
                self.admin_view(partial(views.mfa_verify, site=self)),
                name="staff_mfa_verify",
            ),
            path(
                "2fa/enrol/",
                self.admin_view(partial(views.mfa_enrol, site=self)),
                name="staff_mfa_enrol",
            ),
        ]
        return [*extra, *super().get_urls()]

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """Django's admin login, with allauth's failed-login rate limit (P6, P12).

        Django's own admin login has no limit at all; this one refuses further tries
        for a while after repeated failures, per IP and per username.
        """
        if request.method != "POST":
            return super().login(request, extra_context)
        key = "admin:" + str(request.POST.get("username", "")).strip().lower()[:150]
        if not ratelimit.consume(request, action=RATE_ACTION, key=key, dry_run=True):
            return self._rate_limited(request)
        response = super().login(request, extra_context)
        if request.user.is_authenticated:
            ratelimit.clear(request, action=RATE_ACTION, key=key)
        else:
            ratelimit.consume(request, action=RATE_ACTION, key=key)
            _record_failed_login(request)
        return response

    def _rate_limited(self, request: HttpRequest) -> HttpResponse:
        return TemplateResponse(
            request,
            "admin/meetnow/rate_limited.html",
            {
                **self.each_context(request),
                "title": _("Too many attempts"),
                "has_permission": False,
            },
            status=429,
        )

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        from staff.dashboard import dashboard_for

        context = {"dashboard": dashboard_for(user=request.user), **(extra_context or {})}
        return super().index(request, context)


def _record_failed_login(request: HttpRequest) -> None:
    from accounts.models import SecurityEventKind, User
    from accounts.services import security_event_record

    username = str(request.POST.get("username", "")).strip()[:150]
    user = User.objects.filter(username=username, is_staff=True).first() if username else None
    security_event_record(
        user=user,
        kind=SecurityEventKind.LOGIN_FAILED,
        ip_address=get_account_adapter(request).get_client_ip(request),
        detail={"method": "staff_password"},
    )
