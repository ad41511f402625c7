"""Writes on policy documents and consents (HackSoft style: ``<entity>_<verb>``)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from meetnow.lib.errors import ApplicationError
from privacy.models import Consent, PolicyDocument


@transaction.atomic
def document_publish(*, document: PolicyDocument) -> PolicyDocument:
    """Publish a version: from now on it is the current one that sign-up must accept (P16)."""
    if document.published_at is not None:
        raise ApplicationError("already_published", "This version is already published.")
    document.published_at = timezone.now()
    document.save(update_fields=["published_at"])
    return document


@transaction.atomic
def consent_record(
    *, user: User, documents: Iterable[PolicyDocument], ip_address: str | None
) -> list[Consent]:
    """Record that ``user`` accepted these document versions, with time and IP (P1).

    Accepting the same version twice keeps the first record.
    """
    now = timezone.now()
    consents = []
    for document in documents:
        consent, _ = Consent.objects.get_or_create(
            user=user,
            document=document,
            defaults={
                "kind": document.kind,
                "version": document.version,
                "accepted_at": now,
                "ip_address": ip_address,
            },
        )
        consents.append(consent)
    return consents
