"""Writes on conversations: direct and group conversations, members, mute, read
state and chat settings (P10, P11). The direct key format is chat's own
(:func:`direct_key_for`).
"""

from __future__ import annotations

import logging
import uuid as uuid_lib
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import block_exists_between, blocked_user_ids
from chat.events import (
    EventType,
    PendingEvent,
    event_streams_ensure,
    events_append,
)
from chat.hooks import matched_user_ids
from chat.models import (
    ChatSettings,
    Conversation,
    ConversationKind,
    GroupInvitation,
    MemberRole,
    Membership,
    Message,
    MessageKind,
    RequestState,
)
from chat.selectors import (
    membership_access,
    parse_uuid,
    user_by_uuid,
    users_by_uuids,
)
from chat.services.common import (
    blocked_error,
    message_created_event,
)
from chat.services.requests import direct_reopen, direct_request_state_for
from meetnow.lib.errors import ApplicationError, NotFoundError
from meetnow.lib.outbox import task_send

logger = logging.getLogger(__name__)


def _active_members(conversation_id: int) -> list[Membership]:
    return list(
        Membership.objects.filter(conversation_id=conversation_id, left_at__isnull=True)
        .select_related("user")
        .order_by("id")
    )


def _conversation_event(conversation: Conversation) -> dict[str, Any]:
    return {"conversation": str(conversation.uuid)}


def conversation_get_or_create_direct(*, user: User, other_uuid: Any) -> tuple[Conversation, bool]:
    """The one direct conversation of the pair, created on first use (race-safe: a
    unique constraint on the pair, not a read-then-write). Refused with ``blocked``
    if either blocked the other (P11).

    Between people who are not matched (dating, through chat/hooks.py) it starts as a
    **message request**: the other's membership is ``pending`` (their requests list,
    not their conversations; chat/services/requests.py), and someone who takes direct
    messages from matches only refuses it (403 ``dm_matches_only``). Opening an
    existing one accepts a request one had received, and a match accepts one sent.
    """
    other = user_by_uuid(user_uuid=other_uuid, param="user")
    if other.pk == user.pk:
        raise ApplicationError("invalid_user", _("You cannot talk to yourself."), param="user")
    if block_exists_between(user_a_id=user.pk, user_b_id=other.pk):
        raise blocked_error()
    low, high = sorted((user.pk, other.pk))
    key = direct_key_for(low, high)
    existing = Conversation.objects.filter(direct_key=key).first()
    if existing is not None:
        direct_reopen(conversation=existing, user=user, other=other)
        return existing, False
    other_state = direct_request_state_for(user=user, other=other)
    told = (low, high) if other_state == RequestState.ACCEPTED else (user.pk,)
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(kind=ConversationKind.DIRECT, direct_key=key)
            Membership.objects.bulk_create(
                [
                    Membership(conversation=conversation, user_id=user.pk, role=MemberRole.MEMBER),
                    Membership(
                        conversation=conversation,
                        user_id=other.pk,
                        role=MemberRole.MEMBER,
                        request_state=other_state,
                    ),
                ]
            )
            event_streams_ensure(user_ids=(low, high))
            events_append(
                [
                    PendingEvent(
                        user_ids=told,
                        type=EventType.CONVERSATION_CREATED,
                        stored=_conversation_event(conversation),
                    )
                ]
            )
    except IntegrityError:
        # Someone created it at the same time: theirs is the one.
        existing = Conversation.objects.get(direct_key=key)
        direct_reopen(conversation=existing, user=user, other=other)
        return existing, False
    return conversation, True


def _group_capacity_check(count: int) -> None:
    if count > settings.MEETNOW_GROUP_MAX:
        raise ApplicationError(
            "group_full",
            _("A group has at most %(meetnow_group_max)s members.")
            % {"meetnow_group_max": settings.MEETNOW_GROUP_MAX},
            param="users",
        )


def _blocks_check(*, actor: User, users: Sequence[User]) -> None:
    blocked = blocked_user_ids(user_id=actor.pk)
    if any(u.pk in blocked for u in users):
        raise blocked_error()


def _title_clean(title: Any) -> str:
    text = str(title or "").strip()
    if not text:
        raise ApplicationError("title_required", _("A group needs a title."), param="title")
    if len(text) > 80:
        raise ApplicationError("title_too_long", _("At most 80 characters."), param="title")
    return text


def _system_message(*, conversation: Conversation, system: dict[str, Any], now: Any) -> Message:
    message = Message.objects.create(
        conversation=conversation, kind=MessageKind.SYSTEM, system=system, created_at=now
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_activity_at=now)
    conversation.last_activity_at = now
    return message


def group_create(*, owner: User, title: Any, member_uuids: Sequence[Any]) -> Conversation:
    """A small group owned by ``owner`` (at most ``MEETNOW_GROUP_MAX`` members, P11).

    People who are neither a match nor an accepted direct-conversation partner of the
    owner are not added but invited (:func:`group_invitation_accept`): until they
    accept they see nothing of the group."""
    clean_title = _title_clean(title)
    users = [u for u in users_by_uuids(user_uuids=member_uuids, param="users") if u.pk != owner.pk]
    if not users:
        raise ApplicationError("users_required", _("Add at least one other person."), param="users")
    _group_capacity_check(len(users) + 1)
    _blocks_check(actor=owner, users=users)
    invite_ids = _invitees(actor=owner, users=users)
    joined = [u for u in users if u.pk not in invite_ids]
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.create(
            kind=ConversationKind.GROUP, title=clean_title, owner=owner, created_at=now
        )
        Membership.objects.bulk_create(
            [Membership(conversation=conversation, user=owner, role=MemberRole.OWNER)]
            + [Membership(conversation=conversation, user=u) for u in joined]
        )
        all_ids = [owner.pk, *(u.pk for u in joined)]
        event_streams_ensure(user_ids=all_ids)
        message = _system_message(
            conversation=conversation,
            system={"action": "group_created", "by": str(owner.uuid)},
            now=now,
        )
        message.conversation = conversation
        events_append([message_created_event(message, all_ids)])
        _invite(
            conversation=conversation,
            actor=owner,
            users=[u for u in users if u.pk in invite_ids],
            now=now,
        )
    return conversation


def _invitees(*, actor: User, users: Sequence[User]) -> set[int]:
    """Ids of ``users`` who must be invited rather than added: neither matched with
    ``actor`` (the upper layer's check) nor in an accepted direct conversation with them
    (two queries at most)."""
    ids = [u.pk for u in users]
    if not ids:
        return set()
    matched = matched_user_ids(user_id=actor.pk, other_ids=ids)
    keys = {direct_key_for(actor.pk, uid): uid for uid in ids if uid not in matched}
    if not keys:
        return set()
    states: dict[str, list[str]] = {}
    for key, state in Membership.objects.filter(
        conversation__direct_key__in=list(keys)
    ).values_list("conversation__direct_key", "request_state"):
        states.setdefault(str(key), []).append(state)
    partners = {keys[k] for k, found in states.items() if len(found) == 2 and not any(found)}
    return {uid for uid in keys.values() if uid not in partners}


def _invite(*, conversation: Conversation, actor: User, users: Sequence[User], now: Any) -> None:
    """Invite ``users`` (in the caller's transaction): one ``group.invitation`` event
    each. Someone already invited, or who declined this group, is not invited again."""
    if not users:
        return
    known = set(
        GroupInvitation.objects.filter(
            conversation=conversation, user_id__in=[u.pk for u in users]
        ).values_list("user_id", flat=True)
    )
    new = [u for u in users if u.pk not in known]
    if not new:
        return
    GroupInvitation.objects.bulk_create(
        [
            GroupInvitation(conversation=conversation, user=u, invited_by=actor, created_at=now)
            for u in new
        ],
        ignore_conflicts=True,
    )
    event_streams_ensure(user_ids=[u.pk for u in new])
    events_append(
        [
            PendingEvent(
                user_ids=[u.pk for u in new],
                type=EventType.GROUP_INVITATION,
                stored={"conversation": str(conversation.uuid), "user": str(actor.uuid)},
            )
        ]
    )


def _group_membership_for_change(*, actor: User, conversation_uuid: Any) -> Membership:
    membership = membership_access(user=actor, conversation_uuid=conversation_uuid)
    if membership.conversation.kind != ConversationKind.GROUP:
        raise ApplicationError("not_a_group", _("Only groups have members to change."))
    return membership


def _owner_required(membership: Membership) -> None:
    if membership.role != MemberRole.OWNER:
        raise ApplicationError(
            "not_owner", _("Only the group's owner can do this."), status_code=403
        )


def group_members_add(*, actor: User, conversation_uuid: Any, member_uuids: Sequence[Any]) -> None:
    """The owner adds people to the group (blocks honoured, size capped; P11). People
    who are neither matched with the owner nor their accepted direct-conversation
    partners are invited instead (they join when they accept)."""
    membership = _group_membership_for_change(actor=actor, conversation_uuid=conversation_uuid)
    _owner_required(membership)
    conversation = membership.conversation
    users = users_by_uuids(user_uuids=member_uuids, param="users")
    _blocks_check(actor=actor, users=users)
    now = timezone.now()
    with transaction.atomic():
        Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
        current = {m.user_id: m for m in Membership.objects.filter(conversation=conversation)}
        active = {uid for uid, m in current.items() if m.left_at is None}
        candidates = [u for u in users if u.pk not in active]
        if not candidates:
            return
        pending = GroupInvitation.objects.filter(
            conversation=conversation, declined_at__isnull=True
        ).exclude(user_id__in=[u.pk for u in candidates])
        _group_capacity_check(len(active) + len(candidates) + pending.count())
        invite_ids = _invitees(actor=actor, users=candidates)
        _invite(
            conversation=conversation,
            actor=actor,
            users=[u for u in candidates if u.pk in invite_ids],
            now=now,
        )
        new = [u for u in candidates if u.pk not in invite_ids]
        if new:
            _members_join(conversation=conversation, current=current, new=new, by=actor, now=now)


def _members_join(
    *,
    conversation: Conversation,
    current: dict[int, Membership],
    new: Sequence[User],
    by: User | None,
    now: Any,
) -> None:
    """Add or bring back ``new`` as members (in the caller's transaction, the group's row
    locked), with the ``members_added`` system message to every active member."""
    active = {uid for uid, m in current.items() if m.left_at is None}
    returning = [current[u.pk] for u in new if u.pk in current]
    for m in returning:
        m.left_at = None
        m.joined_at = now
        m.role = MemberRole.MEMBER
        m.muted = False
    if returning:
        Membership.objects.bulk_update(returning, ["left_at", "joined_at", "role", "muted"])
    Membership.objects.bulk_create(
        [Membership(conversation=conversation, user=u) for u in new if u.pk not in current]
    )
    event_streams_ensure(user_ids=[u.pk for u in new])
    message = _system_message(
        conversation=conversation,
        system={
            "action": "members_added",
            "by": str(by.uuid) if by is not None else None,
            "users": [str(u.uuid) for u in new],
        },
        now=now,
    )
    message.conversation = conversation
    events_append([message_created_event(message, sorted(active | {u.pk for u in new}))])


def _pending_invitation(*, user: User, conversation_uuid: Any) -> GroupInvitation:
    try:
        cuuid = uuid_lib.UUID(str(conversation_uuid))
    except (TypeError, ValueError, AttributeError):
        raise NotFoundError(_("Invitation not found.")) from None
    invitation = (
        GroupInvitation.objects.select_related("conversation")
        .filter(user=user, conversation__uuid=cuuid, declined_at__isnull=True)
        .first()
    )
    if invitation is None:
        raise NotFoundError(_("Invitation not found."))
    return invitation


def group_invitation_accept(*, user: User, conversation_uuid: Any) -> Membership:
    """Accept an invitation to a group: the user joins (``members_added`` by whoever
    invited them) and from now on sees the group like any member. Refused if a block
    stands between them and the inviter, or the group is full."""
    invitation = _pending_invitation(user=user, conversation_uuid=conversation_uuid)
    conversation = invitation.conversation
    inviter = (
        User.objects.filter(pk=invitation.invited_by_id).first()
        if invitation.invited_by_id
        else None
    )
    if inviter is not None:
        _blocks_check(actor=user, users=[inviter])
    now = timezone.now()
    with transaction.atomic():
        Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
        current = {m.user_id: m for m in Membership.objects.filter(conversation=conversation)}
        active = [uid for uid, m in current.items() if m.left_at is None]
        if user.pk not in active:
            _group_capacity_check(len(active) + 1)
            _members_join(
                conversation=conversation, current=current, new=[user], by=inviter, now=now
            )
        GroupInvitation.objects.filter(pk=invitation.pk).delete()
    return membership_access(user=user, conversation_uuid=conversation.uuid)


def group_invitation_decline(*, user: User, conversation_uuid: Any) -> None:
    """Decline an invitation: the group stays invisible, and it cannot invite the user
    again (the declined invitation is kept, deleted with the group or the account)."""
    invitation = _pending_invitation(user=user, conversation_uuid=conversation_uuid)
    GroupInvitation.objects.filter(pk=invitation.pk, declined_at__isnull=True).update(
        declined_at=timezone.now()
    )


def _member_leave(
    *, conversation: Conversation, leaving: Membership, by: User, action: str
) -> None:
    now = timezone.now()
    with transaction.atomic():
        Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
        updated = Membership.objects.filter(pk=leaving.pk, left_at__isnull=True).update(
            left_at=now, role=MemberRole.MEMBER
        )
        if not updated:
            return
        system: dict[str, Any] = {
            "action": action,
            "by": str(by.uuid),
            "user": str(leaving.user.uuid),
        }
        remaining = _active_members(conversation.pk)
        if leaving.role == MemberRole.OWNER and remaining:
            heir = remaining[0]
            Membership.objects.filter(pk=heir.pk).update(role=MemberRole.OWNER)
            Conversation.objects.filter(pk=conversation.pk).update(owner=heir.user)
            system["owner"] = str(heir.user.uuid)
        elif leaving.role == MemberRole.OWNER:
            Conversation.objects.filter(pk=conversation.pk).update(owner=None)
        message = _system_message(conversation=conversation, system=system, now=now)
        message.conversation = conversation
        events_append(
            [
                message_created_event(message, [m.user_id for m in remaining]),
                PendingEvent(
                    user_ids=[leaving.user_id],
                    type=EventType.CONVERSATION_REMOVED,
                    stored=_conversation_event(conversation),
                ),
            ]
        )


def group_member_remove(*, actor: User, conversation_uuid: Any, user_uuid: Any) -> None:
    """The owner removes a member; a member "removing" themself leaves."""
    membership = _group_membership_for_change(actor=actor, conversation_uuid=conversation_uuid)
    target_uuid = parse_uuid(user_uuid, param="user")
    if target_uuid == actor.uuid:
        group_leave(user=actor, conversation_uuid=conversation_uuid)
        return
    _owner_required(membership)
    target = (
        Membership.objects.select_related("user")
        .filter(conversation=membership.conversation, user__uuid=target_uuid, left_at__isnull=True)
        .first()
    )
    if target is None:
        raise NotFoundError(_("Member not found."))
    _member_leave(
        conversation=membership.conversation, leaving=target, by=actor, action="member_removed"
    )


def group_leave(*, user: User, conversation_uuid: Any) -> None:
    """Leave a group; if the owner leaves, the longest-standing member becomes owner."""
    membership = _group_membership_for_change(actor=user, conversation_uuid=conversation_uuid)
    membership.user = user
    _member_leave(
        conversation=membership.conversation, leaving=membership, by=user, action="member_left"
    )


def conversation_close_set(*, conversation_id: int, closed: bool) -> bool:
    """Close a conversation for everyone (history stays readable, nobody can send), or
    open it again; for a layer above (dating: a match ended, or matched again). Members
    learn it through ``conversation.updated`` with ``closed``. Returns whether it changed."""
    with transaction.atomic():
        changed = Conversation.objects.filter(pk=conversation_id, closed_at__isnull=closed).update(
            closed_at=timezone.now() if closed else None
        )
        if changed:
            conversation = Conversation.objects.get(pk=conversation_id)
            members = list(
                Membership.objects.filter(
                    conversation_id=conversation_id, left_at__isnull=True
                ).values_list("user_id", flat=True)
            )
            events_append(
                [
                    PendingEvent(
                        user_ids=members,
                        type=EventType.CONVERSATION_UPDATED,
                        stored={"conversation": str(conversation.uuid), "closed": closed},
                    )
                ]
            )
    return bool(changed)


def conversation_mute_set(*, user: User, conversation_uuid: Any, muted: bool) -> Membership:
    """Mute or unmute a conversation for oneself: no push while muted (P10)."""
    membership = membership_access(user=user, conversation_uuid=conversation_uuid)
    if membership.muted == muted:
        return membership
    with transaction.atomic():
        Membership.objects.filter(pk=membership.pk).update(muted=muted)
        membership.muted = muted
        events_append(
            [
                PendingEvent(
                    user_ids=[user.pk],
                    type=EventType.CONVERSATION_UPDATED,
                    stored={**_conversation_event(membership.conversation), "muted": muted},
                )
            ]
        )
    return membership


def conversation_mark_read(*, user: User, conversation_uuid: Any, message_id: Any) -> Membership:
    """Move the user's read marker forward to ``message_id`` (never backwards).

    The user's other devices learn it (and get a "clear" push for the conversation);
    other members learn it only if the user shares read receipts (P11), and never from
    the recipient of a message request before they accept it.
    """
    membership = membership_access(user=user, conversation_uuid=conversation_uuid)
    try:
        mid = int(message_id)
    except (TypeError, ValueError):
        raise ApplicationError(
            "invalid", _("A message id is required."), param="message_id"
        ) from None
    conversation = membership.conversation
    last = Message.objects.filter(conversation_id=conversation.pk).aggregate(m=Max("id"))["m"]
    if last is None or mid <= 0 or mid > last:
        raise ApplicationError(
            "invalid_message", _("No such message in this conversation."), param="message_id"
        )
    with transaction.atomic():
        moved = Membership.objects.filter(pk=membership.pk, last_read_id__lt=mid).update(
            last_read_id=mid
        )
        if not moved:
            return membership
        membership.last_read_id = mid
        conv_uuid = str(conversation.uuid)
        body = {"conversation": conv_uuid, "user": str(user.uuid), "last_read_id": mid}
        events = [PendingEvent(user_ids=[user.pk], type=EventType.CONVERSATION_READ, stored=body)]
        settings_row = ChatSettings.objects.filter(user=user).first()
        # The recipient of a message request shares no read receipt with its sender.
        if not membership.request_state and (
            settings_row is None or settings_row.share_read_receipts
        ):
            others = list(
                Membership.objects.filter(
                    conversation=conversation,
                    left_at__isnull=True,
                    request_state=RequestState.ACCEPTED,
                )
                .exclude(user=user)
                .values_list("user_id", flat=True)
            )
            if others:
                events.append(
                    PendingEvent(user_ids=others, type=EventType.CONVERSATION_READ, stored=body)
                )
        events_append(events)
        from chat.tasks import conversation_clear_push_task

        transaction.on_commit(
            lambda: task_send(conversation_clear_push_task, user.pk, conversation.pk), robust=True
        )
    return membership


def chat_settings_update(
    *,
    user: User,
    share_read_receipts: bool | None = None,
    push_previews: bool | None = None,
) -> ChatSettings:
    """Change one's chat settings: stop sharing read receipts (P11), opt in to text
    previews in push notifications (off by default: pushes carry ids and counts)."""
    with transaction.atomic():
        row, _ = ChatSettings.objects.select_for_update().get_or_create(user=user)
        fields = []
        if share_read_receipts is not None:
            row.share_read_receipts = share_read_receipts
            fields.append("share_read_receipts")
        if push_previews is not None:
            row.push_previews = push_previews
            fields.append("push_previews")
        if fields:
            row.save(update_fields=fields)
    return row


def direct_key_for(user_a_id: int, user_b_id: int) -> str:
    """The key that makes a direct conversation unique per pair: ``"<low id>:<high id>"``."""
    low, high = sorted((user_a_id, user_b_id))
    return f"{low}:{high}"


def direct_key_of_user(user_id: int) -> Q:
    """Conversations whose direct key holds ``user_id`` (see :func:`direct_key_for`)."""
    return Q(direct_key__startswith=f"{user_id}:") | Q(direct_key__endswith=f":{user_id}")
