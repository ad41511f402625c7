"""Middleware: one log line per request, and the API's promise of one JSON error shape."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.contrib.auth.middleware import AuthenticationMiddleware as _AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware as _MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as _SessionMiddleware
from django.core.signals import got_request_exception
from django.db import DataError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from meetnow.lib.errors import is_unavailable, json_error, service_unavailable

request_log = logging.getLogger("meetnow.request")
_EXC_INFO = "_meetnow_exc_info"


def _remember_exception(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Django's handler turns an uncaught exception into a 500: keep it for the log line."""
    if request is not None:
        setattr(request, _EXC_INFO, sys.exc_info())


got_request_exception.connect(_remember_exception, dispatch_uid="meetnow.request_log")


class RequestLogMiddleware:
    """One line per HTTP request: method, URL pattern, status, milliseconds.

    The URL *pattern* (``/api/v1/media/download/<str:token>``), never the path or the
    query string, which can carry tokens, ids or phone numbers. 4xx answers are part
    of normal flows (a sign-up's 401 "verify your phone") and log at INFO; 5xx at
    ERROR with the traceback. It replaces uvicorn's access log (``--no-access-log``)
    and Django's ``django.request`` warnings (settings.LOGGING), which logged each
    4xx twice.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        elapsed_ms = (time.perf_counter() - start) * 1000
        match = getattr(request, "resolver_match", None)
        route = "/" + match.route if match is not None and match.route else "(no route)"
        status = response.status_code
        request_log.log(
            logging.ERROR if status >= 500 else logging.INFO,
            "%s %s %s %.0f ms",
            (request.method or "")[:16],
            route,
            status,
            elapsed_ms,
            exc_info=getattr(request, _EXC_INFO, None),
        )
        return response


# Pages for people in a browser (staff); everything else is API and answers JSON.
HTML_PREFIXES = ("/admin/", "/accounts/", "/api/docs/", "/api/redoc/", "/static/")


class JsonErrorShapeMiddleware:
    """Turn any non-JSON 4xx/5xx answer outside the staff pages into the single error shape.

    Django answers some errors before a view runs (unknown route, with the HTML
    debug page in development; request too large; CSRF), and those never reach
    DRF's exception handler.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        exc_info = getattr(request, _EXC_INFO, None)
        if response.status_code == 500 and exc_info and is_unavailable(exc_info[1]):
            # The database or Redis went away in a middleware (the session's cache, the
            # consent gate), before DRF's handler could say 503: say it here.
            return service_unavailable()
        if (
            response.status_code >= 400
            and not request.path.startswith(HTML_PREFIXES)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Error"
            code = phrase.lower().replace(" ", "_").replace("-", "_")
            if status == 404:
                code = "not_found"
            elif status == 405:
                code = "method_not_allowed"
            new = json_error(status, code, f"{phrase}.")
            if "Allow" in response:
                new["Allow"] = response["Allow"]
            return new
        return response


# Deeper than any body the app sends (its deepest is three levels), far below the
# recursion limit of Python's json parser (about 1,000 levels raise RecursionError).
JSON_MAX_DEPTH = 32
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def json_depth_exceeds(body: bytes, limit: int = JSON_MAX_DEPTH) -> bool:
    """Whether ``body`` opens more than ``limit`` nested arrays or objects.

    Brackets inside strings do not count. Bodies with fewer opening brackets than
    the limit (nearly all) are answered without a scan.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


class OutOfRangeMiddleware:
    """A number too large for the database (an id of 30 digits) is bad input: 400.

    Views and forms that take ids (allauth's ``DELETE /auth/sessions`` among them)
    pass them to the database, which refuses them with ``OverflowError`` (SQLite) or
    ``DataError`` (PostgreSQL); without this they were 500s.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OverflowError | DataError):
            return json_error(400, "out_of_range", _("A value is out of range."))
        return None


class JsonDepthLimitMiddleware:
    """Refuse bodies nested deeper than :data:`JSON_MAX_DEPTH` before any parser sees them.

    DRF's and allauth's parsers both recurse per level and a body of ~1,000 ``[``
    raised ``RecursionError`` (a 500). allauth parses any body as JSON whatever its
    content type, so every body that is not a form is checked.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method not in ("GET", "HEAD", "OPTIONS")
            and not (request.content_type or "").startswith(_FORM_TYPES)
            and json_depth_exceeds(request.body)
        ):
            return json_error(400, "json_too_deep", _("The JSON body is nested too deeply."))
        return self.get_response(request)


# --- The app's token requests skip the browser's middleware ---------------------------

API_PREFIX = "/api/v1/"
TOKEN_HEADER = "HTTP_X_SESSION_TOKEN"  # noqa: S105  # a header name
_TOKEN_ONLY = "_meetnow_token_only"  # noqa: S105  # an attribute name


def token_only_request(request: HttpRequest) -> bool:
    """Whether ``request`` is an API call that carries the app's session token and no
    cookie at all: what the mobile app sends. Such a request has no browser session,
    so nothing reads or writes one for it (see :class:`BrowserOnlyMixin`). A request
    with any ``Cookie`` header (the web client, which has a CSRF cookie; the admin) is
    never one, whatever its other headers."""
    memo: bool | None = request.__dict__.get(_TOKEN_ONLY)
    if memo is None:
        meta = request.META
        memo = (
            bool(meta.get(TOKEN_HEADER))
            and not meta.get("HTTP_COOKIE")
            and request.path.startswith(API_PREFIX)
        )
        setattr(request, _TOKEN_ONLY, memo)
    return memo


class BrowserOnlyMixin:
    """Django's cookie-session middleware, run for every request except a token-only
    API request (:func:`token_only_request`).

    The app authenticates each API call by its ``X-Session-Token`` header (DRF,
    ``meetnow.lib.authentication``); the cookie session, the session's user and
    flash messages exist for the browser's pages (the admin, the web client's social
    login). For a request without a cookie they only built an empty session, an
    anonymous user and an empty message store, read them and threw them away: about
    50 µs of a like's 1.2 ms of server CPU. Their ``process_view`` and ``process_exception``
    hooks, if any, still run for every request. CSRF protection is not one of these:
    ``CsrfViewMiddleware`` runs for every request (DRF's views are exempt anyway).
    """

    get_response: Any

    def __call__(self, request: HttpRequest) -> Any:
        if token_only_request(request):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]


class SessionMiddleware(BrowserOnlyMixin, _SessionMiddleware):
    """``request.session`` (the cookie session), except for token-only API requests."""


class AuthenticationMiddleware(BrowserOnlyMixin, _AuthenticationMiddleware):
    """``request.user`` from the cookie session, except for token-only API requests
    (DRF sets it from the token)."""


class MessageMiddleware(BrowserOnlyMixin, _MessageMiddleware):
    """The admin's flash messages, except for token-only API requests."""
