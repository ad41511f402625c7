"""``message.send`` on the app's WebSocket: the HTTP send without HTTP (issue 20).

A frame ``{"type": "message.send", "conversation": uuid, "client_id": uuid, "kind",
"text", "media"}`` is answered by one ``message.ack`` frame carrying the same
``client_id`` and either the stored message (``status`` 201, or 200 for a retry of a
``client_id`` already stored, whichever transport stored it) or the one error shape
(``status`` and ``errors``) with the codes of ``POST /conversations/{uuid}/messages``.

One code path with HTTP: the frame's fields are the HTTP endpoint's input
(``chat.apis.MessageListApi.InputSerializer``, which explains every refusal), the
send counts against the same per-user limit (``chat_send``, the same counter), and
``chat.services.message_send`` stores it (membership, blocks, bans, attachments,
idempotency). Errors go through the REST API's exception handler, so codes and
statuses cannot drift apart. The consent gate is the consumer's (checked at connect,
at every heartbeat and whenever privacy restamps the user's sessions).

The work runs on a small pool of threads per process (``MEETNOW_WS_SEND_THREADS``),
not on Channels' single database thread, so several sends (of one socket or many)
are in flight at once; the consumer keeps each conversation's sends in frame order.
"""

from __future__ import annotations

import json
import uuid as uuid_lib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.utils.translation import gettext
from rest_framework.exceptions import Throttled

from accounts.models import User
from chat import payloads, services
from chat.models import MessageKind
from meetnow.lib.errors import error, error_body, exception_handler
from meetnow.lib.throttling import scoped_limit_wait

FRAME = "message.send"
ACK = "message.ack"
SEND_SCOPE = "chat_send"
_FIELDS = frozenset({"type", "conversation", "client_id", "kind", "text", "media"})
_KINDS = frozenset(k for k in MessageKind.values if k != MessageKind.SYSTEM)

_executor = ThreadPoolExecutor(
    max_workers=settings.MEETNOW_WS_SEND_THREADS, thread_name_prefix="ws-send"
)


def _uuid_or_none(value: Any) -> uuid_lib.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid_lib.UUID(value)
    except ValueError:
        return None


def _input_clean(content: dict[str, Any]) -> dict[str, Any]:
    """The validated fields, as the HTTP endpoint's serializer gives them.

    The common case (well-formed frame) is checked here directly; anything else goes
    through that serializer, which raises the HTTP endpoint's exact validation error.
    """
    client_id = _uuid_or_none(content.get("client_id"))
    kind = content.get("kind", MessageKind.TEXT)
    text = content.get("text", "")
    media = content.get("media")
    if (
        client_id is not None
        and _FIELDS.issuperset(content)
        and kind in _KINDS
        and isinstance(text, str)
        and (media is None or _uuid_or_none(media) is not None)
    ):
        return {
            "client_id": client_id,
            "kind": kind,
            "text": text,
            "media": _uuid_or_none(media),
        }
    from chat.apis import MessageListApi  # the HTTP input, for its error reports

    data = {k: v for k, v in content.items() if k not in ("type", "conversation")}
    serializer = MessageListApi.InputSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    valid = dict(serializer.validated_data)
    valid.setdefault("media", None)
    return valid


def _ack(client_id: Any, body: dict[str, Any]) -> str:
    echo = client_id if isinstance(client_id, str) else None
    return json.dumps(
        {"type": ACK, "client_id": echo, **body}, ensure_ascii=False, separators=(",", ":")
    )


def ack_error(client_id: Any, status: int, code: str, message: str) -> str:
    """An error ack (for refusals decided by the consumer itself)."""
    return _ack(client_id, error_body(status, [error(code, message)]))


def message_send_frame(*, sender: User, content: dict[str, Any]) -> tuple[int, str]:
    """Handle one ``message.send`` frame (in a worker thread); returns the ack's status
    and text."""
    client_id = content.get("client_id")
    try:
        fields = _input_clean(content)
        limited = scoped_limit_wait(scope=SEND_SCOPE, user_id=sender.pk)
        if limited is not None:
            raise Throttled(wait=limited)
        message, created = services.message_send(
            sender=sender,
            conversation_uuid=content.get("conversation"),
            client_id=fields["client_id"],
            kind=fields["kind"],
            text=fields["text"],
            media=fields["media"],
        )
    except Exception as exc:  # answered as HTTP answers it, or re-raised
        response = exception_handler(exc, {})
        if response is None:
            raise
        body = dict(response.data)
        wait = getattr(exc, "wait", None) if isinstance(exc, Throttled) else None
        if wait is not None:
            body["retry_after"] = int(wait + 0.999)
        return response.status_code, _ack(client_id, body)
    status = 201 if created else 200
    return status, _ack(client_id, {"status": status, "message": payloads.message_payload(message)})


message_send_frame_async = DatabaseSyncToAsync(
    message_send_frame, thread_sensitive=False, executor=_executor
)


def refusal_message(code: str) -> str:
    """What a person reads when the socket refuses a send for the consent gate."""
    if code == "consent_withdrawn":
        return gettext("You withdrew consent, so the account can't be used.")
    if code == "underage":
        return gettext("MeetNow is only for people of the minimum age.")
    if code == "date_of_birth_required":
        return gettext("Your date of birth is needed before you use MeetNow.")
    if code == "consent_required":
        return gettext("Accept the privacy policy and user agreement to use MeetNow.")
    return gettext("A new version of the privacy policy or user agreement needs your consent.")
