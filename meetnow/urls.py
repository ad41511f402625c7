"""Top-level URL configuration: wires every app; imported by no app."""

from importlib import import_module

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from accounts import web_login
from meetnow.lib.routing import gate, switch_off
from meetnow.views import HealthApi
from meetnow.webclient import web_client


def _docs_enabled() -> bool:
    return bool(settings.MEETNOW_API_DOCS)


# The phone-only app offers phone codes, social login with the native SDKs' tokens
# (provider/token) and, for staff, TOTP on the admin's own pages. allauth's other flows
# (passwords, e-mail, password reset, password login, the browser redirect to a
# provider) answer 404, as do all of its HTML pages under /accounts/ except Google's
# and Facebook's OAuth callbacks while the web client offers that provider (its social
# login returns there, accounts/web_login.py); their names stay registered for
# allauth's own reverse() calls. Its spec follows MEETNOW_API_DOCS.
_HEADLESS_OFF = {
    "request_password_reset",
    "reset_password",
    "change_password",
    "login",
    "manage_email",
    "verify_email",
    "resend_email_verification_code",
    "redirect_to_provider",
}
_HEADLESS_DOCS = {"openapi_yaml", "openapi_json", "openapi_html"}
_WEB_CALLBACKS = {"google_callback": "google", "facebook_callback": "facebook"}
_allauth_html = import_module("allauth.urls")
_allauth_headless = import_module("allauth.headless.urls")
switch_off(_allauth_html.urlpatterns, keep=lambda route, p: p.name in _WEB_CALLBACKS)


def _web_callback_gate(name: str, provider: str) -> None:
    """Open ``name`` only while the web client offers ``provider`` (a web app with a secret)."""
    switch_off(
        _allauth_html.urlpatterns,
        keep=lambda route, p: p.name != name,
        enabled=lambda: web_login.provider_offered(provider),
    )


for _callback, _provider in _WEB_CALLBACKS.items():
    _web_callback_gate(_callback, _provider)
switch_off(_allauth_headless.urlpatterns, keep=lambda route, p: p.name not in _HEADLESS_OFF)
switch_off(
    _allauth_headless.urlpatterns,
    keep=lambda route, p: p.name not in _HEADLESS_DOCS,
    enabled=_docs_enabled,
)

# Resolved in order. dating's routes all start with dating/, so they sit behind that one
# prefix, tried first: a post's like (the busiest write, issue 14) is matched after one
# prefix test and two of dating's routes instead of after chat's, accounts' and media's
# 48; any other request pays the one prefix test. Then chat's routes (the busiest:
# messages, sync). The apps' routes do not overlap, so the order changes nothing else;
# the full routes (``dating/posts/<str:post_uuid>/like``), their names and the API
# schema are the same.
api_v1 = [
    path("dating/", include("dating.urls")),
    path("", include("chat.urls")),
    path("", include("accounts.urls")),
    path("", include("media.urls")),
    path("", include("privacy.urls")),
    path("", include("support.urls")),
]

# The app's API first (no other route starts with api/v1/): the pages below are rare.
urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("", web_client, name="web-client"),
    path("web/social/start", web_login.social_start, name="web-social-start"),
    path("web/social/session", web_login.social_session, name="web-social-session"),
    path("healthz", HealthApi.as_view(), name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/schema/", gate(SpectacularAPIView.as_view(), _docs_enabled), name="schema"),
    path(
        "api/docs/",
        gate(SpectacularSwaggerView.as_view(url_name="schema"), _docs_enabled),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        gate(SpectacularRedocView.as_view(url_name="schema"), _docs_enabled),
        name="api-redoc",
    ),
]

handler400 = "meetnow.lib.errors.handler400"
handler403 = "meetnow.lib.errors.handler403"
handler404 = "meetnow.lib.errors.handler404"
handler500 = "meetnow.lib.errors.handler500"

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
