"""Celery tasks of identity verification: thin wrappers (queue ``default`` by name)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from accounts.identity.models import VerificationStatus
from accounts.identity.providers import ProviderTransientError
from accounts.identity.services import (
    identity_callback_nonces_purge,
    identity_verification_check,
    identity_verifications_due,
)

MAX_RETRIES = 5


@shared_task(bind=True, name="default.identity_check", acks_late=True, ignore_result=True)
def identity_check_task(self: Any, *, verification_id: int) -> None:
    """Poll the provider for one attempt; again later while it is pending."""
    try:
        verification = identity_verification_check(verification_id=verification_id)
    except ProviderTransientError as exc:
        if self.request.retries >= MAX_RETRIES:
            return  # the beat sweep checks it again, and expires it in time
        countdown = min(settings.IDENTITY_POLL_INTERVAL * 2**self.request.retries, 300)
        raise self.retry(exc=exc, countdown=countdown, max_retries=MAX_RETRIES) from exc
    # Run eagerly (tests, CELERY_TASK_ALWAYS_EAGER) a countdown means nothing: the
    # beat sweep checks again instead of this recursing.
    pending = verification is not None and verification.status == VerificationStatus.PENDING
    if pending and not self.request.is_eager:
        identity_check_task.apply_async(
            kwargs={"verification_id": verification_id},
            countdown=settings.IDENTITY_POLL_INTERVAL,
        )


@shared_task(name="default.identity_sweep", acks_late=True, ignore_result=True)
def identity_sweep_task() -> None:
    """Beat, every minute: check attempts no task checked lately; forget old nonces."""
    for verification_id in identity_verifications_due():
        identity_check_task.apply_async(kwargs={"verification_id": verification_id})
    identity_callback_nonces_purge()
