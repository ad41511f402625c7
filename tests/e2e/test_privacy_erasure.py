"""An erasure survives its worker being killed mid-way (P13, P18).

A real ``celery worker`` process runs the erasure from the broker; it is killed with
SIGKILL (with its pool child) in the middle of the chunked job. A second worker is
started, the beat task ``privacy.jobs_due`` finds the job whose lease expired and
re-enqueues it, and the erasure finishes: nothing of the user is left in any
registered model or in the storage, and the step log counts every row exactly once.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import User
from chat.models import Message
from media.models import MediaFile
from privacy.erasure import erasure_leftovers
from privacy.lifecycle import request_create
from privacy.models import ErasureStep, PrivacyRequest, RequestStatus
from tests.e2e.conftest import BIN, ROOT
from tests.factories.chat import make_direct, make_user
from tests.factories.privacy import storage_keys

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


def _wait(predicate: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
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


def _send_beat(env: dict[str, str]) -> None:
    """Send ``privacy.jobs_due`` through the broker as celery beat would, from a fresh
    process (this test process builds the history with tasks run inline)."""
    subprocess.run(
        [
            str(BIN / "python"),
            "-c",
            "import django; django.setup(); "
            "from privacy.tasks import jobs_due_task; jobs_due_task.delay()",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "meetnow.settings"},
        check=True,
        timeout=60,
    )


def _stored_file(owner: User) -> MediaFile:
    """A ready file with an original and two derivatives in storage (built without the
    media worker: this process sends nothing through the broker)."""
    media_file = MediaFile(
        owner=owner,
        purpose="chat",
        kind="image",
        status="ready",
        sniffed_type="image/jpeg",
        size=3000,
    )
    variants = {}
    for variant in ("original", "1024", "256"):
        key = default_storage.save(
            f"f/{media_file.storage_prefix}/{variant}.jpg", ContentFile(b"\xff\xd8" + b"x" * 1000)
        )
        variants[variant] = {"key": key, "content_type": "image/jpeg", "size": 1002}
    media_file.variants = variants
    media_file.attached_at = timezone.now()
    media_file.save()
    return media_file


def test_erasure_finishes_after_its_worker_is_killed(
    privacy_env: dict[str, str], tmp_path: Path
) -> None:
    me = make_user("leaving")
    friend = make_user("staying")
    direct = make_direct(me, friend)
    Message.objects.bulk_create(
        Message(conversation=direct, sender=me, kind="text", text=f"secret {i}")
        for i in range(MESSAGES)
    )
    # Rows, not chat's send: no push task goes through the broker from this process.
    theirs = Message.objects.create(
        conversation=direct, sender=friend, kind="text", text="mine to keep"
    )
    files = [_stored_file(me) for _ in range(FILES)]
    keys = [k for f in files for k in storage_keys(f)]
    assert keys
    uid = me.pk

    privacy_request = request_create(user=me, kind="erasure", identity_confirmed=True)
    PrivacyRequest.objects.filter(pk=privacy_request.pk).update(
        scheduled_for=timezone.now() - dt.timedelta(seconds=1)
    )
    first_log = tmp_path / "worker-1.log"
    first = _start_worker(privacy_env, first_log)
    try:
        _send_beat(privacy_env)  # starts the due erasure on the worker
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
        _send_beat(privacy_env)  # finds the job whose lease expired and re-enqueues it
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
