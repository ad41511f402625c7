"""Support tickets, writes (P17): open a ticket, answer it, follow up, close; the push.

Services own their transaction and enqueue after commit; the admin and the API
call them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.phones import InvalidPhoneError, phone_normalise
from accounts.selectors import push_devices_for_users
from chat.notify import notice_send
from chat.push import PushNotification, push_send
from media.services import media_file_attach
from meetnow.lib.deadlines import due_for_phone
from meetnow.lib.errors import ApplicationError
from meetnow.lib.outbox import task_send
from meetnow.lib.throttling import scoped_limit_wait
from support.models import (
    CONTACT_MAX,
    PICTURES_MAX,
    TEXT_MAX,
    SupportReply,
    SupportTicket,
    SupportTicketPicture,
    TicketStatus,
    TicketTopic,
)

logger = logging.getLogger(__name__)

PUSH_TITLE = gettext_lazy("MeetNow support")
PUSH_BODY = gettext_lazy("Support answered your request.")


class NoticeKind:
    """The notices a ticket's outcome leaves in the user's inbox (P17); their texts
    are in :mod:`support.notices`."""

    ANSWERED = "support.ticket_answered"
    CLOSED = "support.ticket_closed"


def _text_clean(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ApplicationError("text_required", _("Describe your question."), param="text")
    cleaned = text.strip()
    if len(cleaned) > TEXT_MAX:
        raise ApplicationError(
            "text_too_long",
            _("At most %(text_max)s characters.") % {"text_max": TEXT_MAX},
            param="text",
        )
    return cleaned


def _due(*, ticket: SupportTicket, now: dt.datetime) -> dt.datetime:
    """When support must have answered a message of the ticket's person sent at ``now``
    (P17): working days of the calendar of their number (the account's, or the contact
    number of a public ticket)."""
    phone = ticket.user.phone if ticket.user is not None else ticket.contact_phone
    return due_for_phone(received_at=now, days=settings.MEETNOW_SUPPORT_SLA_DAYS, phone=phone)


@transaction.atomic
def support_ticket_create(
    *, user: User, text: Any, picture_uuids: Sequence[Any] = ()
) -> SupportTicket:
    """Open a ticket with text and up to 5 pictures the user uploaded (P17).

    Pictures are the user's own uploads with purpose ``support`` (``POST
    /api/v1/media``); anything else is ``media_not_found``, so ids can't be probed.
    """
    cleaned = _text_clean(text)
    uuids = list(dict.fromkeys(str(u) for u in picture_uuids))
    if len(uuids) > PICTURES_MAX:
        raise ApplicationError(
            "too_many_pictures",
            _("At most %(pictures_max)s pictures.") % {"pictures_max": PICTURES_MAX},
            param="pictures",
        )
    now = timezone.now()
    ticket = SupportTicket(user=user, text=cleaned, created_at=now, updated_at=now)
    ticket.due_at = _due(ticket=ticket, now=now)
    ticket.save(force_insert=True)
    SupportTicketPicture.objects.bulk_create(
        SupportTicketPicture(
            ticket=ticket,
            media_file=media_file_attach(owner=user, media_uuid=value, purposes=("support",)),
            position=position,
        )
        for position, value in enumerate(uuids)
    )
    return ticket


def _contact_clean(*, phone: Any, contact: Any) -> tuple[str, str]:
    """The contact of a public ticket: a phone number (to E.164) and/or free text."""
    phone_text = phone.strip() if isinstance(phone, str) else ""
    contact_text = " ".join(contact.split()) if isinstance(contact, str) else ""
    if not phone_text and not contact_text:
        raise ApplicationError(
            "contact_required",
            _("Give a phone number or another way to reach you."),
            param="phone",
        )
    if len(contact_text) > CONTACT_MAX:
        raise ApplicationError(
            "contact_too_long",
            _("At most %(contact_max)s characters.") % {"contact_max": CONTACT_MAX},
            param="contact",
        )
    e164 = ""
    if phone_text:
        try:
            e164 = phone_normalise(phone_text)
        except InvalidPhoneError:
            raise ApplicationError(
                "invalid_phone", _("Enter a valid phone number."), param="phone"
            ) from None
    return e164, contact_text


def _contact_key(*, phone: str, contact: str) -> str:
    """A keyed hash of the contact: the per-contact limit's key (never the contact)."""
    return salted_hmac("support-public-contact", f"{phone}|{contact.casefold()}").hexdigest()


def support_ticket_create_public(
    *, topic: Any, phone: Any, contact: Any, text: Any
) -> SupportTicket:
    """A ticket from the public form: a person without an account, or who lost its
    number, asks support (P17). No account is looked up or linked: staff reach the
    person through the contact. Besides the per-IP limit of the view, at most
    ``support_public_contact`` tickets per contact (429 ``rate_limited``).
    """
    if topic not in TicketTopic.values:
        raise ApplicationError("invalid_topic", _("Choose a topic."), param="topic")
    cleaned = _text_clean(text)
    e164, contact_text = _contact_clean(phone=phone, contact=contact)
    wait = scoped_limit_wait(
        scope="support_public_contact", ident=_contact_key(phone=e164, contact=contact_text)
    )
    if wait is not None:
        raise ApplicationError(
            "rate_limited",
            _("Too many requests from this contact; try again later."),
            status_code=429,
        )
    now = timezone.now()
    ticket = SupportTicket(
        topic=topic,
        contact_phone=e164,
        contact=contact_text,
        text=cleaned,
        created_at=now,
        updated_at=now,
    )
    ticket.due_at = _due(ticket=ticket, now=now)
    ticket.save(force_insert=True)
    return ticket


@transaction.atomic
def support_ticket_follow_up(*, ticket: SupportTicket, text: Any) -> SupportReply:
    """The user adds to their ticket; it goes back to the support queue."""
    if ticket.status == TicketStatus.CLOSED:
        raise ApplicationError(
            "ticket_closed", _("This ticket is closed; open a new one."), status_code=409
        )
    reply = SupportReply.objects.create(ticket=ticket, from_staff=False, text=_text_clean(text))
    ticket.status = TicketStatus.OPEN
    ticket.updated_at = reply.created_at
    ticket.due_at = _due(ticket=ticket, now=reply.created_at)
    ticket.save(update_fields=["status", "updated_at", "due_at"])
    return reply


@transaction.atomic
def support_ticket_answer(
    *, ticket: SupportTicket, staff: User, text: Any, close: bool = False
) -> SupportReply:
    """A support agent answers; the user's phones get a push after commit (P17).

    The push carries no text of the answer, only the ticket id: the app fetches the
    answer through the API.
    """
    reply = SupportReply.objects.create(
        ticket=ticket, author=staff, from_staff=True, text=_text_clean(text)
    )
    now = reply.created_at
    ticket.status = TicketStatus.CLOSED if close else TicketStatus.ANSWERED
    ticket.answered_at = now
    ticket.updated_at = now
    ticket.closed_at = now if close else None
    ticket.save(update_fields=["status", "answered_at", "updated_at", "closed_at"])
    if ticket.user_id is None:  # a public ticket's person has no app: staff use the contact
        return reply
    # The inbox keeps the outcome; the answer's own push (below) is the only push.
    notice_send(
        user_id=ticket.user_id,
        kind=NoticeKind.CLOSED if close else NoticeKind.ANSWERED,
        params={"ticket": str(ticket.uuid)},
        push=False,
    )
    reply_id = reply.pk
    transaction.on_commit(lambda: _push_enqueue(reply_id))
    return reply


@transaction.atomic
def support_ticket_close(*, ticket: SupportTicket) -> SupportTicket:
    """Support closes the ticket without a new answer: the user is told (P17) by a
    notice, an event on their stream and a push."""
    if ticket.status != TicketStatus.CLOSED:
        ticket.status = TicketStatus.CLOSED
        ticket.closed_at = ticket.updated_at = timezone.now()
        ticket.save(update_fields=["status", "closed_at", "updated_at"])
        if ticket.user_id is not None:  # a public ticket's person has no inbox
            notice_send(
                user_id=ticket.user_id, kind=NoticeKind.CLOSED, params={"ticket": str(ticket.uuid)}
            )
    return ticket


def support_replies_mark_read(*, ticket: SupportTicket) -> int:
    """The user's app has fetched the ticket: its staff answers count as read."""
    return SupportReply.objects.filter(ticket=ticket, from_staff=True, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def _push_enqueue(reply_id: int) -> None:
    from support.tasks import support_reply_push_task

    task_send(support_reply_push_task, reply_id)


def support_reply_push_send(*, reply_id: int) -> int:
    """Notify the ticket owner's phones of a staff answer (push opt-out respected, P10).

    Idempotent: a device is notified at most once per answer. Returns the number of
    devices notified.
    """
    reply = (
        SupportReply.objects.select_related("ticket").filter(pk=reply_id, from_staff=True).first()
    )
    if reply is None or reply.ticket.user_id is None:
        return 0
    devices = push_devices_for_users(user_ids=[reply.ticket.user_id])
    ticket_uuid = str(reply.ticket.uuid)
    note = PushNotification(
        kind="support_reply",
        conversation=f"support-{ticket_uuid}",
        badge=0,
        data={"ticket": ticket_uuid, "reply_id": str(reply.pk)},
        title=PUSH_TITLE,
        body=PUSH_BODY,
    )
    return push_send(
        devices,
        lambda device: note,
        once_key=lambda device: f"privacy:support-push:r{reply.pk}:d{device.pk}",
    )
