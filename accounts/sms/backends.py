"""SMS/voice backends. Each sends one message and says whether a failure is worth a retry.

A backend never logs the number or the code (P18); the caller keeps a delivery record
with the masked number only.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol
from xml.sax.saxutils import escape

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.phones import phone_mask


class SmsTransientError(Exception):
    """Timeout, connection error, 5xx or 429: try again later."""


class SmsPermanentError(Exception):
    """The provider refused the request (4xx): retrying would not help."""


@dataclass(frozen=True)
class OutgoingMessage:
    to: str  # E.164
    channel: str  # "sms" or "voice"
    text: str
    code: str = ""  # the one-time code, when the message carries one
    language: str = "en"  # of ``text``; a voice call speaks it in this language


class SmsBackend(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> str:
        """Deliver ``message``; return the provider's message id. Raise the errors above."""
        ...


def _check(response: httpx.Response) -> None:
    if response.status_code >= 500 or response.status_code == 429:
        raise SmsTransientError(f"provider answered {response.status_code}")
    if response.status_code >= 400:
        raise SmsPermanentError(f"provider refused the message ({response.status_code})")


def _post(client: httpx.Client, url: str, **kwargs: object) -> httpx.Response:
    try:
        response = client.post(url, **kwargs)  # type: ignore[arg-type]
    except httpx.TimeoutException as exc:
        raise SmsTransientError("provider timed out") from exc
    except httpx.TransportError as exc:
        raise SmsTransientError("provider unreachable") from exc
    _check(response)
    return response


class ConsoleBackend:
    """Development: prints the message on the worker's terminal (never to the logs)."""

    name = "console"

    def send(self, message: OutgoingMessage) -> str:
        # The real terminal, not sys.stdout: a Celery worker redirects sys.stdout into
        # its logger, and a code must never become a log record (P18).
        out = sys.__stdout__ or sys.stdout
        out.write(f"[sms:{message.channel}] to {phone_mask(message.to)}: {message.text}\n")
        out.flush()
        return "console"


# Messages the locmem backend "sent" (tests read codes from here).
outbox: list[OutgoingMessage] = []


class LocmemBackend:
    """Tests: keeps every message in :data:`outbox`, like Django's locmem mail backend."""

    name = "locmem"

    def send(self, message: OutgoingMessage) -> str:
        outbox.append(message)
        return f"locmem-{len(outbox)}"


class TwilioBackend:
    """Twilio's REST API: ``Messages.json`` for SMS, ``Calls.json`` with TwiML for voice."""

    name = "twilio"

    def __init__(self) -> None:
        self.account_sid = settings.TWILIO_ACCOUNT_SID
        self.auth_token = settings.TWILIO_AUTH_TOKEN
        self.from_number = settings.TWILIO_FROM_NUMBER
        self.messaging_service_sid = settings.TWILIO_MESSAGING_SERVICE_SID
        self.base_url = settings.TWILIO_API_BASE.rstrip("/")
        if not (self.account_sid and self.auth_token):
            raise ImproperlyConfigured("SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TOKEN")
        if not (self.from_number or self.messaging_service_sid):
            raise ImproperlyConfigured("SMS_BACKEND=twilio needs TWILIO_FROM_NUMBER")

    def send(self, message: OutgoingMessage) -> str:
        base = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}"
        data: dict[str, str] = {"To": message.to}
        if message.channel == "voice":
            url = f"{base}/Calls.json"
            data["From"] = self.from_number
            data["Twiml"] = _voice_twiml(message)
        else:
            url = f"{base}/Messages.json"
            data["Body"] = message.text
            if self.messaging_service_sid:
                data["MessagingServiceSid"] = self.messaging_service_sid
            else:
                data["From"] = self.from_number
        with httpx.Client(
            auth=(self.account_sid, self.auth_token), timeout=settings.SMS_HTTP_TIMEOUT
        ) as client:
            response = _post(client, url, data=data)
        return str(_json(response).get("sid", ""))


# Twilio <Say> voices per MeetNow language.
_VOICE_LANGUAGES = {"zh-hans": "zh-CN", "en": "en-US"}


def _voice_twiml(message: OutgoingMessage) -> str:
    """The spoken code, digit by digit and twice, in the message's language."""
    with translation.override(message.language):
        if message.code:
            # Translators: between the digits of a code read aloud: "1, 2, 3".
            spoken = pgettext("spoken digits", ", ").join(message.code)
            say = _("Your MeetNow code is %(code)s. Again: %(code)s.") % {"code": spoken}
        else:
            say = message.text
    voice = _VOICE_LANGUAGES.get(message.language, "en-US")
    return f'<Response><Say language="{voice}">{escape(say)}</Say></Response>'


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError as exc:
        raise SmsTransientError("provider answered something that is not JSON") from exc
    return body if isinstance(body, dict) else {}


class HttpJsonBackend:
    """A generic HTTP JSON gateway (the usual shape of mainland-China SMS aggregators).

    ``POST SMS_HTTP_URL`` with ``Authorization: Bearer SMS_HTTP_TOKEN`` and
    ``{"to", "channel", "template", "params": {"code"}, "text", "sign"}``; the answer
    carries the message id as ``{"id": "..."}``.
    """

    name = "http"

    def __init__(self) -> None:
        self.url = settings.SMS_HTTP_URL
        self.token = settings.SMS_HTTP_TOKEN
        if not self.url:
            raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_HTTP_URL")

    def send(self, message: OutgoingMessage) -> str:
        payload = {
            "to": message.to,
            "channel": message.channel,
            "template": settings.SMS_HTTP_TEMPLATE if message.code else "notice",
            "params": {"code": message.code} if message.code else {},
            "text": message.text,
            "sign": settings.SMS_HTTP_SIGN,
        }
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        with httpx.Client(timeout=settings.SMS_HTTP_TIMEOUT) as client:
            response = _post(client, self.url, json=payload, headers=headers)
        return str(_json(response).get("id", ""))


_BACKENDS: dict[str, type[SmsBackend]] = {
    "console": ConsoleBackend,
    "locmem": LocmemBackend,
    "twilio": TwilioBackend,
    "http": HttpJsonBackend,
}


def get_backend(name: str | None = None) -> SmsBackend:
    name = name or settings.SMS_BACKEND
    try:
        backend_class = _BACKENDS[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"SMS_BACKEND must be one of {', '.join(sorted(_BACKENDS))}"
        ) from None
    return backend_class()
