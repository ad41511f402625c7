"""Guard rails around allauth's headless API (``/_allauth/``).

- Each request runs in one transaction that is rolled back when the request fails,
  so an allauth ``RateLimited`` raised half-way through a sign-up leaves no user
  row behind (research/allauth.md, pitfall 1). ``ATOMIC_REQUESTS`` is not used:
  our own services own their transactions.
- ``RateLimited`` becomes a 429 in the single error shape instead of an HTML 500.
- allauth's bare answers (a 409 without ``errors``, an HTML 400 for broken JSON)
  get the single error shape too.
- Failed code entries and code abuse are written to the security log (P6).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from allauth.account.adapter import get_adapter
from allauth.core.exceptions import RateLimited
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from accounts.models import SecurityEventKind, User
from accounts.services import security_event_record
from meetnow.lib.errors import error, error_body

PREFIX = "/_allauth/"
_CODE_ENTRY_SUFFIXES = ("/auth/code/confirm", "/auth/phone/verify")
_CODE_SENDING_SUFFIXES = (
    "/auth/signup",
    "/auth/code/request",
    "/auth/code/resend",
    "/auth/phone/verify/resend",
)
_DEFAULT_ERRORS = {
    400: ("bad_request", "The request could not be understood."),
    403: ("forbidden", "This is not allowed."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    409: (
        "flow_not_pending",
        "This step is not possible now: the code expired, too many wrong codes were "
        "entered, or the flow is already finished. Start again.",
    ),
    429: ("rate_limited", "Too many requests. Wait a moment and try again."),
}


def _rate_limited_response() -> JsonResponse:
    code, message = _DEFAULT_ERRORS[429]
    return JsonResponse(error_body(429, [error(code, message)]), status=429)


# --- A pending social sign-up (P1, P3) ---------------------------------------------------
# allauth keeps the provider's data (uid, nickname, avatar URL) in the session while the
# app asks for the date of birth and consent. A refused sign-up drops it at once; an
# abandoned one lives only SOCIAL_SIGNUP_TTL seconds (the session then expires, and the
# beat task ``sessions_clear_expired`` deletes its row; the cache entry dies with it).
_PENDING_SOCIAL = "socialaccount_sociallogin"
_PENDING_MARK = "meetnow_social_signup_pending"
_REFUSALS = {"underage", "consent_required", "policy_unavailable", "signup_closed"}


def _json(response: HttpResponse) -> dict[str, Any]:
    if not response.get("Content-Type", "").startswith("application/json"):
        return {}
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _token_session(token: str | None) -> Any:
    if not token:
        return None
    from allauth.headless.internal.sessionkit import lookup_session

    return lookup_session(token)


def social_pending_bound(request: HttpRequest, response: HttpResponse) -> None:
    """Bound the life of the provider's data in a pending social sign-up (P1, P3)."""
    if request.method != "POST" or not request.path.endswith(
        ("/auth/provider/token", "/auth/provider/signup")
    ):
        return
    body = _json(response)
    meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
    token = (meta or {}).get("session_token") or request.headers.get("X-Session-Token")
    session = _token_session(token)
    if session is None:
        return
    codes = {e.get("code") for e in body.get("errors") or [] if isinstance(e, dict)}
    if (meta or {}).get("is_authenticated"):
        if session.pop(_PENDING_MARK, None) is not None:
            session.set_expiry(None)  # a signed-in session lives as long as any other
            session.save()
    elif response.status_code == 400 and codes & _REFUSALS:
        session.pop(_PENDING_SOCIAL, None)
        session.pop(_PENDING_MARK, None)
        session.save()
    elif _PENDING_SOCIAL in session and _PENDING_MARK not in session:
        session[_PENDING_MARK] = True
        session.set_expiry(settings.MEETNOW_SOCIAL_SIGNUP_TTL)
        session.save()


def _unauthenticated_meta_fixed(response: HttpResponse) -> HttpResponse:
    """allauth writes ``"is_authenticated": user and user.is_authenticated``, which is
    ``null`` when there is no user (``POST /auth/2fa/authenticate`` without a pending
    login): its spec, and every client, expect ``false``."""
    if not response.get("Content-Type", "").startswith("application/json"):
        return response
    try:
        body = json.loads(response.content)
    except ValueError:
        return response
    meta = body.get("meta") if isinstance(body, dict) else None
    if not isinstance(meta, dict) or meta.get("is_authenticated", False) is not None:
        return response
    meta["is_authenticated"] = False
    fixed = JsonResponse(body, status=response.status_code)
    for header in ("Cache-Control", "Expires"):
        if header in response:
            fixed[header] = response[header]
    return fixed


class AllauthApiMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        pending_user_id = self._pending_user_id(request)
        with transaction.atomic():
            response = self.get_response(request)
            if response.status_code >= 500 or getattr(request, "_meetnow_rollback", False):
                transaction.set_rollback(True)
        response = self._shape_errors(response, request.path)
        self._record_security_events(request, response, pending_user_id)
        social_pending_bound(request, response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        if request.path.startswith(PREFIX) and isinstance(exception, RateLimited):
            request._meetnow_rollback = True  # type: ignore[attr-defined]
            return _rate_limited_response()
        return None

    # --- helpers ---------------------------------------------------------------------

    @staticmethod
    def _pending_user_id(request: HttpRequest) -> int | None:
        if request.method != "POST" or not request.path.endswith(_CODE_ENTRY_SUFFIXES):
            return None
        token = request.headers.get("X-Session-Token")
        if not token:
            return None
        from allauth.headless.internal.sessionkit import lookup_session

        session = lookup_session(token)
        data = session.get("account_login") if session is not None else None
        if not isinstance(data, dict):
            return None
        from allauth.account.utils import url_str_to_user_pk

        try:
            return int(url_str_to_user_pk(str(data.get("user_pk") or ""))) or None
        except (TypeError, ValueError):
            return None

    @staticmethod
    def _shape_errors(response: HttpResponse, path: str) -> HttpResponse:
        status = response.status_code
        if status == 401:
            return _unauthenticated_meta_fixed(response)
        if status < 400 or status >= 500:
            return response
        default = _DEFAULT_ERRORS.get(status, ("error", "The request failed."))
        if status == 409 and path.endswith("/resend"):
            default = (
                "resend_not_possible",
                "No more codes can be sent for this attempt. Start again.",
            )
        if response.get("Content-Type", "").startswith("application/json"):
            try:
                body = json.loads(response.content)
            except ValueError:
                body = None
            if isinstance(body, dict) and body.get("errors"):
                codes = {e.get("code") for e in body["errors"] if isinstance(e, dict)}
                if status == 400 and "too_many_login_attempts" in codes:
                    # allauth answers 400 when a number asked for too many codes; it
                    # is a rate limit, and the app treats it as one.
                    body["status"] = 429
                    return JsonResponse(body, status=429)
                return response
            if isinstance(body, dict):
                body["errors"] = [error(*default)]
                shaped = JsonResponse(body, status=status)
            else:
                shaped = JsonResponse(error_body(status, [error(*default)]), status=status)
        else:
            shaped = JsonResponse(error_body(status, [error(*default)]), status=status)
        for header in ("Cache-Control", "Expires"):
            if header in response:
                shaped[header] = response[header]
        return shaped

    @staticmethod
    def _record_security_events(
        request: HttpRequest, response: HttpResponse, pending_user_id: int | None
    ) -> None:
        if request.method != "POST":
            return
        status = response.status_code
        try:
            ip = get_adapter(request).get_client_ip(request)
        except Exception:
            ip = None
        if request.path.endswith(_CODE_ENTRY_SUFFIXES) and status in (400, 409):
            user = User.objects.filter(pk=pending_user_id).first() if pending_user_id else None
            security_event_record(
                user=user,
                kind=SecurityEventKind.LOGIN_FAILED,
                ip_address=ip,
                detail={"reason": "wrong_code" if status == 400 else "flow_aborted"},
            )
        elif request.path.endswith(_CODE_SENDING_SUFFIXES) and status == 429:
            security_event_record(user=None, kind=SecurityEventKind.CODE_ABUSE, ip_address=ip)
