"""Social login from the web client (issue 16): the provider's browser redirect, handed
over to the app client's session token.

The web client is an allauth headless ``app`` client (``X-Session-Token``), like the
mobile app; but a browser has no provider SDK to get an id_token from, so it uses the
provider's OAuth redirect instead:

1. ``POST /web/social/start`` ``{"provider": "google"}`` (CSRF header, same origin): the
   state is stashed in this browser's cookie session, marked as a web social login, and
   the answer is ``{"location": <the provider's authorize URL>}``; the page navigates there.
2. The provider sends the browser back to allauth's own callback
   (``/accounts/<provider>/login/callback/``, the only allauth HTML route switched on).
   allauth completes the login headlessly in that cookie session (logged in, or a
   pending ``provider_signup``) and redirects to ``/#/social`` (``?error=…`` on failure).
3. ``POST /web/social/session`` (CSRF header) hands that session over as the app's
   ``session_token`` (with session tokens the token is the session key) and removes the
   cookie: from then on the page continues exactly like the mobile app after
   ``provider/token`` (``GET /auth/session``, ``POST /auth/provider/signup``).

Only a session started by step 1 within ``WEB_SOCIAL_MAX_AGE`` is handed over, once, and
never a staff member's. Providers offered: those allauth can redirect to whose visible
app has a secret; not Apple (its callback is a cross-site POST that a ``SameSite=Lax``
session cookie does not follow) and not WeChat (its web QR login is another app type).
"""

from __future__ import annotations

import json
import time
from typing import Any

from allauth.socialaccount.adapter import get_adapter as get_socialaccount_adapter
from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from meetnow.lib.errors import json_error

WEB_SOCIAL_KEY = "meetnow_web_social"
WEB_SOCIAL_MAX_AGE = 15 * 60  # seconds from step 1 to step 3
WEB_SOCIAL_NEXT = "/#/social"
_NO_WEB_REDIRECT = {"apple", "wechat"}


def web_providers(request: HttpRequest | None) -> list[dict[str, str]]:
    """The providers the web client can offer: ``[{"id", "name", "authorize_origin"}]``."""
    adapter = get_socialaccount_adapter()
    seen: set[str] = set()
    found: list[dict[str, str]] = []
    for candidate in adapter.list_providers(request):
        pid = candidate.id
        if pid in seen or pid in _NO_WEB_REDIRECT or not candidate.supports_redirect:
            continue
        seen.add(pid)
        try:
            provider = adapter.get_provider(request, pid)
        except (ObjectDoesNotExist, MultipleObjectsReturned):
            continue  # no single visible app: not offered
        app = getattr(provider, "app", None)
        if app is None or not app.secret:
            continue
        found.append({"id": pid, "name": str(provider.name)})
    return found


def provider_offered(provider_id: str) -> bool:
    """Whether the web client offers ``provider_id`` (its OAuth callback is open only then)."""
    return any(p["id"] == provider_id for p in web_providers(None))


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@never_cache
@csrf_protect
@require_POST
def social_start(request: HttpRequest) -> HttpResponse:
    """Step 1: where to send the browser for ``provider``."""
    provider_id = _body(request).get("provider")
    offered = {p["id"] for p in web_providers(request)}
    if not isinstance(provider_id, str) or provider_id not in offered:
        return json_error(400, "unknown_provider", _("This login provider is not available."))
    if request.user.is_authenticated:
        # A cookie session here is the admin's (app users have none): start clean.
        logout(request)
    provider = get_socialaccount_adapter().get_provider(request, provider_id)
    request.session[WEB_SOCIAL_KEY] = time.time()
    response = provider.redirect(request, "login", next_url=WEB_SOCIAL_NEXT, headless=True)
    location = response.get("Location") if response.status_code in (301, 302) else None
    if not location:
        return json_error(502, "provider_unavailable", _("The login provider failed. Try again."))
    return JsonResponse({"location": location})


@never_cache
@csrf_protect
@require_POST
def social_session(request: HttpRequest) -> HttpResponse:
    """Step 3: this browser's social-login session becomes the app's session token."""
    started = request.session.get(WEB_SOCIAL_KEY)
    fresh = isinstance(started, float) and 0 <= time.time() - started <= WEB_SOCIAL_MAX_AGE
    user = request.user
    if not fresh or (user.is_authenticated and (user.is_staff or user.is_superuser)):
        return json_error(
            400, "no_social_login", _("No login with a provider is waiting here. Start again.")
        )
    del request.session[WEB_SOCIAL_KEY]
    request.session.save()
    token = request.session.session_key
    # The cookie is not set again: the session now lives on only as the app's token.
    request.session.modified = False
    response = JsonResponse({"session_token": token})
    response.delete_cookie(
        settings.SESSION_COOKIE_NAME,
        path=settings.SESSION_COOKIE_PATH,
        domain=settings.SESSION_COOKIE_DOMAIN,
        samesite=settings.SESSION_COOKIE_SAMESITE,
    )
    return response
