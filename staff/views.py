"""Admin pages of the second login step: verify a code, or enrol an authenticator app.

Thin views around allauth.mfa's forms (which check codes, rate-limit attempts and
emit allauth's signals) and :mod:`staff.mfa`.
"""

from __future__ import annotations

import base64
from typing import Any

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.base.forms import AuthenticateForm
from allauth.mfa.totp.forms import ActivateTOTPForm
from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from accounts.models import SecurityEventKind, User
from accounts.services import security_event_record
from staff import mfa


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


def _staff_user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # admin_view lets only signed-in staff through
        raise PermissionDenied
    return user


def _context(site: AdminSite, request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        **site.each_context(request),
        # No navigation before the second factor: the pages behind it stay unseen.
        "is_nav_sidebar_enabled": False,
        "available_apps": [],
        "has_permission": False,
        "next": _next_url(request),
        **extra,
    }


def mfa_verify(request: HttpRequest, *, site: AdminSite) -> HttpResponse:
    """Second step: a code from the authenticator app, or an unused recovery code."""
    user = _staff_user(request)
    if mfa.staff_mfa_passed(request):
        return HttpResponseRedirect(_next_url(request))
    if not mfa.staff_totp_enrolled(user=user):
        return HttpResponseRedirect(f"{reverse('admin:staff_mfa_enrol')}?{request.GET.urlencode()}")
    form = AuthenticateForm(user=user, data=request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            mfa.staff_mfa_mark_passed(request)
            security_event_record(
                user=user,
                kind=SecurityEventKind.LOGIN_SUCCEEDED,
                ip_address=get_account_adapter(request).get_client_ip(request),
                detail={"method": "staff_mfa"},
            )
            return HttpResponseRedirect(_next_url(request))
        security_event_record(
            user=user,
            kind=SecurityEventKind.LOGIN_FAILED,
            ip_address=get_account_adapter(request).get_client_ip(request),
            detail={"method": "staff_mfa"},
        )
    return TemplateResponse(
        request,
        "admin/meetnow/mfa_verify.html",
        _context(site, request, title=_("Two-factor authentication"), form=form),
    )


def mfa_enrol(request: HttpRequest, *, site: AdminSite) -> HttpResponse:
    """First login of a staff account: set up an authenticator app before anything else."""
    user = _staff_user(request)
    if mfa.staff_totp_enrolled(user=user):
        if mfa.staff_mfa_passed(request):
            return HttpResponseRedirect(_next_url(request))
        return HttpResponseRedirect(
            f"{reverse('admin:staff_mfa_verify')}?{request.GET.urlencode()}"
        )
    form = ActivateTOTPForm(user=user, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        codes = mfa.staff_totp_activate(request=request, user=user, secret=form.secret)
        mfa.staff_mfa_mark_passed(request)
        security_event_record(
            user=user,
            kind=SecurityEventKind.LOGIN_SUCCEEDED,
            ip_address=get_account_adapter(request).get_client_ip(request),
            detail={"method": "staff_mfa_enrolled"},
        )
        response = TemplateResponse(
            request,
            "admin/meetnow/mfa_recovery_codes.html",
            {
                **_context(site, request, title=_("Save your recovery codes")),
                "recovery_codes": codes,
            },
        )
        response["Cache-Control"] = "no-store"
        return response
    adapter = get_mfa_adapter()
    totp_url = adapter.build_totp_url(user, form.secret)
    svg = adapter.build_totp_svg(totp_url)
    response = TemplateResponse(
        request,
        "admin/meetnow/mfa_enrol.html",
        _context(
            site,
            request,
            title=_("Set up two-factor authentication"),
            form=form,
            totp_secret=form.secret,
            totp_url=totp_url,
            totp_svg_data_uri="data:image/svg+xml;base64,"
            + base64.b64encode(svg.encode()).decode(),
        ),
    )
    response["Cache-Control"] = "no-store"
    return response
