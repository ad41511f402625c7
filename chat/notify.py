"""Push services (P10): who gets a notification for a message, and the "clear" push.

Called by the Celery tasks in chat/tasks.py (queue ``push``); tests call them
directly. Payloads carry ids and counts; a text preview only for users who opted in.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

from accounts.models import Device
from accounts.selectors import push_devices_for_users
from chat.models import ChatSettings, Conversation, Message, MessageKind
from chat.push import PushNotification, push_backend
from chat.selectors import message_push_recipient_ids, unread_totals

logger = logging.getLogger(__name__)

PREVIEW_CHARS = 80
_KIND_PREVIEW = {
    MessageKind.IMAGE: "[Photo]",
    MessageKind.VOICE: "[Voice message]",
    MessageKind.VIDEO: "[Video]",
}


def _devices_prune(device_ids: list[int]) -> None:
    """Forget push tokens the provider reported as invalid (the device stays)."""
    if device_ids:
        Device.objects.filter(pk__in=device_ids).update(push_token="")
        logger.info("push: pruned %d invalid tokens", len(device_ids))


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
    backend = push_backend()
    invalid: list[int] = []
    sent = 0
    conversation = str(message.conversation.uuid)
    for device in devices:
        if not cache.add(f"chat:push:m{message.pk}:d{device.pk}", 1, timeout=24 * 3600):
            continue
        note = PushNotification(
            kind="message",
            conversation=conversation,
            badge=badges.get(device.user_id, 0),
            data={"message_id": str(message.pk)},
        )
        if device.user_id in previews:
            note.title = message.sender.nickname if message.sender else ""
            note.body = _KIND_PREVIEW.get(message.kind, message.text[:PREVIEW_CHARS])  # type: ignore[call-overload]
        try:
            ok = backend.send(device, note)
        except Exception:
            cache.delete(f"chat:push:m{message.pk}:d{device.pk}")
            raise
        if ok:
            sent += 1
        else:
            invalid.append(device.pk)
    _devices_prune(invalid)
    return sent


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
    backend = push_backend()
    invalid = []
    for device in devices:
        note = PushNotification(kind="clear", conversation=str(conv_uuid), badge=badge)
        if not backend.send(device, note):
            invalid.append(device.pk)
    _devices_prune(invalid)
    return len(devices) - len(invalid)


NEW_DEVICE_TITLE = "New sign-in"
NEW_DEVICE_BODY = (
    "Your account was just signed in on a new phone. Not you? End that session in Settings."
)


def new_device_push_send(*, user_id: int, device_id: int) -> int:
    """Tell the user's other phones that a new one signed in (P6).

    The notice names no device, place or address; the app shows the sessions list.
    Idempotent: each phone is told at most once per new device. Returns the number
    of phones notified.
    """
    devices = [d for d in push_devices_for_users(user_ids=[user_id]) if d.pk != device_id]
    backend = push_backend()
    sent = 0
    invalid: list[int] = []
    for device in devices:
        key = f"chat:push:new-device{device_id}:d{device.pk}"
        if not cache.add(key, 1, timeout=24 * 3600):
            continue
        note = PushNotification(
            kind="new_device",
            conversation="",
            badge=0,
            data={"device_id": str(device_id)},
            title=NEW_DEVICE_TITLE,
            body=NEW_DEVICE_BODY,
        )
        try:
            ok = backend.send(device, note)
        except Exception:
            cache.delete(key)
            raise
        if ok:
            sent += 1
        else:
            invalid.append(device.pk)
    _devices_prune(invalid)
    return sent
