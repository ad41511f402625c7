"""Support tickets in the personal-data registry (P13, P17): exported, erased, kept.

Loaded by ``privacy.handlers`` (last line); its erase steps go before the final
"delete the account" step, so each is counted on its own. The pictures are media
files of the user: the media step deletes them (and every copy in storage), and
their exported originals are in ``files/``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet

from privacy.registry import Declaration, EraseStep, ExportSection, Strategy, registry
from privacy.support import SupportReply, SupportTicket, SupportTicketPicture


def _delete_chunk(queryset: QuerySet[Any], limit: int) -> int:
    model: type[Model] = queryset.model
    ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    model._default_manager.filter(pk__in=ids).delete()
    return len(ids)


def _pseudonymise_authors(ctx: Any, limit: int, _: Any) -> int:
    ids = list(
        SupportReply.objects.filter(author_id=ctx.user_id).values_list("pk", flat=True)[:limit]
    )
    return SupportReply.objects.filter(pk__in=ids).update(author=None)


_STEPS = [
    EraseStep(
        model="privacy.SupportReply",
        action="delete",
        apply=lambda c, n, _: _delete_chunk(
            SupportReply.objects.filter(ticket__user_id=c.user_id), n
        ),
    ),
    EraseStep(
        model="privacy.SupportTicketPicture",
        action="delete",
        apply=lambda c, n, _: _delete_chunk(
            SupportTicketPicture.objects.filter(ticket__user_id=c.user_id), n
        ),
    ),
    EraseStep(
        model="privacy.SupportTicket",
        action="delete",
        apply=lambda c, n, _: _delete_chunk(SupportTicket.objects.filter(user_id=c.user_id), n),
    ),
    EraseStep(
        model="privacy.SupportReply", action="pseudonymise_author", apply=_pseudonymise_authors
    ),
]


def _register_steps() -> None:
    steps = registry.erase_steps
    if any(s.model.startswith("privacy.Support") for s in steps):
        return
    last = next(
        (i for i, s in enumerate(steps) if (s.model, s.action) == ("accounts.User", "delete")),
        len(steps),
    )
    steps[last:last] = _STEPS


def _ticket_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
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
                "created_at": t.created_at.isoformat(),
                "answered_at": t.answered_at.isoformat() if t.answered_at else None,
                "closed_at": t.closed_at.isoformat() if t.closed_at else None,
                "pictures": [str(p.media_file.uuid) for p in t.pictures.all()],
                "replies": [
                    {
                        "from": "support" if r.from_staff else "me",
                        "text": r.text,
                        "created_at": r.created_at.isoformat(),
                    }
                    for r in t.replies.all()
                ],
            },
        )
        for t in tickets
    ]


def _register() -> None:
    if "privacy.SupportTicket" in registry.declarations:
        return
    _register_steps()
    registry.declare(
        Declaration(
            "privacy.SupportTicket",
            Strategy.DELETE,
            "support_tickets.json",
            "account",
            "What the user wrote to customer service.",
            remaining=lambda uid: SupportTicket.objects.filter(user_id=uid).count(),
        ),
        Declaration(
            "privacy.SupportTicketPicture",
            Strategy.DELETE,
            "support_tickets.json (picture ids) + files/",
            "account",
            "Links to the user's own media files, which the media step deletes from storage.",
            remaining=lambda uid: SupportTicketPicture.objects.filter(ticket__user_id=uid).count(),
        ),
        Declaration(
            "privacy.SupportReply",
            Strategy.DELETE,
            "support_tickets.json",
            "account",
            "Deleted with the user's tickets; a staff author is cleared from answers.",
            remaining=lambda uid: (
                SupportReply.objects.filter(ticket__user_id=uid).count()
                + SupportReply.objects.filter(author_id=uid).count()
            ),
        ),
    )
    registry.section(
        ExportSection(
            name="support_tickets",
            filename="support_tickets.json",
            description="What you wrote to customer service, its pictures (ids), the answers.",
            rows=_ticket_rows,
            count=lambda uid: SupportTicket.objects.filter(user_id=uid).count(),
        )
    )


_register()
