"""Claiming long privacy jobs (export, erasure) the Sentry way: a conditional update.

A worker owns a request while ``lease_until`` is in the future and ``lease_token``
is its own. Every chunk renews the lease inside the chunk's transaction; a worker
that lost the lease (killed, held, canceled) stops at its next chunk, and the beat
task re-enqueues jobs whose lease expired. Everything is in the database.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from privacy.models import PrivacyRequest, RequestKind, RequestStatus

MAX_ATTEMPTS = 8
EXPORT_TASK = "privacy.export_build"
ERASURE_TASK = "privacy.erasure_run"


def _lease_end(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(seconds=settings.MEETNOW_PRIVACY_LEASE_SECONDS)


def job_claim(*, request_id: int, kind: str) -> str | None:
    """Take the job if it is in processing, not on hold and nobody holds a live lease."""
    token = secrets.token_hex(8)
    now = timezone.now()
    claimed = (
        PrivacyRequest.objects.filter(
            pk=request_id,
            kind=kind,
            status=RequestStatus.IN_PROCESSING,
            legal_hold_at__isnull=True,
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            lease_token=token,
            lease_until=_lease_end(now),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    return token if claimed else None


def job_heartbeat(*, request_id: int, token: str, **fields: Any) -> bool:
    """Renew the lease (and save ``fields``, e.g. cursor and progress) if still ours."""
    now = timezone.now()
    return (
        PrivacyRequest.objects.filter(
            pk=request_id,
            lease_token=token,
            status=RequestStatus.IN_PROCESSING,
            legal_hold_at__isnull=True,
        ).update(lease_until=_lease_end(now), updated_at=now, **fields)
        == 1
    )


def job_release(*, request_id: int, token: str) -> None:
    PrivacyRequest.objects.filter(pk=request_id, lease_token=token).update(
        lease_token="", lease_until=None
    )


def job_give_up(*, request_id: int, token: str) -> bool:
    """After a failed run: release the lease; True when that was the job's last attempt
    (the caller then marks the request failed), False to let the task retry."""
    job_release(request_id=request_id, token=token)
    attempts = PrivacyRequest.objects.filter(pk=request_id).values_list("attempts", flat=True)
    return bool(attempts) and attempts[0] >= MAX_ATTEMPTS


def job_enqueue(*, request_id: int, kind: str) -> None:
    """Start the job of a request (export for access, else erasure) after commit.

    The task is found by name in Celery's registry (``privacy.tasks`` registers it
    when the app is ready): the tasks call the runners, so this layer can't import them.
    """
    task = current_app.tasks[EXPORT_TASK if kind == RequestKind.ACCESS else ERASURE_TASK]
    # robust: if the broker is away the beat task ``privacy.jobs_due`` starts the job.
    transaction.on_commit(lambda: task.apply_async(kwargs={"request_id": request_id}), robust=True)


def job_reenqueue(*, request_id: int, kind: str) -> None:
    """Continue in a new task (the Sentry ``has_more`` pattern)."""
    job_enqueue(request_id=request_id, kind=kind)
