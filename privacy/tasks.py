"""Celery tasks of privacy (queue ``privacy``): thin wrappers that take an id.

Each task re-reads the request and claims it with a conditional update, so a
redelivered or duplicate message does nothing twice (``acks_late``).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from chat.push import PushTransientError
from privacy.erasure import erasure_run
from privacy.export import export_build, exports_expire
from privacy.jobs import ERASURE_TASK, EXPORT_TASK
from privacy.lifecycle import erasures_start_due, jobs_resume_stalled
from privacy.retention import retention_purge
from privacy.services import (
    POLICY_UPDATE_PUSH_TASK,
    POLICY_UPDATE_TASK,
    policy_update_announce,
    policy_update_push_send,
)

# Assembling a large ZIP is one long step; chunked phases stay within the budget.
SOFT_LIMIT = 1800
HARD_LIMIT = 1900


@shared_task(
    name=EXPORT_TASK,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=8,
    soft_time_limit=SOFT_LIMIT,
    time_limit=HARD_LIMIT,
)
def export_build_task(*, request_id: int) -> str:
    return export_build(request_id=request_id, budget=settings.MEETNOW_PRIVACY_TASK_BUDGET)


@shared_task(
    name=ERASURE_TASK,
    acks_late=True,
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=8,
    soft_time_limit=SOFT_LIMIT,
    time_limit=HARD_LIMIT,
)
def erasure_run_task(*, request_id: int) -> str:
    return erasure_run(request_id=request_id, budget=settings.MEETNOW_PRIVACY_TASK_BUDGET)


@shared_task(name="privacy.jobs_due", ignore_result=True)
def jobs_due_task() -> dict[str, Any]:
    """Beat: start erasures whose cooling-off ended; resume jobs whose worker died."""
    return {"started": erasures_start_due(), "resumed": jobs_resume_stalled()}


@shared_task(name="privacy.exports_expire", ignore_result=True)
def exports_expire_task() -> int:
    return exports_expire()


@shared_task(
    name="privacy.retention_purge",
    ignore_result=True,
    soft_time_limit=SOFT_LIMIT,
    time_limit=HARD_LIMIT,
)
def retention_purge_task() -> dict[str, int]:
    return retention_purge()


@shared_task(name=POLICY_UPDATE_TASK, acks_late=True, ignore_result=True)
def policy_update_announce_task(*, document_id: int) -> int:
    return policy_update_announce(document_id=document_id)


@shared_task(
    name=POLICY_UPDATE_PUSH_TASK,
    autoretry_for=(PushTransientError,),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=6,
)
def policy_update_push_task(document_id: int, user_ids: list[int]) -> int:
    return policy_update_push_send(document_id=document_id, user_ids=user_ids)
