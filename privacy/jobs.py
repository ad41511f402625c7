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

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from privacy.models import PrivacyRequest, RequestStatus


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


def job_reenqueue(*, request_id: int, kind: str) -> None:
    """Continue in a new task (the Sentry ``has_more`` pattern)."""
    from privacy.lifecycle import _enqueue_job

    _enqueue_job(PrivacyRequest(pk=request_id, kind=kind))
