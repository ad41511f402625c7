"""Celery tasks of the media queue: thin wrappers taking ids (names start "media.")."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from media import services


@shared_task(
    name="media.process",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.MEETNOW_MEDIA_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.MEETNOW_MEDIA_TASK_SOFT_TIME_LIMIT + 30,
    autoretry_for=(services.StorageError,),
    retry_backoff=True,
    max_retries=5,
)
def media_file_process_task(media_file_id: int) -> str | None:
    media_file = services.media_file_process(media_file_id=media_file_id)
    return media_file.status if media_file is not None else None


@shared_task(name="media.sweep", acks_late=True, soft_time_limit=600, time_limit=660)
def media_sweep_task() -> dict[str, int]:
    return services.media_sweep()
