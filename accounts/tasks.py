"""Celery tasks of accounts: thin wrappers around services (queue chosen by name prefix)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from accounts.services import SmsRetryableError, sms_delivery_attempt, sms_delivery_give_up


@shared_task(bind=True, name="sms.deliver_code", acks_late=True, ignore_result=True)
def sms_deliver_task(self: Any, *, delivery_id: int, sealed: str) -> None:
    """Deliver one recorded SMS/voice code; retry with exponential backoff on timeouts/5xx."""
    try:
        sms_delivery_attempt(delivery_id=delivery_id, sealed=sealed)
    except SmsRetryableError as exc:
        if self.request.retries >= settings.SMS_MAX_RETRIES:
            sms_delivery_give_up(delivery_id=delivery_id)
            return
        countdown = min(settings.SMS_RETRY_BACKOFF * 2**self.request.retries, 300)
        raise self.retry(
            exc=exc, countdown=countdown, max_retries=settings.SMS_MAX_RETRIES
        ) from exc


@shared_task(name="accounts.provider_avatar_fetch", acks_late=True, ignore_result=True)
def provider_avatar_fetch_task(*, user_id: int) -> bool:
    """The provider's picture becomes the avatar: the user chose it at sign-up (P3)."""
    from accounts.social_avatar import user_avatar_from_provider

    return user_avatar_from_provider(user_id=user_id)


# Identity verification's tasks live in their package; importing them registers them.
from accounts.identity.tasks import identity_check_task, identity_sweep_task  # noqa: E402, F401
