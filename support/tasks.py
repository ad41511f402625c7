"""Celery task of support tickets: the push of a staff answer (queue ``push``)."""

from __future__ import annotations

from celery import shared_task

from chat.push import PushTransientError
from support.services import support_reply_push_send


@shared_task(
    name="push.support_reply",
    autoretry_for=(PushTransientError,),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=6,
)
def support_reply_push_task(reply_id: int) -> int:
    return support_reply_push_send(reply_id=reply_id)
