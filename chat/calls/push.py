"""Incoming-call pushes (P10): wake the callee's phones that have no live socket.

``call``: high priority, short-lived (a late push must not ring), a VoIP push on iOS
when ``MEETNOW_CALL_PUSH_VOIP`` is on. ``call_end``: tells a phone that was woken to
stop ringing (cancelled, missed, answered elsewhere). Payloads carry ids only.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from accounts.selectors import push_devices_for_users
from chat.models import Call, CallState, Membership
from chat.push import PushNotification, push_send


def _key(call_id: int, kind: str, device_id: int) -> str:
    return f"chat:call:push:{call_id}:{kind}:{device_id}"


def call_push_send(*, call_id: int, kind: str) -> int:
    """Push ``kind`` (``call`` or ``call_end``) about ``call_id`` to the callee's devices.

    Idempotent: each device gets each kind at most once per call. An incoming-call push
    goes only while the call still rings, and never for a conversation the callee muted.
    Returns the number of devices notified.
    """
    call = Call.objects.select_related("conversation", "caller").filter(pk=call_id).first()
    if call is None or call.callee_id is None or call.anonymous:
        return 0  # a voice-match call never rings a phone and names nobody
    conversation = call.conversation
    if conversation is None:
        return 0
    if kind == "call":
        if call.state != CallState.RINGING:
            return 0
        if Membership.objects.filter(
            conversation_id=conversation.pk, user_id=call.callee_id, muted=True
        ).exists():
            return 0
    devices = push_devices_for_users(user_ids=[call.callee_id])
    if kind == "call_end":
        # Only phones that were woken for the call have ringing to stop.
        woken = cache.get_many([_key(call.pk, "call", d.pk) for d in devices])
        devices = [d for d in devices if _key(call.pk, "call", d.pk) in woken]
    ttl = int(float(settings.MEETNOW_CALL_RING_TIMEOUT))
    note = PushNotification(
        kind=kind,
        conversation=str(conversation.uuid),
        badge=0,
        data={
            "call": str(call.uuid),
            "media": call.media,
            "caller": str(call.caller.uuid) if call.caller else "",
            "ttl": str(ttl),
            **({"outcome": call.outcome} if kind == "call_end" and call.outcome else {}),
        },
    )
    return push_send(
        devices, lambda device: note, once_key=lambda device: _key(call.pk, kind, device.pk)
    )
