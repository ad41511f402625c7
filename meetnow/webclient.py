"""The web client's page (issue 16): one HTML shell at ``/``; the client itself is plain ES
modules under ``static/web/`` that talk only to the public API and WebSocket, exactly like
the mobile app. The page carries a Content-Security-Policy that forbids inline script."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from accounts.web_login import web_providers


def _media_origins() -> list[str]:
    """Where signed file URLs point besides this origin (an S3 endpoint, a CDN)."""
    origins = list(settings.MEETNOW_WEB_MEDIA_ORIGINS)
    endpoint = getattr(settings, "AWS_S3_ENDPOINT_URL", "") or ""
    if settings.STORAGE_BACKEND == "s3":
        if endpoint:
            parts = urlsplit(endpoint)
            origins.append(f"{parts.scheme}://{parts.netloc}")
        else:
            origins.append("https://*.amazonaws.com")
    return origins


def content_security_policy(request: HttpRequest) -> str:
    """No inline script or style, no plugins, no framing; the socket only to this host."""
    host = request.get_host()
    media = " ".join(["'self'", "blob:", *_media_origins()])
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {media} data:",
        f"media-src {media}",
        f"connect-src 'self' ws://{host} wss://{host}",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


@require_GET
@ensure_csrf_cookie
def web_client(request: HttpRequest) -> HttpResponse:
    """The client's shell; screens are hash routes (``/#/chat``) drawn by ``static/web``.

    The CSRF token is only for the social login's two same-origin calls
    (``accounts/web_login.py``); everything else uses the app's session token."""
    response = render(
        request,
        "web/index.html",
        {
            "dev_sms_console": settings.SMS_BACKEND == "console",
            "default_region": settings.PHONENUMBER_DEFAULT_REGION,
            "social": json.dumps(web_providers(request)),
            # The account deletion's cooling-off, said on the privacy centre's button.
            "erasure_grace_days": settings.MEETNOW_ERASURE_GRACE_DAYS,
        },
    )
    response["Content-Security-Policy"] = content_security_policy(request)
    response["Cache-Control"] = "no-cache"
    response["Permissions-Policy"] = "camera=(self), microphone=(self), geolocation=()"
    return response
