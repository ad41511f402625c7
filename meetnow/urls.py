"""Top-level URL configuration: wires every app; imported by no app."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from meetnow.views import HealthApi
from meetnow.webclient import web_client

# Resolved in order: chat's routes (the busiest: messages, sync) are tried first.
# The apps' routes do not overlap, so the order changes nothing else.
api_v1 = [
    path("", include("chat.urls")),
    path("", include("accounts.urls")),
    path("", include("media.urls")),
    path("", include("privacy.urls")),
    path("", include("support.urls")),
]

urlpatterns = [
    path("", web_client, name="web-client"),
    path("healthz", HealthApi.as_view(), name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

handler400 = "meetnow.lib.errors.handler400"
handler403 = "meetnow.lib.errors.handler403"
handler404 = "meetnow.lib.errors.handler404"
handler500 = "meetnow.lib.errors.handler500"

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
