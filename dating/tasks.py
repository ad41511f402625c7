"""Celery tasks of dating: thin wrappers around services (ids in, idempotent)."""

from __future__ import annotations

from celery import shared_task

from chat.push import PushTransientError
from dating.notify import match_push_send, post_activity_push_send
from dating.voicematch import voice_match_time_limit


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


@shared_task(name="default.dating_voice_match_limit")
def voice_match_time_limit_task(session_id: int) -> bool:
    """End a voice match's anonymous call at its time limit unless both liked."""
    return voice_match_time_limit(session_id=session_id)
