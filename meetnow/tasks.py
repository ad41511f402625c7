"""Project-wide periodic tasks (thin wrappers; see CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from meetnow.lib.outbox import outbox_flush
from meetnow.services import sessions_clear_expired


@shared_task(name="default.sessions_clear_expired")
def sessions_clear_expired_task() -> int:
    return sessions_clear_expired()


@shared_task(name="default.outbox_flush")
def outbox_flush_task() -> int:
    return outbox_flush()
