"""Support tickets in the personal-data registry (P13, P17): exported, erased, kept.

Discovered by privacy's registry; support sits between privacy and chat, so its
erase steps run after privacy's own, before chat's. The pictures are media
files of the user: the media step deletes them (and every copy in storage), and
their exported originals are in ``files/``.

Tickets from the public form (``support_ticket_create_public``: no account) hold
personal data of someone without an account: the contact they gave (a phone number
and/or free text such as an e-mail address) and what they wrote. No account exports or
erases them; their retention is the rule ``support_tickets`` (privacy/retention.py):
deleted ``MEETNOW_RETENTION_DAYS["support_tickets"]`` days after closing, like every
ticket, or that long after their last activity if staff never closed them. A person who
asks for their erasure through support is handled by staff (close, then the rule runs).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from meetnow.lib.personal_data import (
    Declaration,
    EraseStep,
    ErasureContext,
    ExportRows,
    ExportSection,
    Strategy,
    chunk_delete,
    chunk_update,
    rows_delete_step,
    section,
    step,
)
from meetnow.lib.timestamps import iso
from support.models import SupportReply, SupportTicket, SupportTicketPicture


def _pseudonymise_authors(ctx: ErasureContext, limit: int, _: Any) -> int:
    return chunk_update(SupportReply.objects.filter(author_id=ctx.user_id), limit, author=None)


erase_steps: list[EraseStep] = [
    rows_delete_step(SupportReply, "ticket__user_id"),
    step(
        "privacy.SupportTicketPicture",
        "delete",
        lambda c, n, _: chunk_delete(
            SupportTicketPicture.objects.filter(ticket__user_id=c.user_id), n
        ),
    ),
    rows_delete_step(SupportTicket),
    step("privacy.SupportReply", "pseudonymise_author", _pseudonymise_authors),
]


def _ticket_rows(uid: int, after: int, limit: int) -> ExportRows:
    tickets = (
        SupportTicket.objects.filter(user_id=uid, pk__gt=after)
        .order_by("pk")
        .prefetch_related("replies", "pictures__media_file")[:limit]
    )
    return [
        (
            t.pk,
            {
                "uuid": str(t.uuid),
                "status": t.status,
                "text": t.text,
                "created_at": iso(t.created_at),
                "answered_at": iso(t.answered_at),
                "closed_at": iso(t.closed_at),
                "pictures": [str(p.media_file.uuid) for p in t.pictures.all()],
                "replies": [
                    {
                        "from": "support" if r.from_staff else "me",
                        "text": r.text,
                        "created_at": iso(r.created_at),
                    }
                    for r in t.replies.all()
                ],
            },
        )
        for t in tickets
    ]


declarations: list[Declaration] = [
    Declaration(
        "privacy.SupportTicket",
        Strategy.DELETE,
        "support_tickets.json",
        "support_tickets",
        "What the user wrote to customer service. A ticket from the public form (no "
        "account) holds a contact (phone and/or free text): deleted by the retention rule, "
        "also after its last activity if never closed.",
        remaining=lambda uid: SupportTicket.objects.filter(user_id=uid).count(),
    ),
    Declaration(
        "privacy.SupportTicketPicture",
        Strategy.DELETE,
        "support_tickets.json (picture ids) + files/",
        "support_tickets",
        "Links to the user's own media files, which the media step deletes from storage.",
        remaining=lambda uid: SupportTicketPicture.objects.filter(ticket__user_id=uid).count(),
    ),
    Declaration(
        "privacy.SupportReply",
        Strategy.DELETE,
        "support_tickets.json",
        "support_tickets",
        "Deleted with the user's tickets; a staff author is cleared from answers.",
        remaining=lambda uid: (
            SupportReply.objects.filter(ticket__user_id=uid).count()
            + SupportReply.objects.filter(author_id=uid).count()
        ),
    ),
]

export_sections: list[ExportSection] = [
    section(
        "support_tickets",
        gettext_lazy("What you wrote to customer service, its pictures (ids), the answers."),
        _ticket_rows,
        lambda uid: SupportTicket.objects.filter(user_id=uid).count(),
    ),
]
