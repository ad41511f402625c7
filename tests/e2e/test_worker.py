"""A real Celery worker process runs what the app enqueues through the configured broker."""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta

from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from meetnow.tasks import sessions_clear_expired_task


def test_worker_runs_a_task_sent_through_the_broker(celery_worker: subprocess.Popen[bytes]) -> None:
    expired = SessionStore()
    expired.create()
    live = SessionStore()
    live.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )

    sessions_clear_expired_task.delay()

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not Session.objects.filter(session_key=expired.session_key).exists():
            break
        time.sleep(0.2)
    assert not Session.objects.filter(session_key=expired.session_key).exists()
    assert Session.objects.filter(session_key=live.session_key).exists()
