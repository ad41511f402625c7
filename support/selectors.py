"""Support tickets, reads (P17): a user's own tickets only; payloads for the app."""

from __future__ import annotations

import uuid as uuid_lib
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from media.models import Status as MediaStatus
from media.services import media_file_signed_urls
from meetnow.lib.errors import NotFoundError
from meetnow.lib.timestamps import iso
from support.models import SupportReply, SupportTicket, SupportTicketPicture


def parse_ticket_uuid(value: Any) -> uuid_lib.UUID | None:
    try:
        return uuid_lib.UUID(str(value))
    except ValueError:
        return None


def support_tickets_of(*, user: User) -> QuerySet[SupportTicket]:
    """The user's tickets, newest first, with their unread staff answers counted."""
    return SupportTicket.objects.filter(user=user).annotate(
        unread=Count("replies", filter=Q(replies__from_staff=True, replies__read_at__isnull=True))
    )


def support_ticket_access(*, user: User, ticket_uuid: Any) -> SupportTicket:
    """The user's own ticket, with pictures and replies; anyone else's is not found."""
    parsed = parse_ticket_uuid(ticket_uuid)
    ticket = (
        SupportTicket.objects.filter(uuid=parsed, user=user)
        .prefetch_related(
            Prefetch(
                "pictures",
                queryset=SupportTicketPicture.objects.select_related("media_file"),
            ),
            Prefetch("replies", queryset=SupportReply.objects.order_by("id")),
        )
        .first()
        if parsed
        else None
    )
    if ticket is None:
        raise NotFoundError(_("No such ticket."))
    return ticket


def ticket_summary_payload(ticket: SupportTicket) -> dict[str, Any]:
    return {
        "uuid": str(ticket.uuid),
        "status": ticket.status,
        "text": ticket.text,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "answered_at": iso(ticket.answered_at),
        "due_at": iso(ticket.due_at),
        "unread_replies": getattr(ticket, "unread", 0),
    }


def ticket_detail_payload(ticket: SupportTicket) -> dict[str, Any]:
    """A ticket with its pictures (signed for the owner only) and the conversation."""
    return {
        **ticket_summary_payload(ticket),
        "unread_replies": sum(
            1 for r in ticket.replies.all() if r.from_staff and r.read_at is None
        ),
        "pictures": [
            {
                "uuid": str(p.media_file.uuid),
                "status": p.media_file.status,
                "urls": media_file_signed_urls(media_file=p.media_file)
                if p.media_file.status == MediaStatus.READY
                else {},
            }
            for p in ticket.pictures.all()
        ],
        "replies": [
            {
                "id": r.pk,
                "from": "support" if r.from_staff else "me",
                "text": r.text,
                "created_at": iso(r.created_at),
                "read_at": iso(r.read_at),
            }
            for r in ticket.replies.all()
        ],
    }
