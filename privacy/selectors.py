"""Reads on policy documents and consents."""

from __future__ import annotations

from privacy.models import Consent, DocumentKind, PolicyDocument


def documents_current() -> dict[str, PolicyDocument]:
    """The current (newest published) version of each document kind, keyed by kind."""
    current: dict[str, PolicyDocument] = {}
    published = PolicyDocument.objects.filter(published_at__isnull=False).order_by(
        "kind", "-published_at", "-id"
    )
    for document in published:
        current.setdefault(document.kind, document)
    return current


def documents_missing_consent(*, user_id: int) -> list[PolicyDocument]:
    """Current documents the user has not accepted yet (P1, P16 re-consent)."""
    current = documents_current()
    accepted = set(
        Consent.objects.filter(
            user_id=user_id, document_id__in=[d.pk for d in current.values()]
        ).values_list("document_id", flat=True)
    )
    return [d for kind in DocumentKind.values if (d := current.get(kind)) and d.pk not in accepted]


def consents_for_user(*, user_id: int) -> list[Consent]:
    return list(Consent.objects.filter(user_id=user_id).order_by("accepted_at", "id"))
