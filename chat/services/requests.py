"""Message requests (issue 15): a direct conversation a stranger started.

The recipient's membership carries the state (``Membership.request_state``):
``pending`` until they answer, then accepted (``""``) or ``declined`` (``left_at``
set too, so every read treats them as gone). While pending the recipient reads the
conversation from their requests list but gets no event per message, the sender gets
no read receipt and no typing from them, and the sender can send at most
``CHAT_REQUEST_MESSAGES`` (chat.services.messages). Nothing here tells the sender
what the recipient did. Who is "a stranger" is decided by the upper layer's match
check (chat/hooks.py) and the recipient's ``dm_from`` setting (accounts).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid as uuid_lib
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import DmFrom, User
from accounts.services import block_create
from chat.events import EventType, PendingEvent, events_append
from chat.hooks import matched_user_ids
from chat.models import (
    Conversation,
    ConversationKind,
    GroupInvitation,
    Membership,
    Message,
    Report,
    RequestState,
)
from chat.services.common import attachment_release
from chat.services.reports import report_create
from meetnow.lib.errors import ApplicationError, NotFoundError

logger = logging.getLogger(__name__)


def dm_matches_only_error() -> ApplicationError:
    return ApplicationError(
        "dm_matches_only",
        _("This person accepts direct messages from matches only."),
        param="user",
        status_code=403,
    )


def direct_request_state_for(*, user: User, other: User) -> str:
    """The state of ``other``'s membership in a new direct conversation ``user`` starts:
    accepted for a match, otherwise a pending request; refused (403 ``dm_matches_only``)
    if ``other`` takes direct messages from matches only."""
    if matched_user_ids(user_id=user.pk, other_ids=[other.pk]):
        return RequestState.ACCEPTED
    if other.dm_from == DmFrom.MATCHES_ONLY:
        raise dm_matches_only_error()
    return RequestState.PENDING


def _accepted_event(membership: Membership, conversation: Conversation) -> PendingEvent:
    return PendingEvent(
        user_ids=[membership.user_id],
        type=EventType.CONVERSATION_CREATED,
        stored={"conversation": str(conversation.uuid)},
    )


def _membership_accept(membership: Membership, conversation: Conversation) -> bool:
    """Turn a pending (or declined) request into an accepted conversation for its
    recipient; returns whether it changed (a concurrent answer wins once)."""
    changed = (
        Membership.objects.filter(pk=membership.pk)
        .exclude(request_state=RequestState.ACCEPTED)
        .update(request_state=RequestState.ACCEPTED, left_at=None)
    )
    if changed:
        membership.request_state = RequestState.ACCEPTED
        membership.left_at = None
        events_append([_accepted_event(membership, conversation)])
    return bool(changed)


def direct_reopen(*, conversation: Conversation, user: User, other: User) -> None:
    """``user`` opens the existing direct conversation with ``other``.

    If ``user`` had a request from ``other`` (pending or declined), opening it
    themself accepts it. If ``other`` has not accepted ``user``'s request, a match
    between them (dating) accepts it; otherwise ``other``'s ``matches_only`` refuses.
    """
    rows = {
        m.user_id: m
        for m in Membership.objects.filter(
            conversation=conversation, user_id__in=[user.pk, other.pk]
        )
    }
    mine, theirs = rows.get(user.pk), rows.get(other.pk)
    with transaction.atomic():
        if (
            theirs is not None
            and theirs.request_state
            and direct_request_state_for(user=user, other=other) == RequestState.ACCEPTED
        ):
            _membership_accept(theirs, conversation)
        if mine is not None and mine.request_state:
            _membership_accept(mine, conversation)


def _pending_request(*, user: User, conversation_uuid: Any) -> Membership:
    """The user's pending request in this conversation; 404 otherwise (a malformed id too)."""
    try:
        cuuid = uuid_lib.UUID(str(conversation_uuid))
    except (TypeError, ValueError, AttributeError):
        raise NotFoundError(_("Message request not found.")) from None
    membership = (
        Membership.objects.select_related("conversation")
        .filter(
            user=user,
            conversation__uuid=cuuid,
            left_at__isnull=True,
            request_state=RequestState.PENDING,
        )
        .first()
    )
    if membership is None:
        raise NotFoundError(_("Message request not found."))
    return membership


def message_request_accept(*, user: User, conversation_uuid: Any) -> Membership:
    """Accept a message request: it becomes a normal conversation for the recipient
    (in their list, events, read receipts and typing shared as usual). The sender is
    not told anything beyond what a normal conversation shows."""
    membership = _pending_request(user=user, conversation_uuid=conversation_uuid)
    with transaction.atomic():
        _membership_accept(membership, membership.conversation)
    return membership


def message_request_decline(*, user: User, conversation_uuid: Any) -> None:
    """Decline a message request: hidden for the recipient from now on (404, as any
    conversation they are not in); the sender can send no more and gets the same answer
    as at the cap of a pending request (``request_limit``): they are never told."""
    membership = _pending_request(user=user, conversation_uuid=conversation_uuid)
    with transaction.atomic():
        changed = Membership.objects.filter(
            pk=membership.pk, request_state=RequestState.PENDING
        ).update(request_state=RequestState.DECLINED, left_at=timezone.now())
        if changed:
            events_append(
                [
                    PendingEvent(
                        user_ids=[user.pk],
                        type=EventType.CONVERSATION_REMOVED,
                        stored={"conversation": str(membership.conversation.uuid)},
                    )
                ]
            )


def message_request_report(
    *, user: User, conversation_uuid: Any, reason: Any, details: Any = ""
) -> Report:
    """Report the sender of a message request to the moderators (chat's reports, P8),
    block them (accounts' blocks, P11) and decline the request, in one transaction."""
    membership = _pending_request(user=user, conversation_uuid=conversation_uuid)
    sender = (
        Membership.objects.filter(conversation_id=membership.conversation_id)
        .exclude(user_id=user.pk)
        .select_related("user")
        .first()
    )
    if sender is None:
        raise NotFoundError(_("Message request not found."))
    with transaction.atomic():
        report = report_create(
            reporter=user, reason=reason, details=details, user_uuid=sender.user.uuid
        )
        block_create(blocker=user, blocked=sender.user)
        message_request_decline(user=user, conversation_uuid=conversation_uuid)
    return report


# --- Retention (P15) ------------------------------------------------------------------


def unanswered_requests_purge(*, before: dt.datetime, batch: int = 1000) -> int:
    """Delete message requests never accepted whose last message (or start) is older
    than ``before``: declined ones and ones still pending alike, so the sender cannot
    tell a decline from silence (P11, P15). The conversation goes with the sender's
    messages (their files too, unless an open report holds one as evidence) and both
    memberships; whoever still had it listed gets ``conversation.removed``. Returns how
    many requests went."""
    ids = list(
        Conversation.objects.filter(
            kind=ConversationKind.DIRECT,
            last_activity_at__lt=before,
            memberships__request_state__in=[RequestState.PENDING, RequestState.DECLINED],
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()[:batch]
    )
    if not ids:
        return 0
    for conversation in Conversation.objects.filter(pk__in=ids):
        with transaction.atomic():
            # Locks the row: a send or an accept at this moment waits, then finds it gone.
            locked = (
                Conversation.objects.select_for_update()
                .filter(pk=conversation.pk, last_activity_at__lt=before)
                .first()
            )
            if locked is None:  # a message came in meanwhile
                continue
            members = list(Membership.objects.filter(conversation_id=conversation.pk))
            if not any(m.request_state for m in members):  # accepted meanwhile
                continue
            told = [m.user_id for m in members if m.left_at is None]
            files = list(
                Message.objects.filter(conversation_id=conversation.pk, attachment__isnull=False)
                .values_list("attachment_id", flat=True)
                .distinct()
            )
            conversation.delete()
            for media_file_id in files:
                attachment_release(media_file_id)
            if told:
                events_append(
                    [
                        PendingEvent(
                            user_ids=told,
                            type=EventType.CONVERSATION_REMOVED,
                            stored={"conversation": str(conversation.uuid)},
                        )
                    ]
                )
    logger.info("chat: %d unanswered message requests purged", len(ids))
    return len(ids)


def declined_invitations_purge(*, before: dt.datetime, batch: int = 1000) -> int:
    """Delete group invitations declined before ``before`` (P15). The group stopped
    showing the person as invited when they declined; from now on it may invite them
    again."""
    ids = list(
        GroupInvitation.objects.filter(declined_at__lt=before)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch]
    )
    GroupInvitation.objects.filter(pk__in=ids).delete()
    return len(ids)
