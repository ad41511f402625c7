"""The re-consent gate (P1, P16), wired from settings (``MIDDLEWARE``).

While a user has not accepted a *material* new version of the privacy policy or the
user agreement, or has withdrawn consent, every ``/api/v1/`` endpoint answers 403
with the code ``reconsent_required`` (or ``consent_withdrawn``) in the single error
shape; the app then shows the new text. An account made outside sign-up is gated the
same way until it accepts (``consent_required``) and gives its date of birth
(``date_of_birth_required``); a minor's account stays gated (``underage``, P14).
Exempt: everything under ``/api/v1/privacy/`` (read and accept documents, consents,
export, deletion, processors), and allauth's ``/_allauth/`` (login, logout, reauthentication).

The state is stamped into the session at login and whenever the user's consent
changes (``privacy.consents.gate_session_stamp``), and re-computed only when a
material version was published since: a request normally costs no query here. The
current generation is read from the cache on every request, in the same ``MGET`` as
the session (``meetnow.lib.authentication.token_session_with``): one Redis round trip
for both, and never older than the session it is compared with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse, JsonResponse

from meetnow.lib.authentication import token_session_with
from meetnow.lib.errors import error, error_body
from privacy.consents import GATE_GENERATION_CACHE_KEY, gate_check_session

GATED_PREFIX = "/api/v1/"
# The public support form reads no session at all (support/apis.py): a person who owes
# consent can still reach support through it.
EXEMPT_PREFIXES = ("/api/v1/privacy/", "/api/v1/support/public-tickets")
MESSAGES = {
    "reconsent_required": (
        "A new version of the privacy policy or user agreement needs your consent. "
        "Read it at /api/v1/privacy/documents/current and accept it at /api/v1/privacy/consents."
    ),
    "consent_required": (
        "This account has not accepted the privacy policy and user agreement. Read them at "
        "/api/v1/privacy/documents/current and accept them at /api/v1/privacy/consents."
    ),
    "date_of_birth_required": (
        "Your date of birth is needed before you use MeetNow. Give it with your consent at "
        "/api/v1/privacy/consents."
    ),
    "underage": (
        "MeetNow is only for people of the minimum age. You can export your data or delete "
        "the account under /api/v1/privacy/."
    ),
    "consent_withdrawn": (
        "You withdrew consent, so the account can't be used. Accept the current version "
        "again, export your data or delete the account under /api/v1/privacy/."
    ),
}


def _session_and_user(request: HttpRequest, token: str) -> tuple[SessionBase, int, Any] | None:
    """The token's session and user id, and the gate's policy generation read in the
    same Redis round trip as the session (``None`` if it was not cached)."""
    session, cached = token_session_with(request, token, (GATE_GENERATION_CACHE_KEY,))
    if session is None:
        return None
    try:
        user_id = int(session.get(SESSION_KEY) or 0)
    except (TypeError, ValueError):
        return None
    return (session, user_id, cached.get(GATE_GENERATION_CACHE_KEY)) if user_id else None


class ReconsentGateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if not path.startswith(GATED_PREFIX) or path.startswith(EXEMPT_PREFIXES):
            return self.get_response(request)
        token = request.headers.get("X-Session-Token")
        found = _session_and_user(request, token) if token else None
        if found is not None:
            session, user_id, generation = found
            code = gate_check_session(session=session, user_id=user_id, generation=generation)
            if code:
                body = error_body(403, [error(code, MESSAGES[code], "consents")])
                return JsonResponse(body, status=403)
        return self.get_response(request)
