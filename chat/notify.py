"""Push services (P10): who gets a notification for a message, and the "clear" push.

Called by the Celery tasks in chat/tasks.py (queue ``push``); tests call them
directly. Payloads carry ids and counts; a text preview only for users who opted in.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Device, Notice
from accounts.notices import notice_text
from accounts.selectors import push_devices_for_users
from accounts.services import notice_create
from chat.events import EventType, PendingEvent, events_append
from chat.models import (
    ChatSettings,
    Conversation,
    Membership,
    Message,
    MessageKind,
    RequestState,
)
from chat.push import PushNotification, push_send
from chat.selectors import message_push_recipient_ids, unread_totals
from meetnow.lib.outbox import task_send

logger = logging.getLogger(__name__)

PREVIEW_CHARS = 80
_KIND_PREVIEW = {
    MessageKind.IMAGE: _("[Photo]"),
    MessageKind.VOICE: _("[Voice message]"),
    MessageKind.VIDEO: _("[Video]"),
}


def message_push_send(*, message_id: int) -> int:
    """Notify the offline, unmuted members with push enabled of ``message_id``.

    Idempotent: a device is notified at most once per message, even if the task is
    delivered twice. Returns the number of devices notified.
    """
    message = Message.objects.select_related("conversation", "sender").filter(pk=message_id).first()
    if message is None or message.is_removed:
        return 0
    recipients = message_push_recipient_ids(message=message)
    if not recipients:
        return 0
    devices = push_devices_for_users(user_ids=recipients)
    if not devices:
        return 0
    badges = unread_totals(user_ids=recipients)
    previews = set(
        ChatSettings.objects.filter(user_id__in=recipients, push_previews=True).values_list(
            "user_id", flat=True
        )
    )
    conversation = str(message.conversation.uuid)

    def note(device: Device) -> PushNotification:
        out = PushNotification(
            kind="message",
            conversation=conversation,
            badge=badges.get(device.user_id, 0),
            data={"message_id": str(message.pk)},
        )
        if device.user_id in previews:
            out.title = message.sender.nickname if message.sender else ""
            out.body = _KIND_PREVIEW.get(message.kind, message.text[:PREVIEW_CHARS])  # type: ignore[call-overload]
        return out

    return push_send(devices, note, once_key=lambda device: f"chat:push:m{message.pk}:d{device.pk}")


def conversation_clear_push_send(*, user_id: int, conversation_id: int) -> int:
    """Tell the user's phones to clear the conversation's notifications (read elsewhere)."""
    devices = push_devices_for_users(user_ids=[user_id])
    if not devices:
        return 0
    conversation = Conversation.objects.filter(pk=conversation_id).values_list("uuid", flat=True)
    conv_uuid = conversation.first()
    if conv_uuid is None:
        return 0
    badge = unread_totals(user_ids=[user_id]).get(user_id, 0)
    note = PushNotification(kind="clear", conversation=str(conv_uuid), badge=badge)
    return push_send(devices, lambda device: note)


NEW_DEVICE_TITLE = _("New sign-in")
NEW_DEVICE_BODY = _(
    "Your account was just signed in on a new phone. Not you? End that session in Settings."
)


def new_device_event_append(*, user_id: int, device_id: int) -> None:
    """The new-device notice on the account's event stream (P6): every device learns of
    it through ``/sync`` and its socket; the payload names the device's id only."""
    with transaction.atomic():
        events_append(
            [
                PendingEvent(
                    user_ids=[user_id],
                    type=EventType.SECURITY_NEW_DEVICE,
                    stored={"device_id": device_id},
                )
            ]
        )


def new_device_push_send(*, user_id: int, device_id: int) -> int:
    """Tell the user's other phones that a new one signed in (P6).

    The notice names no device, place or address; the app shows the sessions list.
    Idempotent: each phone is told at most once per new device. Returns the number
    of phones notified.
    """
    devices = [d for d in push_devices_for_users(user_ids=[user_id]) if d.pk != device_id]
    note = PushNotification(
        kind="new_device",
        conversation="",
        badge=0,
        data={"device_id": str(device_id)},
        title=NEW_DEVICE_TITLE,
        body=NEW_DEVICE_BODY,
    )
    return push_send(
        devices,
        lambda device: note,
        once_key=lambda device: f"chat:push:new-device{device_id}:d{device.pk}",
    )


def request_push_send(*, user_id: int, conversation_id: int) -> int:
    """The one push of a new message request: ids only, never a preview or a name
    (whatever ``push_previews`` says), once per device. Nothing if the request was
    answered meanwhile."""
    pending = (
        Membership.objects.filter(
            user_id=user_id,
            conversation_id=conversation_id,
            request_state=RequestState.PENDING,
        )
        .values_list("conversation__uuid", flat=True)
        .first()
    )
    if pending is None:
        return 0
    devices = push_devices_for_users(user_ids=[user_id])
    if not devices:
        return 0
    note = PushNotification(
        kind="message_request",
        conversation=str(pending),
        badge=unread_totals(user_ids=[user_id]).get(user_id, 0),
    )
    return push_send(
        devices,
        lambda device: note,
        once_key=lambda device: f"chat:push:request{conversation_id}:d{device.pk}",
    )


NOTICE_BODY = _("Open MeetNow to read it.")


def notice_send(
    *, user_id: int, kind: str, params: dict[str, Any] | None = None, push: bool = True
) -> Notice:
    """Tell the user of an outcome (P13, P17): a notice in the inbox, a
    ``notice.created`` event on the account's stream (sync and socket), and after
    commit a push to the user's phones (``push=False`` where the same action already
    sends its own push, as a support answer does). Call inside the writing
    transaction (or not: the notice and its event commit together either way)."""
    with transaction.atomic():
        notice = notice_create(user_id=user_id, kind=kind, params=params)
        events_append(
            [
                PendingEvent(
                    user_ids=[user_id],
                    type=EventType.NOTICE_CREATED,
                    stored={"notice_id": notice.pk, "kind": kind},
                )
            ]
        )
        notice_id = notice.pk
        if push:
            transaction.on_commit(lambda: _notice_push_enqueue(notice_id))
    return notice


def _notice_push_enqueue(notice_id: int) -> None:
    from chat.tasks import notice_push_task  # chat.tasks imports this module

    task_send(notice_push_task, notice_id)


def notice_push_send(*, notice_id: int) -> int:
    """Push a notice to its owner's phones (push opt-outs respected, P10): the notice's
    title in the owner's language, a fixed body, the notice's id; never its details.

    Idempotent: each phone is told at most once per notice. Returns the number of
    phones notified.
    """
    notice = Notice.objects.filter(pk=notice_id).first()
    if notice is None:
        return 0
    devices = push_devices_for_users(user_ids=[notice.user_id])

    def note(device: Device) -> PushNotification:
        return PushNotification(
            kind="notice",
            conversation="",
            badge=0,
            data={"notice_id": str(notice.pk), "notice_kind": notice.kind},
            title=notice_text(notice).title,
            body=NOTICE_BODY,
        )

    return push_send(
        devices, note, once_key=lambda device: f"chat:push:notice{notice.pk}:d{device.pk}"
    )
