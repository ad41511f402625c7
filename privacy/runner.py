"""One run of a long privacy job (export, erasure): the claim, the time budget, and
what happens when the run fails.

:func:`job_run` claims the request (a run that finds it claimed, held or finished
does nothing), hands a :class:`JobRun` to the job's own work, and owns the failure
tail both jobs share: release the lease, and mark the request failed only after the
last attempt (before that the exception goes up and the task retries).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from privacy.jobs import job_claim, job_give_up, job_heartbeat, job_reenqueue, job_release
from privacy.models import PrivacyRequest
from privacy.transitions import request_fail


@dataclass(frozen=True)
class JobRun:
    """The claimed request of one run, with its lease token and its time budget."""

    request_id: int
    kind: str
    token: str
    privacy_request: PrivacyRequest
    deadline: float

    def heartbeat(self, **fields: Any) -> bool:
        """Renew the lease (saving ``fields`` with it); False when the lease is lost."""
        return job_heartbeat(request_id=self.request_id, token=self.token, **fields)

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline

    def pause(self) -> str:
        """Let go of the request and continue in a new task (returns ``"more"``)."""
        job_release(request_id=self.request_id, token=self.token)
        job_reenqueue(request_id=self.request_id, kind=self.kind)
        return "more"


def job_run(
    *,
    request_id: int,
    kind: str,
    error_code: str,
    budget: float | None,
    work: Callable[[JobRun], str],
) -> str:
    """Run ``work`` on the claimed request; returns its outcome, "skipped" when the
    request can't be claimed, or "error" when the last attempt failed with
    ``error_code`` recorded on the request."""
    token = job_claim(request_id=request_id, kind=kind)
    if token is None:
        return "skipped"
    privacy_request = PrivacyRequest.objects.get(pk=request_id)
    run = JobRun(
        request_id=request_id,
        kind=kind,
        token=token,
        privacy_request=privacy_request,
        deadline=time.monotonic() + (budget if budget is not None else float("inf")),
    )
    try:
        return work(run)
    except Exception:
        if job_give_up(request_id=request_id, token=token):
            request_fail(privacy_request=privacy_request, error_code=error_code)
            return "error"
        raise
