"""Writes on policy documents and consents (HackSoft style: ``<entity>_<verb>``)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from meetnow.lib.errors import ApplicationError
from meetnow.lib.i18n import language_current
from privacy.models import Consent, PolicyDocument


@transaction.atomic
def document_publish(*, document: PolicyDocument) -> PolicyDocument:
    """Publish a version: from now on it is the current one that sign-up must accept (P16).

    Both texts are needed: users read it in English or Simplified Chinese (issue 17).
    """
    if document.published_at is not None:
        raise ApplicationError("already_published", _("This version is already published."))
    if not (document.body.strip() and document.body_zh_hans.strip()):
        raise ApplicationError(
            "translation_missing", _("Give the English and the Chinese text before publishing.")
        )
    document.published_at = timezone.now()
    document.save(update_fields=["published_at"])
    return document


@transaction.atomic
def consent_record(
    *,
    user: User,
    documents: Iterable[PolicyDocument],
    ip_address: str | None,
    language: str | None = None,
) -> list[Consent]:
    """Record that ``user`` accepted these document versions, with time and IP (P1).

    Each consent says which language's text was shown: the one the documents API
    serves to a reader of ``language`` (default: the request's). Accepting the same
    version twice keeps the first record.
    """
    now = timezone.now()
    reader = language or language_current()
    consents = []
    for document in documents:
        consent, _created = Consent.objects.get_or_create(
            user=user,
            document=document,
            defaults={
                "kind": document.kind,
                "version": document.version,
                "language": document.text_in(reader)[0],
                "accepted_at": now,
                "ip_address": ip_address,
            },
        )
        consents.append(consent)
    return consents
