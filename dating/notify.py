"""Push to a post's author about likes and comments (P10): ids only, one per burst.

The service enqueues at most one task per author, kind and burst window (a cache
key added after commit); this sends it to the author's devices that accept push
(account and device switches, P10). Idempotent: a device hears of one burst once.
"""

from __future__ import annotations

from accounts.models import Device
from accounts.selectors import push_devices_for_users
from chat.push import PushNotification, push_send
from chat.selectors import unread_totals
from dating.models import VoicePost


def post_activity_push_send(*, post_id: int, kind: str, burst: int) -> int:
    """Notify the author of ``post_id`` that it got likes or comments; returns the
    number of devices notified (0 for a deleted or taken-down post)."""
    post = (
        VoicePost.objects.filter(pk=post_id, deleted_at__isnull=True, taken_down_at__isnull=True)
        .values("uuid", "author_id")
        .first()
    )
    if post is None:
        return 0
    author_id = post["author_id"]
    devices = push_devices_for_users(user_ids=[author_id])
    if not devices:
        return 0
    # The badge stays the chat unread total (the app icon's one number).
    note = PushNotification(
        kind=f"dating_{kind}",
        conversation="",
        badge=unread_totals(user_ids=[author_id]).get(author_id, 0),
        data={"post": str(post["uuid"])},
    )

    def once(device: Device) -> str:
        return f"dating:push:{kind}:b{burst}:d{device.pk}"

    return push_send(devices, lambda device: note, once_key=once)


def match_push_send(*, match_id: int) -> int:
    """Tell both people of a new match (ids only: the match and the conversation).
    Idempotent per device; nothing for a match already ended."""
    from dating.models import Match

    match = Match.objects.filter(pk=match_id, ended_at=None).select_related("conversation").first()
    if match is None:
        return 0
    user_ids = [match.user_low_id, match.user_high_id]
    devices = push_devices_for_users(user_ids=user_ids)
    if not devices:
        return 0
    badges = unread_totals(user_ids=user_ids)
    conversation = str(match.conversation.uuid) if match.conversation else ""

    def note(device: Device) -> PushNotification:
        return PushNotification(
            kind="dating_match",
            conversation=conversation,
            badge=badges.get(device.user_id, 0),
            data={"match": str(match.uuid)},
        )

    return push_send(
        devices, note, once_key=lambda device: f"dating:push:match{match.pk}:d{device.pk}"
    )
