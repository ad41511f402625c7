"""Reads: access checks, history, the conversation list, unread counts, sync, reports.

Every function here runs a fixed number of queries whatever the number of rows
(the list tests assert it); the indexes they rely on are declared on the models.
"""

from __future__ import annotations

import uuid as uuid_lib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from accounts.models import User
from chat import payloads
from chat.models import (
    ChatSettings,
    Conversation,
    Event,
    EventStream,
    GroupInvitation,
    Membership,
    Message,
    MessageHidden,
    Report,
    RequestState,
)
from chat.presence import online_user_ids
from meetnow.lib.errors import ApplicationError, NotFoundError


def parse_uuid(value: Any, *, param: str) -> uuid_lib.UUID:
    try:
        return uuid_lib.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise ApplicationError("invalid", _("Not a valid UUID."), param=param) from None


def membership_access(*, user: User, conversation_uuid: Any) -> Membership:
    """The user's active membership of the conversation, with it; 404 otherwise (P11).

    A non-member, a former member and a malformed id all get the same 404, so
    nothing tells whether the conversation exists.
    """
    try:
        cuuid = uuid_lib.UUID(str(conversation_uuid))
    except (TypeError, ValueError, AttributeError):
        raise NotFoundError(_("Conversation not found.")) from None
    membership = (
        Membership.objects.select_related("conversation")
        .filter(user=user, conversation__uuid=cuuid, left_at__isnull=True)
        .first()
    )
    if membership is None:
        raise NotFoundError(_("Conversation not found."))
    return membership


@dataclass(frozen=True)
class SendMember:
    """An active member of the conversation a message is sent to."""

    user_id: int
    muted: bool
    blocked: bool  # a block stands between the sender and this member
    active: bool = True  # the account is active and not banned
    # "" (accepted), "pending" or "declined": a message request's recipient
    request_state: str = ""


# The send path's only read, in SQL: building it with the ORM (a join, an Exists over
# an OR of two block directions) cost about 0.9 ms of CPU per message, more than
# everything else chat does for a send.
_SEND_MEMBERS_SQL = """
SELECT m.user_id, m.muted, c.id, c.kind,
       EXISTS (SELECT 1 FROM accounts_block b
               WHERE (b.blocker_id = %(sender)s AND b.blocked_id = m.user_id)
                  OR (b.blocker_id = m.user_id AND b.blocked_id = %(sender)s)),
       u.is_active AND u.banned_at IS NULL,
       c.closed_at, m.request_state
FROM chat_membership m JOIN chat_conversation c ON c.id = m.conversation_id
     JOIN accounts_user u ON u.id = m.user_id
WHERE c.uuid = %(conversation)s AND (m.left_at IS NULL OR m.request_state = 'declined')
ORDER BY m.user_id
"""


def send_members(
    *, sender_id: int, conversation_uuid: uuid_lib.UUID
) -> tuple[Conversation | None, list[SendMember]]:
    """The conversation (id, uuid, kind and closed_at only) and its active members, each
    with whether a block stands between them and the sender and where a message request
    stands for them (a recipient who declined is listed too, with ``declined``);
    ``(None, [])`` if it has none."""
    uuid_field = Conversation._meta.get_field("uuid")
    with connection.cursor() as cursor:
        cursor.execute(
            _SEND_MEMBERS_SQL,
            {
                "sender": sender_id,
                "conversation": uuid_field.get_db_prep_value(conversation_uuid, connection),
            },
        )
        rows = cursor.fetchall()
    if not rows:
        return None, []
    return send_members_from_rows(conversation_uuid=conversation_uuid, rows=rows)


def send_members_from_rows(
    *, conversation_uuid: uuid_lib.UUID, rows: Sequence[Sequence[Any]]
) -> tuple[Conversation, list[SendMember]]:
    """The conversation and members of rows (at least one) whose first eight columns are
    ``_SEND_MEMBERS_SQL``'s (the one-statement send returns them too, then its own)."""
    first = rows[0]
    conversation = Conversation(
        id=first[2], uuid=conversation_uuid, kind=first[3], closed_at=first[6]
    )
    conversation._state.adding = False
    return conversation, [
        SendMember(
            user_id=int(row[0]),
            muted=bool(row[1]),
            blocked=bool(row[4]),
            active=bool(row[5]),
            request_state=str(row[7]),
        )
        for row in rows
    ]


def share_read_receipts(*, user_ids: Iterable[int]) -> dict[int, bool]:
    ids = list(user_ids)
    off = set(
        ChatSettings.objects.filter(user_id__in=ids, share_read_receipts=False).values_list(
            "user_id", flat=True
        )
    )
    return {uid: uid not in off for uid in ids}


def chat_settings_get(*, user: User) -> ChatSettings:
    found = ChatSettings.objects.filter(user=user).first()
    return found if found is not None else ChatSettings(user=user)


# --- History -----------------------------------------------------------------------


def _visible_messages(*, user: User, conversation_id: int) -> QuerySet[Message]:
    """Messages of a conversation the user did not delete for themself."""
    hidden = MessageHidden.objects.filter(user=user, message_id=OuterRef("pk"))
    return (
        Message.objects.filter(conversation_id=conversation_id)
        .exclude(Exists(hidden))
        .select_related("sender", "attachment")
    )


# Payloads show a sender by uuid only (chat.payloads.message_payload): pages of
# messages carry it as an annotation instead of a User instance per row (building 50
# users cost more CPU than the query itself).
def _with_sender_uuid(messages: QuerySet[Message]) -> QuerySet[Message]:
    return messages.select_related("attachment").annotate(sender_uuid=F("sender__uuid"))


@dataclass
class HistoryPage:
    messages: list[Message]
    has_more: bool


def message_history(
    *,
    user: User,
    membership: Membership,
    before: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> HistoryPage:
    """A page of history, newest first: the ``limit`` messages just before ``before``,
    or just after ``after``, or the latest ones. One query (keyset on (conversation, id))."""
    limit = max(1, min(limit, 100))
    cid = membership.conversation_id
    hidden = MessageHidden.objects.filter(user=user, message_id=OuterRef("pk"))
    ids = Message.objects.exclude(Exists(hidden))
    # The page's ids come from the (conversation, id) index alone, between two row
    # comparisons that only that index can answer and that position its scan at the
    # page: with "id < N" PostgreSQL walks the primary key backwards whenever one
    # conversation holds most of the table's rows (skipping every newer message of
    # other conversations), and with "conversation_id = c" plus one row bound it
    # starts at an end of the conversation and walks to the page (11 ms in the middle
    # of a million messages). Senders and attachments are joined to those rows only.
    if after is not None:
        page = ids.filter(_keyset(">", cid, after), _keyset("<", cid, MAX_ID)).order_by(
            "conversation_id", "id"
        )
    else:
        bound = before if before is not None else MAX_ID
        page = ids.filter(_keyset("<", cid, bound), _keyset(">", cid, -MAX_ID)).order_by(
            "-conversation_id", "-id"
        )
    rows = list(
        _with_sender_uuid(Message.objects.filter(id__in=page.values("id")[: limit + 1])).order_by(
            "-id"
        )
    )
    has_more = len(rows) > limit
    # Newest first; of one row too many, drop the one beyond the page's far end.
    rows = rows[1:] if has_more and after is not None else rows[:limit]
    return HistoryPage(messages=rows, has_more=has_more)


MAX_ID = 2**63 - 1


def _keyset(op: str, conversation_id: int, message_id: int) -> Func:
    """``(conversation_id, id) <op> (conversation_id, message_id)`` (a row comparison)."""
    if op not in ("<", ">"):
        raise ValueError(op)
    bound = max(min(int(message_id), MAX_ID), -MAX_ID)
    return Func(
        Func(F("conversation_id"), F("id"), function=""),
        # bigint: a plain int Value is bound as int4, which 2**63 - 1 overflows.
        Func(
            Value(conversation_id, output_field=BigIntegerField()),
            Value(bound, output_field=BigIntegerField()),
            function="",
        ),
        arg_joiner=f" {op} ",
        template="%(expressions)s",
        output_field=BooleanField(),
    )


# --- Conversation list -------------------------------------------------------------


# Unread counts stop at this number (the app shows "999+"): counting is then bounded
# whatever the backlog, with the (conversation, id) index.
UNREAD_CAP = 999

# Unread messages of the membership row ``chat_membership`` of the outer query: from
# others, after the member's read marker, not removed, not deleted for them; capped.
_UNREAD_SQL = """(SELECT COUNT(*) FROM (
    SELECT 1 FROM chat_message m
    WHERE m.conversation_id = chat_membership.conversation_id
      AND m.id > chat_membership.last_read_id
      AND m.recalled_at IS NULL AND m.moderated_at IS NULL
      AND (m.sender_id IS NULL OR m.sender_id <> chat_membership.user_id)
      AND NOT EXISTS (
        SELECT 1 FROM chat_messagehidden h
        WHERE h.user_id = chat_membership.user_id AND h.message_id = m.id)
    LIMIT 999) AS capped)"""  # LIMIT is UNREAD_CAP


def _unread() -> RawSQL:
    return RawSQL(_UNREAD_SQL, [], output_field=IntegerField())  # noqa: S611 (constant SQL)


def conversation_memberships(*, user: User) -> QuerySet[Membership]:
    """The user's active memberships with their conversations, most recent activity
    first (``activity`` is the cursor field). One query for a page; the per-row
    figures of that page are computed afterwards by ``conversation_list_payloads``."""
    return (
        Membership.objects.filter(
            user=user, left_at__isnull=True, request_state=RequestState.ACCEPTED
        )
        .select_related("conversation")
        .annotate(activity=F("conversation__last_activity_at"))
    )


def invitations_of(*, user: User) -> QuerySet[GroupInvitation]:
    """The user's pending group invitations, newest first, with the group and inviter."""
    return (
        GroupInvitation.objects.filter(user=user, declined_at__isnull=True)
        .select_related("conversation", "invited_by")
        .order_by("-id")
    )


def request_memberships(*, user: User) -> QuerySet[Membership]:
    """The user's pending message requests (issue 15), most recent activity first
    (``activity`` is the cursor field); payloads as for the conversation list."""
    return (
        Membership.objects.filter(
            user=user, left_at__isnull=True, request_state=RequestState.PENDING
        )
        .select_related("conversation")
        .annotate(activity=F("conversation__last_activity_at"))
    )


def conversation_list_payloads(
    *, user: User, memberships: Sequence[Membership]
) -> list[dict[str, Any]]:
    """Payloads for a page of memberships: 3 more queries whatever the page size (last
    message id and unread count per row; those messages; members)."""
    hidden = MessageHidden.objects.filter(user=user, message_id=OuterRef("pk"))
    last_id = Subquery(
        Message.objects.filter(conversation_id=OuterRef("conversation_id"))
        .exclude(Exists(hidden))
        .order_by("-conversation_id", "-id")
        .values("id")[:1]
    )
    figures = {
        row["pk"]: row
        for row in Membership.objects.filter(pk__in=[m.pk for m in memberships])
        .annotate(last_message_id=last_id, unread=_unread())
        .values("pk", "last_message_id", "unread")
    }
    last_ids = [f["last_message_id"] for f in figures.values() if f["last_message_id"]]
    last = {msg.id: msg for msg in _with_sender_uuid(Message.objects.filter(id__in=last_ids))}
    members_by_conv, states = _members_by_conversation(
        conversation_ids=[m.conversation_id for m in memberships]
    )
    groups = [m.conversation_id for m in memberships if m.conversation.kind == "group"]
    # One query more only for a page that holds a group.
    invited = _invited_by_conversation(conversation_ids=groups) if groups else {}
    out = []
    for m in memberships:
        row = figures.get(m.pk, {"last_message_id": None, "unread": 0})
        out.append(
            payloads.conversation_payload(
                m.conversation,
                membership=m,
                last_message=last.get(int(row["last_message_id"] or 0)),
                unread=int(row["unread"] or 0),
                members=members_by_conv.get(m.conversation_id, [])
                + invited.get(m.conversation_id, []),
                request=_request_of(m, states.get(m.conversation_id, {})),
            )
        )
    return out


def _members_by_conversation(
    *, conversation_ids: Sequence[int]
) -> tuple[dict[int, list[dict[str, Any]]], dict[int, dict[int, str]]]:
    """Members of the conversations with their read receipts (one query), and where a
    message request stands for each of them. The recipient of a request (pending, or
    declined: still listed, so the sender sees no difference) shares no receipt."""
    off = ChatSettings.objects.filter(user_id=OuterRef("user_id"), share_read_receipts=False)
    rows = (
        Membership.objects.filter(conversation_id__in=conversation_ids)
        .filter(Q(left_at__isnull=True) | Q(request_state=RequestState.DECLINED))
        .select_related("user")
        .annotate(receipts_off=Exists(off))
        .order_by("conversation_id", "id")
    )
    out: dict[int, list[dict[str, Any]]] = {}
    states: dict[int, dict[int, str]] = {}
    for row in rows:
        out.setdefault(row.conversation_id, []).append(
            payloads.member_payload(
                row, share_receipts=not row.receipts_off and not row.request_state
            )
        )
        states.setdefault(row.conversation_id, {})[row.user_id] = row.request_state
    return out, states


def _invited_by_conversation(*, conversation_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Pending group invitations, shown in the groups' member lists as ``invited``."""
    rows = (
        GroupInvitation.objects.filter(
            conversation_id__in=conversation_ids, declined_at__isnull=True
        )
        .select_related("user")
        .order_by("conversation_id", "id")
    )
    out: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row.conversation_id, []).append(payloads.invited_member_payload(row.user))
    return out


def _request_of(membership: Membership, states: dict[int, str]) -> str | None:
    """``received``: a request to me, not answered; ``pending``: my request to someone
    who has not accepted it (declined looks the same to me)."""
    if membership.request_state:
        return "received"
    if any(state for uid, state in states.items() if uid != membership.user_id):
        return "pending"
    return None


def conversation_detail_payload(*, user: User, membership: Membership) -> dict[str, Any]:
    return conversation_list_payloads(user=user, memberships=[membership])[0]


def unread_total(*, user: User) -> int:
    """Unread messages across the user's conversations, each counted up to the cap
    (one query)."""
    return unread_totals(user_ids=[user.pk])[user.pk]


def unread_totals(*, user_ids: Sequence[int]) -> dict[int, int]:
    """Unread totals of several users (one query; list badge and push badges)."""
    rows = (
        Membership.objects.filter(
            user_id__in=list(user_ids), left_at__isnull=True, request_state=RequestState.ACCEPTED
        )
        .annotate(unread=_unread())
        .values("user_id", "unread")
    )
    out = dict.fromkeys(user_ids, 0)
    for row in rows:
        out[row["user_id"]] += int(row["unread"] or 0)
    return out


# --- Sync --------------------------------------------------------------------------


@dataclass
class SyncResult:
    events: list[dict[str, Any]]
    cursor: int
    has_more: bool


def sync_events(*, user: User, since: int | None, limit: int | None = None) -> SyncResult:
    """The user's events after ``since``, hydrated with the current state of the
    messages they name (a message edited or recalled later shows as it is now).

    Fixed queries: the counter, the events, their messages. A client whose ``since``
    is older than the compacted part of the stream (or from another stream) must
    refetch its state: 410 ``sync_refetch_required``.
    """
    page = max(1, min(limit or settings.CHAT_SYNC_PAGE_MAX, settings.CHAT_SYNC_PAGE_MAX))
    stream = EventStream.objects.filter(user=user).values_list("seq", "compacted_through").first()
    seq, compacted = stream if stream is not None else (0, 0)
    if since is None:
        return SyncResult(events=[], cursor=seq, has_more=False)
    if since < compacted or since > seq:
        raise ApplicationError(
            "sync_refetch_required",
            _(
                "Too far behind: fetch conversations and history again, then sync from the "
                "cursor that GET /api/v1/sync returns."
            ),
            param="since",
            status_code=410,
        )
    rows = list(Event.objects.filter(user=user, seq__gt=since).order_by("seq")[: page + 1])
    has_more = len(rows) > page
    rows = rows[:page]
    message_ids = {row.payload["message_id"] for row in rows if "message_id" in row.payload}
    # Only messages of conversations the user still belongs to are shown (with fresh
    # signed URLs); an event from a conversation since left keeps its ids only (P11).
    messages = {
        m.id: m
        for m in Message.objects.filter(
            id__in=message_ids,
            conversation__memberships__user=user,
            conversation__memberships__left_at__isnull=True,
        ).select_related("sender", "conversation", "attachment")
    }
    events: list[dict[str, Any]] = []
    for row in rows:
        body: dict[str, Any] = {"type": row.type, "seq": row.seq, **row.payload}
        mid = row.payload.get("message_id")
        if mid is not None:
            msg = messages.get(mid)
            body["message"] = payloads.message_payload(msg) if msg is not None else None
        events.append(body)
    return SyncResult(events=events, cursor=rows[-1].seq if rows else since, has_more=has_more)


# --- Push --------------------------------------------------------------------------


def message_push_recipient_ids(*, message: Message) -> list[int]:
    """Who gets a push for ``message`` (P10): active members other than the sender, who
    did not mute the conversation, and have no live foreground socket. Devices with
    push turned off are filtered afterwards by ``push_devices_for_users``."""
    candidates = list(
        Membership.objects.filter(
            conversation_id=message.conversation_id,
            left_at__isnull=True,
            muted=False,
            request_state=RequestState.ACCEPTED,
        )
        .exclude(user_id=message.sender_id or 0)
        .values_list("user_id", flat=True)
    )
    online = online_user_ids(user_ids=candidates)
    return sorted(uid for uid in candidates if uid not in online)


# --- Reports -----------------------------------------------------------------------


def reports_of(*, user: User) -> QuerySet[Report]:
    return Report.objects.filter(reporter=user).select_related("reported_user").order_by("-id")


def user_by_uuid(*, user_uuid: Any, param: str) -> User:
    """An active user by public id; 400 ``invalid_user`` otherwise."""
    uid = parse_uuid(user_uuid, param=param)
    found = User.objects.filter(uuid=uid, is_active=True).first()
    if found is None:
        raise ApplicationError("invalid_user", _("No such user."), param=param)
    return found


def users_by_uuids(*, user_uuids: Sequence[Any], param: str) -> list[User]:
    ids = [parse_uuid(u, param=param) for u in user_uuids]
    found = {u.uuid: u for u in User.objects.filter(uuid__in=ids, is_active=True)}
    missing = [u for u in ids if u not in found]
    if missing:
        raise ApplicationError("invalid_user", _("No such user."), param=param)
    return [found[u] for u in dict.fromkeys(ids)]
