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

The send limit is counted after the send, in the Redis round trip that publishes the
message (or in one of its own if the send published nothing: a refusal, a retry),
not in a round trip before it. Each process remembers which users reached the limit
in the current window and refuses their next sends at once (429, as HTTP). So a
sequential sender is held to the limit exactly; sends already running when the
limit is reached still go through, and a process learns of sends counted elsewhere
(HTTP, other processes) from its next count: a user may exceed the limit by at most
``MEETNOW_WS_SEND_THREADS`` sends per server process per window. If counting fails
(Redis down), the next sends are counted before they are stored again, as HTTP does.

The work runs on a small pool of threads per process (``MEETNOW_WS_SEND_THREADS``),
not on Channels' single database thread, so several sends (of one socket or many)
are in flight at once; the consumer keeps each conversation's sends in frame order.
"""

from __future__ import annotations

import json
import logging
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
from meetnow.lib.throttling import WindowCount, scoped_limit_window

logger = logging.getLogger(__name__)

FRAME = "message.send"
ACK = "message.ack"
SEND_SCOPE = "chat_send"
_FIELDS = frozenset({"type", "conversation", "client_id", "kind", "text", "media"})
_KINDS = frozenset(k for k in MessageKind.values if k != MessageKind.SYSTEM)

# user id -> the send limit's counter (its window) known to be at the limit: the
# user's sends are refused at once until that window ends. Bounded (cleared when full:
# forgetting only costs one more count).
_at_limit: dict[int, str] = {}
_AT_LIMIT_MAX = 10_000
# Set when counting after a send failed: count before storing until it works again.
_count_first = False

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


def _limit_known(user_id: int, use: WindowCount) -> None:
    """Remember a user at the limit of ``use``'s window (its counter ``value`` counted)."""
    if use.value is not None and use.value >= use.limit:
        if len(_at_limit) >= _AT_LIMIT_MAX:
            _at_limit.clear()
        _at_limit[user_id] = use.key


def _limit_before(*, sender: User) -> WindowCount | None:
    """The send's use of the send limit, to count after the send; raises ``Throttled``
    if the user is known to be at the limit (or, when counting before is due, is over
    it now); ``None`` if it was counted already or the scope has no rate."""
    global _count_first
    use = scoped_limit_window(scope=SEND_SCOPE, user_id=sender.pk)
    if use is None:
        return None
    if _at_limit.get(sender.pk) == use.key:
        raise Throttled(wait=use.wait())
    if not _count_first:
        return use
    value = use.count()  # raises while Redis is down: no send goes uncounted
    _count_first = False
    _limit_known(sender.pk, use)
    if value > use.limit:
        raise Throttled(wait=use.wait())
    return None


def _limit_after(user_id: int, use: WindowCount | None) -> None:
    """Count ``use`` unless the send's publishes did (a refusal, a retry, another
    channel layer); failures are logged and make the next sends count first."""
    global _count_first
    if use is None:
        return
    if use.value is None:
        try:
            use.count()
        except Exception:
            logger.warning("chat: the send limit could not be counted; counting first")
            _count_first = True
            return
    _limit_known(user_id, use)


def message_send_frame(*, sender: User, content: dict[str, Any]) -> tuple[int, str]:
    """Handle one ``message.send`` frame (in a worker thread); returns the ack's status
    and text."""
    client_id = content.get("client_id")
    use: WindowCount | None = None
    try:
        fields = _input_clean(content)
        use = _limit_before(sender=sender)
        message, created = services.message_send(
            sender=sender,
            conversation_uuid=content.get("conversation"),
            client_id=fields["client_id"],
            kind=fields["kind"],
            text=fields["text"],
            media=fields["media"],
            counted=use,
        )
    except Exception as exc:  # answered as HTTP answers it, or re-raised
        _limit_after(sender.pk, use)
        response = exception_handler(exc, {})
        if response is None:
            raise
        body = dict(response.data)
        wait = getattr(exc, "wait", None) if isinstance(exc, Throttled) else None
        if wait is not None:
            body["retry_after"] = int(wait + 0.999)
        return response.status_code, _ack(client_id, body)
    _limit_after(sender.pk, use)
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
