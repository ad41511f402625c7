"""Push notifications to phones without a live socket (P10), through a pluggable backend.

``PUSH_BACKEND``:
- ``log``: development; logs ids and counts only.
- ``fcm``: Firebase Cloud Messaging HTTP v1 for every device (OAuth2 service-account
  token, minted with PyJWT and cached until shortly before it expires).
- ``apns``: Apple Push Notification service over HTTP/2 (httpx + h2) with a
  token-based (ES256 JWT) provider key; iOS devices only.
- ``native``: Android through FCM, iOS through APNs.

A notification carries ids and counts only (the app fetches the content when it
wakes); a text preview is added only for users who opted in. Tokens the provider
reports as no longer valid are pruned. Transient failures raise
:class:`PushTransientError` so the Celery task retries with backoff.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Protocol

import httpx
import jwt
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from accounts.models import Device
from meetnow.lib.i18n import user_locale

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise

logger = logging.getLogger(__name__)


class PushTransientError(Exception):
    """The provider could not take the notification now; try again later."""


@dataclass
class PushNotification:
    kind: str  # "message", "clear", "call" or "call_end"
    conversation: str
    badge: int
    data: dict[str, str] = field(default_factory=dict)
    title: str | StrPromise | None = None  # only with an opted-in preview
    body: str | StrPromise | None = None


class PushBackend(Protocol):
    def send(self, device: Device, note: PushNotification) -> bool:
        """Deliver to one device; False means the token is invalid and must be pruned."""


class LogBackend:
    def send(self, device: Device, note: PushNotification) -> bool:
        logger.info(
            "push (log backend): %s to device %s, conversation %s, badge %d",
            note.kind,
            device.pk,
            note.conversation,
            note.badge,
        )
        return True


class FcmBackend:
    """FCM HTTP v1: ``POST /v1/projects/{id}/messages:send`` with an OAuth2 bearer."""

    scope = "https://www.googleapis.com/auth/firebase.messaging"

    def __init__(self) -> None:
        path = settings.FCM_CREDENTIALS_FILE
        if not path:
            raise ImproperlyConfigured("PUSH_BACKEND uses FCM but FCM_CREDENTIALS_FILE is empty.")
        self.credentials: dict[str, Any] = json.loads(Path(path).read_text())
        self.project_id = settings.FCM_PROJECT_ID or self.credentials.get("project_id", "")
        if not self.project_id:
            raise ImproperlyConfigured("FCM_PROJECT_ID is not set.")
        self.client = httpx.Client(timeout=settings.PUSH_TIMEOUT)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def _access_token(self, *, refresh: bool = False) -> str:
        with self._lock:
            if not refresh and self._token and self._token[1] > time.time() + 60:
                return self._token[0]
            now = int(time.time())
            assertion = jwt.encode(
                {
                    "iss": self.credentials["client_email"],
                    "scope": self.scope,
                    "aud": self.credentials["token_uri"],
                    "iat": now,
                    "exp": now + 3600,
                },
                self.credentials["private_key"],
                algorithm="RS256",
            )
            try:
                response = self.client.post(
                    self.credentials["token_uri"],
                    data={
                        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                        "assertion": assertion,
                    },
                )
            except httpx.HTTPError as exc:
                raise PushTransientError("FCM token endpoint unreachable") from exc
            if response.status_code != 200:
                raise PushTransientError(f"FCM token endpoint answered {response.status_code}")
            body = response.json()
            self._token = (body["access_token"], time.time() + int(body.get("expires_in", 3600)))
            return self._token[0]

    def _message(self, device: Device, note: PushNotification) -> dict[str, Any]:
        if note.kind in CALL_KINDS:
            return _fcm_call_message(device, note)
        data = {
            "type": note.kind,
            "conversation": note.conversation,
            "badge": str(note.badge),
            **note.data,
        }
        message: dict[str, Any] = {
            "token": device.push_token,
            "data": data,
            "android": {"priority": "high", "collapse_key": note.conversation},
        }
        if note.kind == "clear":
            message["android"]["priority"] = "normal"
        if note.title is not None or note.body is not None:
            message["notification"] = {"title": note.title or "", "body": note.body or ""}
        if device.platform == "ios":
            aps: dict[str, Any] = {"badge": note.badge}
            if note.kind == "clear":
                aps["content-available"] = 1
            else:
                aps["mutable-content"] = 1
                aps["thread-id"] = note.conversation
            message["apns"] = {"payload": {"aps": aps}}
        return message

    def send(self, device: Device, note: PushNotification) -> bool:
        url = f"{settings.FCM_BASE_URL.rstrip('/')}/v1/projects/{self.project_id}/messages:send"
        body = {"message": self._message(device, note)}
        for attempt in (0, 1):
            token = self._access_token(refresh=attempt == 1)
            try:
                response = self.client.post(
                    url, json=body, headers={"Authorization": f"Bearer {token}"}
                )
            except httpx.HTTPError as exc:
                raise PushTransientError("FCM unreachable") from exc
            if response.status_code == 401 and attempt == 0:
                continue
            break
        if response.status_code == 200:
            return True
        if response.status_code == 404 or _fcm_error_code(response) == "UNREGISTERED":
            return False
        if response.status_code == 400 and _fcm_error_code(response) == "INVALID_ARGUMENT":
            # FCM's answer to a malformed registration token.
            return False
        if response.status_code == 429 or response.status_code >= 500:
            raise PushTransientError(f"FCM answered {response.status_code}")
        logger.warning("push: FCM refused a notification (%s)", response.status_code)
        return True


def _fcm_error_code(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
    except ValueError:
        return ""
    for detail in error.get("details", []) or []:
        if isinstance(detail, dict) and detail.get("errorCode"):
            return str(detail["errorCode"])
    return str(error.get("status", ""))


class ApnsBackend:
    """APNs provider API over HTTP/2, token-based authentication (ES256 JWT, ≤ 1 h)."""

    def __init__(self) -> None:
        missing = [
            name
            for name in ("APNS_KEY_FILE", "APNS_KEY_ID", "APNS_TEAM_ID", "APNS_TOPIC")
            if not getattr(settings, name)
        ]
        if missing:
            raise ImproperlyConfigured("APNs push needs " + ", ".join(missing))
        self.key = Path(settings.APNS_KEY_FILE).read_text()
        # HTTP/2 only: negotiated by ALPN over TLS (production), prior knowledge on
        # plain http (the local fake in tests).
        self.client = httpx.Client(http1=False, http2=True, timeout=settings.PUSH_TIMEOUT)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def _provider_token(self) -> str:
        with self._lock:
            # Apple refuses tokens older than an hour and throttles refreshes more
            # often than every 20 minutes: renew every 50 minutes.
            if self._token and self._token[1] > time.time():
                return self._token[0]
            token = jwt.encode(
                {"iss": settings.APNS_TEAM_ID, "iat": int(time.time())},
                self.key,
                algorithm="ES256",
                headers={"kid": settings.APNS_KEY_ID},
            )
            self._token = (token, time.time() + 50 * 60)
            return token

    def send(self, device: Device, note: PushNotification) -> bool:
        if note.kind in CALL_KINDS:
            return self._post(device, *_apns_call(note))
        aps: dict[str, Any] = {"badge": note.badge}
        if note.kind == "clear":
            aps["content-available"] = 1
            push_type, priority = "background", "5"
        else:
            alert: dict[str, Any] = {"loc-key": "NEW_MESSAGE"}
            if note.title is not None or note.body is not None:
                alert = {"title": note.title or "", "body": note.body or ""}
            aps.update({"alert": alert, "sound": "default", "mutable-content": 1})
            aps["thread-id"] = note.conversation
            push_type, priority = "alert", "10"
        payload = {"aps": aps, "type": note.kind, "conversation": note.conversation, **note.data}
        headers = {
            "apns-topic": settings.APNS_TOPIC,
            "apns-push-type": push_type,
            "apns-priority": priority,
            "apns-collapse-id": note.conversation[:64],
        }
        return self._post(device, payload, headers)

    def _post(self, device: Device, payload: dict[str, Any], headers: dict[str, str]) -> bool:
        headers = {"authorization": f"bearer {self._provider_token()}", **headers}
        url = f"{settings.APNS_BASE_URL.rstrip('/')}/3/device/{device.push_token}"
        try:
            response = self.client.post(url, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise PushTransientError("APNs unreachable") from exc
        if response.status_code == 200:
            return True
        reason = ""
        with contextlib.suppress(ValueError):
            reason = str(response.json().get("reason", ""))
        if response.status_code == 410 or reason in {
            "BadDeviceToken",
            "Unregistered",
            "DeviceTokenNotForTopic",
        }:
            return False
        if response.status_code == 429 or response.status_code >= 500:
            raise PushTransientError(f"APNs answered {response.status_code}")
        logger.warning("push: APNs refused a notification (%s %s)", response.status_code, reason)
        return True


# --- Calls (issue 8, chat/calls/push.py): "call" wakes a phone, "call_end" stops it ringing.
CALL_KINDS = ("call", "call_end")


def _call_ttl(note: PushNotification) -> int:
    return int(note.data.get("ttl", "45"))


def _fcm_call_message(device: Device, note: PushNotification) -> dict[str, Any]:
    """Data-only, high priority, expiring with the ring timeout (a late push never rings)."""
    ttl = _call_ttl(note)
    data = {"type": note.kind, "conversation": note.conversation, **note.data}
    message: dict[str, Any] = {
        "token": device.push_token,
        "data": data,
        "android": {"priority": "high", "ttl": f"{ttl}s"},
    }
    if device.platform == "ios":
        aps: dict[str, Any] = {"content-available": 1}
        if note.kind == "call":
            aps = {"alert": {"loc-key": "INCOMING_CALL"}, "sound": "default"}
            aps["interruption-level"] = "time-sensitive"
        message["apns"] = {
            "headers": {
                "apns-priority": "10" if note.kind == "call" else "5",
                "apns-expiration": str(int(time.time()) + ttl),
            },
            "payload": {"aps": aps},
        }
    return message


def _apns_call(note: PushNotification) -> tuple[dict[str, Any], dict[str, str]]:
    """A PushKit VoIP push (``MEETNOW_CALL_PUSH_VOIP``: the app registered its VoIP token)
    or a time-sensitive alert; ``call_end`` is a background push."""
    ttl = _call_ttl(note)
    topic, push_type, priority = settings.APNS_TOPIC, "background", "5"
    aps: dict[str, Any] = {"content-available": 1}
    if note.kind == "call" and getattr(settings, "MEETNOW_CALL_PUSH_VOIP", False):
        topic, push_type, priority, aps = f"{settings.APNS_TOPIC}.voip", "voip", "10", {}
    elif note.kind == "call":
        push_type, priority = "alert", "10"
        aps = {
            "alert": {"loc-key": "INCOMING_CALL"},
            "sound": "default",
            "interruption-level": "time-sensitive",
        }
    payload = {"aps": aps, "type": note.kind, "conversation": note.conversation, **note.data}
    headers = {
        "apns-topic": topic,
        "apns-push-type": push_type,
        "apns-priority": priority,
        "apns-expiration": str(int(time.time()) + ttl),
        "apns-collapse-id": note.data.get("call", note.conversation)[:64],
    }
    return payload, headers


class NativeBackend:
    """Android devices through FCM, iOS devices through APNs."""

    def __init__(self) -> None:
        self.fcm = FcmBackend()
        self.apns = ApnsBackend()

    def send(self, device: Device, note: PushNotification) -> bool:
        backend: PushBackend = self.apns if device.platform == "ios" else self.fcm
        return backend.send(device, note)


class ApnsOnlyBackend(ApnsBackend):
    def send(self, device: Device, note: PushNotification) -> bool:
        if device.platform != "ios":
            return True
        return super().send(device, note)


_BACKENDS: dict[str, type[Any]] = {
    "log": LogBackend,
    "fcm": FcmBackend,
    "apns": ApnsOnlyBackend,
    "native": NativeBackend,
}
_cache: dict[tuple[Any, ...], PushBackend] = {}


def push_backend() -> PushBackend:
    """The configured backend (one per process and configuration)."""
    name = settings.PUSH_BACKEND
    if name not in _BACKENDS:
        raise ImproperlyConfigured("PUSH_BACKEND must be one of " + ", ".join(_BACKENDS))
    key = (
        name,
        settings.FCM_CREDENTIALS_FILE,
        settings.FCM_BASE_URL,
        settings.APNS_BASE_URL,
        settings.APNS_KEY_FILE,
    )
    if key not in _cache:
        _cache[key] = _BACKENDS[name]()
    return _cache[key]


SENT_KEY_TTL = 24 * 3600  # seconds a "this device was told" mark is kept


def _in_language(device: Device, note: Callable[[Device], PushNotification]) -> PushNotification:
    """The notification with its texts in the device owner's language and zone (issue 17).

    Titles and bodies may be lazy translations; they become text here, in the
    language of the user, and a date or time in them (``display()``) in the user's
    zone (``user_language`` and ``user_time_zone``, annotated by
    ``push_devices_for_users``; else read from the user).
    """
    if hasattr(device, "user_language"):
        owner: Any = SimpleNamespace(
            language=device.user_language, time_zone=getattr(device, "user_time_zone", "")
        )
    else:
        owner = device.user
    with user_locale(owner):
        out = note(device)
        return dataclasses.replace(
            out,
            title=None if out.title is None else str(out.title),
            body=None if out.body is None else str(out.body),
        )


def push_send(
    devices: Iterable[Device],
    note: Callable[[Device], PushNotification],
    *,
    once_key: Callable[[Device], str] | None = None,
) -> int:
    """Send ``note(device)`` to each device; returns how many were notified.

    With ``once_key``, a device is told at most once per key (for a day), so a task
    delivered twice notifies nobody twice; a send that raises gives its key back for
    the retry. Tokens the provider reports as no longer valid are pruned (the device
    stays). Transient failures raise :class:`PushTransientError`.
    """
    backend = push_backend()
    sent = 0
    invalid: list[int] = []
    for device in devices:
        key = once_key(device) if once_key is not None else None
        if key is not None and not cache.add(key, 1, timeout=SENT_KEY_TTL):
            continue
        try:
            ok = backend.send(device, _in_language(device, note))
        except Exception:
            if key is not None:
                cache.delete(key)
            raise
        if ok:
            sent += 1
        else:
            invalid.append(device.pk)
    if invalid:
        Device.objects.filter(pk__in=invalid).update(push_token="")
        logger.info("push: pruned %d invalid tokens", len(invalid))
    return sent
