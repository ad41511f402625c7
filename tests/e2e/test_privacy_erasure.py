"""An erasure survives its worker being killed mid-way (P13, P18).

A real ``celery worker`` process runs the erasure from the broker; it is killed with
SIGKILL (with its pool child) in the middle of the chunked job. A second worker is
started, the beat task ``privacy.jobs_due`` finds the job whose lease expired and
re-enqueues it, and the erasure finishes: nothing of the user is left in any
registered model or in the storage, and the step log counts every row exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import User
from chat.models import Message
from privacy.erasure import erasure_leftovers
from privacy.lifecycle import erasures_start_due, request_create
from privacy.models import ErasureStep, PrivacyRequest, RequestStatus
from privacy.tasks import jobs_due_task
from tests.e2e.conftest import BIN, ROOT
from tests.factories.chat import make_direct, make_user, send
from tests.factories.privacy import ready_file, storage_keys

MESSAGES = 3000
FILES = 6


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    proc = subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "meetnow",
            "worker",
            "-Q",
            ",".join(settings.CELERY_QUEUES_ALL),
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
            "--hostname",
            f"e2e-privacy-{os.getpid()}-{time.monotonic_ns()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGKILL reaches the pool child too
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if b"ready." in log.read_bytes():
            return proc
        if proc.poll() is not None:
            pytest.fail("worker exited: " + log.read_text()[-2000:])
        time.sleep(0.1)
    _kill(proc)
    pytest.fail("worker not ready in 30 s: " + log.read_text()[-2000:])


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture
def privacy_env(e2e_env: dict[str, str]) -> dict[str, str]:
    env = dict(e2e_env)
    env["MEETNOW_PRIVACY_CHUNK_SIZE"] = "10"
    env["MEETNOW_PRIVACY_LEASE_SECONDS"] = "3"
    env["MEETNOW_PRIVACY_TASK_BUDGET_SECONDS"] = "1"
    return env


def _wait(predicate, timeout: float, step: float = 0.02) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def _tombstoned(request_id: int) -> int:
    step = ErasureStep.objects.filter(
        request_id=request_id, model="chat.Message", action="tombstone"
    ).first()
    return step.count if step is not None else 0


def test_erasure_finishes_after_its_worker_is_killed(privacy_env, tmp_path) -> None:
    me = make_user("leaving")
    friend = make_user("staying")
    direct = make_direct(me, friend)
    Message.objects.bulk_create(
        Message(conversation=direct, sender=me, kind="text", text=f"secret {i}")
        for i in range(MESSAGES)
    )
    theirs = send(friend, direct, "mine to keep")
    files = [ready_file(me) for _ in range(FILES)]
    keys = [k for f in files for k in storage_keys(f)]
    assert keys
    uid = me.pk

    privacy_request = request_create(user=me, kind="erasure", identity_confirmed=True)
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(
        scheduled_for=timezone.now() - timezone.timedelta(seconds=1)
    )
    first_log = tmp_path / "worker-1.log"
    first = _start_worker(privacy_env, first_log)
    try:
        assert erasures_start_due() == [privacy_request.pk]  # enqueued through the broker
        progressed = _wait(lambda: _tombstoned(privacy_request.pk) > 0, timeout=60)
        assert progressed, first_log.read_text()[-3000:]
    finally:
        _kill(first)
    done_before = _tombstoned(privacy_request.pk)
    privacy_request.refresh_from_db()
    assert privacy_request.status == RequestStatus.IN_PROCESSING
    assert done_before < MESSAGES, "the worker finished before it could be killed"
    assert User.objects.filter(pk=uid).exists()

    second_log = tmp_path / "worker-2.log"
    second = _start_worker(privacy_env, second_log)
    try:
        time.sleep(3.5)  # the dead worker's lease (3 s in this test) expires
        jobs_due_task.delay()  # what beat sends every five minutes
        finished = _wait(
            lambda: (
                PrivacyRequest.objects.get(pk=privacy_request.pk).status == RequestStatus.COMPLETE
            ),
            timeout=120,
            step=0.2,
        )
        assert finished, second_log.read_text()[-3000:]
    finally:
        _kill(second)

    assert erasure_leftovers(user_id=uid) == {}
    assert not User.objects.filter(pk=uid).exists()
    assert [k for k in keys if default_storage.exists(k)] == []
    counts = {
        (s.model, s.action): s.count
        for s in ErasureStep.objects.filter(request_id=privacy_request.pk)
    }
    assert counts[("chat.Message", "tombstone")] == MESSAGES  # each exactly once
    assert counts[("media.MediaFile", "delete")] == FILES
    assert counts[("accounts.User", "delete")] == 1
    theirs.refresh_from_db()
    assert theirs.sender_id == friend.pk
    assert theirs.text == "mine to keep"
    assert not Message.objects.filter(sender_id=uid).exists()
    assert Message.objects.filter(conversation=direct, sender__isnull=True).count() == MESSAGES
