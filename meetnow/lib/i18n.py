"""Languages, time zones and display formats of a person (issue 17, docs/i18n.md).

A request speaks the language of its ``Accept-Language`` header (Django's
``LocaleMiddleware``: ``zh-Hans``, ``zh-CN`` and ``zh`` all select Simplified
Chinese, anything else English). What is sent later without a request (SMS and
voice codes, pushes, privacy notices, the export) follows the user's own
``language`` and time zone: wrap it in :func:`user_locale`. Staff pages follow the
staff member's ``language`` (:class:`StaffLanguageMiddleware`).

``meetnow.lib`` knows no user model: a "user" here is anything with ``language``
and ``time_zone`` attributes (``accounts.User``).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import phonenumbers
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import formats, timezone, translation

ENGLISH = "en"
CHINESE = "zh-hans"
# The API's ``language`` values (settings.LANGUAGES; one OpenAPI enum).
LANGUAGE_CODES = [ENGLISH, CHINESE]


def language_supported(code: str | None) -> str:
    """The supported language closest to ``code`` (``zh-CN`` -> ``zh-hans``), else English."""
    if not code:
        return settings.LANGUAGE_CODE
    try:
        return translation.get_supported_language_variant(code.lower())
    except LookupError:
        return settings.LANGUAGE_CODE


def language_from_header(header: str) -> str:
    """The language an ``Accept-Language`` header asks for, as Django's middleware reads it."""
    from django.utils.translation.trans_real import parse_accept_lang_header

    for code, _quality in parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def language_current() -> str:
    """The language active now (the request's, or the one :func:`user_locale` set)."""
    return language_supported(translation.get_language())


def user_language(user: Any) -> str:
    return language_supported(getattr(user, "language", None))


def user_time_zone(user: Any) -> zoneinfo.ZoneInfo:
    """The user's zone: the one the app sent, else Asia/Shanghai for zh-Hans, else UTC."""
    name = getattr(user, "time_zone", "") or ""
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    if user_language(user) == CHINESE:
        return zoneinfo.ZoneInfo(settings.MEETNOW_ZH_HANS_TIME_ZONE)
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def time_zone_valid(name: str) -> bool:
    if not name:
        return True
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


@contextmanager
def user_locale(user: Any) -> Iterator[str]:
    """Texts and times in ``user``'s language and zone for the ``with`` block."""
    language = user_language(user)
    with translation.override(language), timezone.override(user_time_zone(user)):
        yield language


def display(value: dt.datetime | dt.date | int | float | Decimal, *, user: Any = None) -> str:
    """``value`` as a person reads it, in ``user``'s language and zone (else the active ones).

    The one helper for every date, time and number a person reads (SMS, push, notices,
    the export's guide, the admin): a datetime in the zone (``2026年12月4日 18:05`` /
    ``Dec. 4, 2026, 6:05 p.m.``), a date (``2026年12月19日`` / ``Dec. 19, 2026``), a
    number with the language's grouping and decimal mark (``12,345.5``). Machine
    timestamps in the API stay ISO-8601 UTC.
    """
    if user is not None:
        with user_locale(user):
            return display(value)
    if isinstance(value, dt.datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return formats.date_format(value, "DATE_FORMAT")
    return formats.number_format(value, force_grouping=True)


def phone_display(phone: Any, *, region: str | None = None) -> str:
    """A number as its owner reads it: national format in their own region, else international.

    ``region`` defaults to ``PHONENUMBER_DEFAULT_REGION`` (CN): +86 138 0013 8000 shows
    as ``138 0013 8000`` to a user in China.
    """
    if not phone:
        return ""
    try:
        number = phonenumbers.parse(str(phone), None)
    except phonenumbers.NumberParseException:
        return str(phone)
    region = region or settings.PHONENUMBER_DEFAULT_REGION
    if phonenumbers.region_code_for_number(number) == region:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class StaffLanguageMiddleware:
    """Staff pages in the staff member's own ``language`` and time zone.

    Runs after authentication. A browser's Accept-Language says little about which
    language a staff member chose to work in; the account's setting wins on the
    admin pages. The app's API keeps following Accept-Language.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is None
            or not request.path.startswith("/admin/")
            or not (user.is_authenticated and user.is_staff)
            or not getattr(user, "language", "")
        ):
            try:
                return self.get_response(request)
            finally:
                # The API's token authentication activates the user's zone
                # (meetnow.lib.authentication); it ends with the request.
                timezone.deactivate()
        language = user_language(user)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        timezone.activate(user_time_zone(user))
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        response.headers["Content-Language"] = language
        return response


class WebSocketLanguageMiddleware:
    """A WebSocket speaks the language of its handshake's ``Accept-Language``, as the API does.

    ASGI middleware around the WebSocket router: the whole connection (its error
    frames, the call signalling's messages) runs with that language active.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        headers = dict(scope.get("headers") or [])
        header = headers.get(b"accept-language", b"").decode("latin-1")
        with translation.override(language_from_header(header)):
            return await self.inner(scope, receive, send)
