"""privacy's side of identity verification (P7, P14): the hooks accounts declares.

- :func:`identity_consent_given` (``IDENTITY_CONSENT_CHECK``): the separate consent
  to sensitive personal information is a consent to the current version of the
  ``identity_notice`` document, not withdrawn since. It is given and withdrawn with
  the ordinary consent API (``POST /api/v1/privacy/consents`` with
  ``{"versions": {"identity_notice": "1.0"}}``, ``DELETE`` with
  ``document_kinds: ["identity_notice"]``); withdrawing it removes the
  verification (``privacy.consents.consent_withdraw``).
- :func:`identity_minor_erase` (``IDENTITY_MINOR_HANDLER``): a verified ID shows a
  user under ``MEETNOW_MIN_AGE``. Sign-up refuses minors and keeps nothing (P14), so
  the account (locked by accounts already) is erased now, without the grace period.
"""

from __future__ import annotations

from accounts.models import User
from privacy.erasure import erasure_force
from privacy.jobs import job_enqueue
from privacy.models import Consent, ConsentWithdrawal, DocumentKind
from privacy.selectors import documents_current


def identity_consent_given(*, user_id: int) -> bool:
    """Whether the user accepted the current identity notice and did not withdraw it."""
    document = documents_current().get(DocumentKind.IDENTITY_NOTICE)
    if document is None:
        return False
    if ConsentWithdrawal.objects.filter(
        user_id=user_id, kind=DocumentKind.IDENTITY_NOTICE, restored_at__isnull=True
    ).exists():
        return False
    return Consent.objects.filter(user_id=user_id, document=document).exists()


def identity_minor_erase(*, user_id: int) -> None:
    """Erase the account of a verified minor at once (P14), through the erasure job."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    privacy_request = erasure_force(user=user, action="minor_verified")
    job_enqueue(request_id=privacy_request.pk, kind=privacy_request.kind)
