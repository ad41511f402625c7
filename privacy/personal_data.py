"""Privacy's own personal data (DESIGN.md, docs/privacy.md): consents, withdrawals,
privacy requests with their history and export archives.

Discovered by :mod:`privacy.registry` like every app's ``personal_data`` module.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from media.services import StorageNotEmptyError
from meetnow.lib.personal_data import (
    Declaration,
    EraseStep,
    ErasureContext,
    ExportRows,
    ExportSection,
    Strategy,
    chunk_update,
    count_of,
    page,
    plain_rows,
    rows_delete_step,
    section,
    step,
)
from meetnow.lib.timestamps import iso
from privacy.export import PREFIX as EXPORT_PREFIX
from privacy.export import export_staging_delete
from privacy.models import (
    Consent,
    ConsentWithdrawal,
    PrivacyRequest,
    PrivacyRequestEvent,
)


def _archives_prepare(ctx: ErasureContext, limit: int) -> list[int]:
    """Export archives (and parts staged by unfinished exports) of the user leave storage."""
    found = list(
        PrivacyRequest.objects.filter(user_id=ctx.user_id, kind="access")
        .filter(~Q(archive_key="") | Q(cursor__has_key="phase"))
        .order_by("pk")
        .values_list("pk", "uuid", "archive_key")[:limit]
    )
    for _pk, request_uuid, key in found:
        if key:
            default_storage.delete(key)
        export_staging_delete(str(request_uuid))
        if key and default_storage.exists(key):
            raise StorageNotEmptyError(f"export archive still in {EXPORT_PREFIX}")
    return [pk for pk, *_ in found]


def _archives_apply(ctx: ErasureContext, limit: int, ids: list[int]) -> int:
    if not ids:
        return 0
    return PrivacyRequest.objects.filter(pk__in=ids).update(
        archive_key="", archive_deleted_at=timezone.now(), cursor={}
    )


erase_steps: list[EraseStep] = [
    rows_delete_step(Consent),
    rows_delete_step(ConsentWithdrawal),
    step("privacy.PrivacyRequest", "delete_archives", _archives_apply, prepare=_archives_prepare),
    step(
        "privacy.PrivacyRequest",
        "pseudonymise",
        lambda c, n, _: chunk_update(
            PrivacyRequest.objects.filter(user_id=c.user_id).exclude(details=""), n, details=""
        ),
    ),
    step(
        "privacy.PrivacyRequestEvent",
        "pseudonymise",
        lambda c, n, _: chunk_update(
            PrivacyRequestEvent.objects.filter(actor_id=c.user_id), n, actor=None
        ),
    ),
]


declarations: list[Declaration] = [
    Declaration(
        "privacy.Consent",
        Strategy.DELETE,
        "consents.json",
        "consent_proof",
        "Versions and times copied (without IP) to the erasure ledger as proof, kept for "
        "the legal retention.",
        remaining=count_of(Consent, "user_id"),
    ),
    Declaration(
        "privacy.ConsentWithdrawal",
        Strategy.DELETE,
        "consent_withdrawals.json",
        "consent_proof",
        remaining=count_of(ConsentWithdrawal, "user_id"),
    ),
    Declaration(
        "privacy.PrivacyRequest",
        Strategy.PSEUDONYMISE,
        "privacy_requests.json",
        "closed_requests",
        "Kept as proof of handling: user detached, details blanked.",
        remaining=count_of(PrivacyRequest, "user_id"),
    ),
    Declaration(
        "privacy.PrivacyRequestEvent",
        Strategy.PSEUDONYMISE,
        "privacy_requests.json",
        "closed_requests",
        "Audit trail: actor detached; never holds personal values.",
        remaining=count_of(PrivacyRequestEvent, "actor_id"),
    ),
    # Reachable from the user only through PrivacyRequest.
    Declaration(
        "privacy.ErasureStep",
        Strategy.KEEP,
        "",
        "closed_requests",
        "Model, action and row count of an erasure step: no personal value.",
    ),
]


def _request_rows(uid: int, after: int, limit: int) -> ExportRows:
    return [
        (
            r.pk,
            {
                "uuid": str(r.uuid),
                "kind": r.kind,
                "status": r.status,
                "details": r.details,
                "received_at": iso(r.received_at),
                "due_at": iso(r.effective_due_at),
                "finished_at": iso(r.finished_at),
                "denial_reason": r.denial_reason,
                "extension_reason": r.extension_reason,
                "events": [
                    {"action": e.action, "status": e.to_status, "at": iso(e.created_at)}
                    for e in r.events.order_by("id")
                ],
            },
        )
        for r in page(PrivacyRequest.objects.filter(user_id=uid), after, limit)
    ]


def _consent_rows(uid: int, after: int, limit: int) -> ExportRows:
    return [
        (
            c.pk,
            {
                "document": c.kind,
                "version": c.version,
                "accepted_at": iso(c.accepted_at),
                "ip_address": c.ip_address,
            },
        )
        for c in page(Consent.objects.filter(user_id=uid), after, limit)
    ]


export_sections: list[ExportSection] = [
    section(
        "consents",
        gettext_lazy(
            "Every version of the privacy policy and agreement you accepted, with time and IP."
        ),
        _consent_rows,
        lambda uid: Consent.objects.filter(user_id=uid).count(),
    ),
    section(
        "consent_withdrawals",
        gettext_lazy("Consents you withdrew, and when you accepted again."),
        plain_rows(
            lambda uid: ConsentWithdrawal.objects.filter(user_id=uid),
            ["kind", "version", "withdrawn_at", "restored_at"],
        ),
        lambda uid: ConsentWithdrawal.objects.filter(user_id=uid).count(),
    ),
    section(
        "privacy_requests",
        gettext_lazy(
            "Your privacy requests (export, correction, deletion, consent) and their history."
        ),
        _request_rows,
        lambda uid: PrivacyRequest.objects.filter(user_id=uid).count(),
    ),
]
