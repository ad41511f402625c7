"""The per-user numbered event stream and its live delivery.

Every write that a user's devices must learn about appends one ``Event`` per
affected user inside the writing transaction (numbers allocated under the row lock
of the user's ``EventStream``), then, only after commit, pushes the same event to
the user's WebSocket group ``user.<id>``. ``GET /api/v1/sync`` reads the stored
events and is the source of truth; the socket only makes delivery faster.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from chat.models import Event, EventStream
from chat.presence import cache_redis_keys, online_from_values, online_user_ids, presence_key
from meetnow.lib.realtime import group_send_many
from meetnow.lib.throttling import WindowCount

logger = logging.getLogger(__name__)


class EventType:
    MESSAGE_CREATED = "message.created"
    MESSAGE_UPDATED = "message.updated"
    MESSAGE_DELETED = "message.deleted"
    CONVERSATION_READ = "conversation.read"
    CONVERSATION_CREATED = "conversation.created"
    CONVERSATION_UPDATED = "conversation.updated"
    CONVERSATION_REMOVED = "conversation.removed"
    MEMBER_ADDED = "member.added"
    MEMBER_REMOVED = "member.removed"
    # Issue 15: a stranger's message request (one quiet notice per request), and an
    # invitation to a group.
    CONVERSATION_REQUEST = "conversation.request"
    GROUP_INVITATION = "group.invitation"
    # P6: a sign-in from a device never seen on the account (ids only: the app shows the
    # sessions list; the new device itself ignores its own id).
    SECURITY_NEW_DEVICE = "security.new_device"
    # P13, P17: a notice in the user's inbox (``GET /api/v1/notices``): the outcome of a
    # privacy request or support ticket, an export ready. Ids and the kind code only.
    NOTICE_CREATED = "notice.created"
    TYPING = "typing"


# Every socket listens here too: privacy announces a newly published material policy
# version ("session.gate"), and each socket re-checks its session against the gate.
GATE_GROUP = "sessions.gate"


# (user ids, what to do with those of them who are online): see events_deliver.
PresenceThen = tuple[Sequence[int], Callable[[set[int]], None]]


def user_group(user_id: int) -> str:
    """Name of the Channels group that holds every live socket of one user."""
    return f"user.{user_id}"


@dataclass
class PendingEvent:
    """An event for some users: ``stored`` is kept for sync (ids only), ``live`` is sent
    on the socket (may carry the full object so that the app need not fetch it)."""

    user_ids: Sequence[int]
    type: str
    stored: dict[str, Any]
    live: dict[str, Any] | None = None
    per_user_live: dict[int, dict[str, Any]] = field(default_factory=dict)


def event_streams_ensure(*, user_ids: Iterable[int]) -> None:
    """Create the users' event counters if missing (idempotent, one query)."""
    EventStream.objects.bulk_create(
        [EventStream(user_id=uid) for uid in set(user_ids)], ignore_conflicts=True
    )


def _allocate(user_ids: list[int]) -> dict[int, int]:
    """Increment each user's counter once, under its row lock; returns the new numbers.

    Locks are taken in user id order so that two transactions touching overlapping
    users never deadlock.
    """
    if not user_ids:
        return {}
    table = EventStream._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {table} AS s SET seq = s.seq + 1 FROM ("  # noqa: S608 (table name)
                f"SELECT user_id FROM {table} WHERE user_id = ANY(%s) "
                "ORDER BY user_id FOR UPDATE) AS l "
                "WHERE s.user_id = l.user_id RETURNING s.user_id, s.seq",
                [user_ids],
            )
        else:
            marks = ",".join(["%s"] * len(user_ids))
            cursor.execute(
                f"UPDATE {table} SET seq = seq + 1 "  # noqa: S608 (table name)
                f"WHERE user_id IN ({marks}) RETURNING user_id, seq",
                user_ids,
            )
        return {int(uid): int(seq) for uid, seq in cursor.fetchall()}


def events_append(events: Sequence[PendingEvent]) -> None:
    """Store ``events`` (in the caller's transaction) and deliver them live after commit.

    Each user may receive at most one event per call (the counter is bumped once).
    """
    user_ids = sorted({uid for ev in events for uid in ev.user_ids})
    if not user_ids:
        return
    seqs = _allocate(user_ids)
    missing = [uid for uid in user_ids if uid not in seqs]
    if missing:
        event_streams_ensure(user_ids=missing)
        seqs.update(_allocate(missing))
    Event.objects.bulk_create(
        [
            Event(user_id=uid, seq=seqs[uid], type=ev.type, payload=ev.stored)
            for ev in events
            for uid in ev.user_ids
        ]
    )
    events_deliver(events, seqs)


def event_json(body: Mapping[str, Any]) -> str:
    """An event body as compact JSON (encoded once per event, not per recipient)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def event_frame(event_type: str, seq: int, body_json: str) -> str:
    """The socket frame ``{"type", "seq", **body}`` from an already encoded body: the
    members of a conversation share the body and differ only in ``seq``."""
    head = f'{{"type":{json.dumps(event_type)},"seq":{int(seq)}'
    return head + "}" if body_json == "{}" else f"{head},{body_json[1:]}"


def events_deliver(
    events: Sequence[PendingEvent],
    seqs: Mapping[int, int],
    *,
    presence_then: PresenceThen | None = None,
    counted: WindowCount | None = None,
) -> None:
    """Send stored ``events`` live, numbered by ``seqs``, once the transaction commits
    (for writers that stored them in their own statement, like chat's message send).

    Each event's body is JSON-encoded once; every recipient's frame is that text with
    its own ``seq``, and the sockets send it as it is (no re-encoding per device).
    ``presence_then``: ``(user_ids, then)``: after the publishes, ``then`` is called with
    those of ``user_ids`` online (chat.presence), read in the publishes' round trip.
    ``counted``: a use of a limit counted in that round trip too (chat.ws_send)."""
    live: list[tuple[int, str]] = []
    for ev in events:
        shared: str | None = None
        for uid in ev.user_ids:
            own = ev.per_user_live.get(uid)
            if own is not None:
                body_json = event_json(own)
            else:
                if shared is None:
                    shared = event_json(ev.live if ev.live is not None else ev.stored)
                body_json = shared
            live.append((uid, event_frame(ev.type, seqs[uid], body_json)))
    transaction.on_commit(
        lambda: realtime_send_text(live, presence_then=presence_then, counted=counted)
    )


def realtime_send_text(
    items: Sequence[tuple[int, str]],
    *,
    presence_then: PresenceThen | None = None,
    counted: WindowCount | None = None,
) -> None:
    """Send ready-encoded frames to users' socket groups (one Redis round trip).
    Failures are logged, never raised: a missed live event comes back through sync.
    ``presence_then``: as in :func:`events_deliver` (its failures are logged too).
    ``counted``: counted (INCR) in the same round trip when the channel layer publishes
    to the cache's Redis; its ``value`` is left ``None`` otherwise or on a failure."""
    user_ids, then = presence_then if presence_then is not None else ((), None)
    keys = [presence_key(uid) for uid in user_ids]
    if counted is not None:
        keys.append(counted.key)
    target = cache_redis_keys(keys) if keys else None
    read: tuple[str, list[str]] | None = None
    incr: list[tuple[str, int]] = []
    if target is not None:
        url, full = target
        if counted is not None:
            incr = [(full.pop(), counted.timeout)]
        read = (url, full)
    values = None
    try:
        frames = [(user_group(uid), {"type": "chat.event", "text": text}) for uid, text in items]
        replies = group_send_many(frames, read=read, incr=incr)
        if replies is not None:
            values, counts = replies
            if counted is not None and counts:
                counted.value = counts[0]
    except Exception:
        logger.exception("chat: live delivery failed for %d events", len(items))
    if then is None:
        return
    try:
        online = (
            online_from_values(user_ids=user_ids, values=values)
            if values is not None
            else online_user_ids(user_ids=user_ids)
        )
        then(online)
    except Exception:
        logger.exception("chat: the after-delivery presence step failed")


def realtime_send(items: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
    """Send events to users' socket groups (one Redis round trip for all of them).
    Failures are logged, never raised: a client that misses a live event gets it
    from sync."""
    try:
        group_send_many(
            [
                (user_group(user_id), {"type": "chat.event", "event": event})
                for user_id, event in items
            ]
        )
    except Exception:
        logger.exception("chat: live delivery failed for %d events", len(items))


def events_compact(*, now: Any = None, batch: int = 5000) -> int:
    """Delete events older than ``CHAT_SYNC_RETENTION`` (beat, hourly).

    Each user's ``compacted_through`` is raised to the highest number deleted first,
    in the same transaction, so a client still behind it is told to refetch rather
    than silently missing events. Works in batches; returns the number deleted.
    """
    from django.conf import settings
    from django.db.models import Max
    from django.utils import timezone

    cutoff = (now or timezone.now()) - settings.CHAT_SYNC_RETENTION
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                Event.objects.filter(created_at__lt=cutoff)
                .order_by("id")
                .values_list("id", flat=True)[:batch]
            )
            if not ids:
                return deleted
            highest = Event.objects.filter(id__in=ids).values("user_id").annotate(top=Max("seq"))
            streams = {
                s.user_id: s
                for s in EventStream.objects.select_for_update()
                .filter(user_id__in=[row["user_id"] for row in highest])
                .order_by("user_id")
            }
            changed = []
            for row in highest:
                stream = streams.get(row["user_id"])
                if stream is not None and stream.compacted_through < row["top"]:
                    stream.compacted_through = row["top"]
                    changed.append(stream)
            EventStream.objects.bulk_update(changed, ["compacted_through"])
            deleted += Event.objects.filter(id__in=ids).delete()[0]
