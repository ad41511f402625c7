"""Celery tasks of dating: thin wrappers around services (ids in, idempotent)."""

from __future__ import annotations

from celery import shared_task

from chat.push import PushTransientError
from dating.notify import post_activity_push_send


@shared_task(
    name="push.dating_activity",
    autoretry_for=(PushTransientError,),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=6,
)
def post_activity_push_task(post_id: int, kind: str, burst: int) -> int:
    return post_activity_push_send(post_id=post_id, kind=kind, burst=burst)
