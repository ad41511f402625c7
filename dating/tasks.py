"""Celery tasks of dating: thin wrappers around services (ids in, idempotent)."""

from __future__ import annotations

from celery import shared_task

from chat.push import PushTransientError
from dating.notify import match_push_send, post_activity_push_send


@shared_task(
    name="push.dating_activity",
    autoretry_for=(PushTransientError,),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=6,
)
def post_activity_push_task(post_id: int, kind: str, burst: int) -> int:
    return post_activity_push_send(post_id=post_id, kind=kind, burst=burst)


@shared_task(
    name="push.dating_match",
    autoretry_for=(PushTransientError,),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=6,
)
def match_push_task(match_id: int) -> int:
    return match_push_send(match_id=match_id)
