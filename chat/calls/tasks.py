"""Celery tasks of calls: thin wrappers around chat.calls and chat.call_push (ids in)."""

from __future__ import annotations

from celery import shared_task

from chat.calls.push import call_push_send
from chat.calls.services import call_expire
from chat.push import PushTransientError


@shared_task(name="default.call_ring_timeout")
def call_ring_timeout_task(call_id: int) -> bool:
    """Enqueued with ``countdown=MEETNOW_CALL_RING_TIMEOUT`` by ``call_invite``."""
    return call_expire(call_id=call_id)


@shared_task(
    name="push.call",
    autoretry_for=(PushTransientError,),
    retry_backoff=1,
    retry_backoff_max=8,
    max_retries=3,
)
def call_push_task(call_id: int, kind: str) -> int:
    return call_push_send(call_id=call_id, kind=kind)
