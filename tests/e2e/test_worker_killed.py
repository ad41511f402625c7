"""A worker killed mid-thumbnail and mid-export: the job finishes once, after a restart
(issue 13, "Services that go down"; the erasure has its own, test_privacy_erasure.py).

A real ``celery worker`` takes the job from the broker and is killed with SIGKILL (its
pool child too) while the job is claimed and half done. A second worker is started and
the job is found again the way production finds it: the beat task that re-sends what a
dead worker held (``media.sweep`` for uploads, ``privacy.jobs_due`` for exports). The job
then finishes exactly once: one set of copies, one archive with every row once.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from chat.models import Message
from media.models import MediaFile
from media.services import ROOT
from privacy.export import PREFIX
from privacy.lifecycle import request_create
from privacy.models import PrivacyRequest, PrivacyRequestEvent, RequestStatus
from tests.e2e.conftest import BIN
from tests.e2e.conftest import ROOT as REPO
from tests.e2e.test_privacy_erasure import _kill, _start_worker, _wait
from tests.factories.chat import make_direct, make_user
from tests.factories.media import MediaFileFactory, photo

MESSAGES = 1000


def _beat(env: dict[str, str], task: str) -> None:
    """Send ``task`` through the broker as celery beat would, from a fresh process."""
    subprocess.run(
        [
            str(BIN / "python"),
            "-c",
            "import django; django.setup(); "
            f"from celery import current_app; current_app.send_task({task!r})",
        ],
        cwd=REPO,
        env={**env, "DJANGO_SETTINGS_MODULE": "meetnow.settings"},
        check=True,
        timeout=60,
    )


def test_thumbnailing_finishes_once_after_its_worker_is_killed(
    e2e_env: dict[str, str], tmp_path: Path
) -> None:
    owner = make_user("uploader")
    first = _start_worker(e2e_env, tmp_path / "worker-1.log")
    try:
        # Large enough that decoding and scaling take a moment (the limit is 40 MP).
        media_file = MediaFileFactory.create(owner=owner, content=photo((6000, 6000)))
        claimed = _wait(
            lambda: MediaFile.objects.filter(
                pk=media_file.pk, status="pending", processing_started_at__isnull=False
            ).exists(),
            timeout=30,
            step=0.01,
        )
        assert claimed, (tmp_path / "worker-1.log").read_text()[-3000:]
    finally:
        _kill(first)
    media_file.refresh_from_db()
    assert media_file.status == "pending", "the worker finished before it could be killed"
    assert media_file.attempts == 1

    # The beat's sweep re-sends uploads still pending 10 minutes on with a claim older
    # than the task's time limit: time moves on by 11 minutes.
    later = timezone.now() - dt.timedelta(minutes=11)
    MediaFile.objects.filter(pk=media_file.pk).update(created_at=later, processing_started_at=later)
    second = _start_worker(e2e_env, tmp_path / "worker-2.log")
    try:
        _beat(e2e_env, "media.sweep")
        ready = _wait(
            lambda: MediaFile.objects.get(pk=media_file.pk).status == "ready", timeout=60, step=0.2
        )
        assert ready, (tmp_path / "worker-2.log").read_text()[-3000:]
        media_file.refresh_from_db()
        # The message the dead worker held (or a second sweep) changes nothing now.
        _beat(e2e_env, "media.sweep")
        time.sleep(1.0)
    finally:
        _kill(second)
    again = MediaFile.objects.get(pk=media_file.pk)
    assert again.attempts == 2
    assert again.processed_at == media_file.processed_at
    # One copy of each variant and nothing else: no half-written leftovers, no raw upload.
    _dirs, files = default_storage.listdir(f"{ROOT}/{media_file.storage_prefix}")
    stored = sorted(f"{ROOT}/{media_file.storage_prefix}/{name}" for name in files)
    assert stored == sorted(v["key"] for v in media_file.variants.values())
    assert media_file.upload_key == ""


@pytest.fixture
def export_env(e2e_env: dict[str, str]) -> dict[str, str]:
    env = dict(e2e_env)
    env["MEETNOW_PRIVACY_CHUNK_SIZE"] = "10"
    env["MEETNOW_PRIVACY_LEASE_SECONDS"] = "3"
    env["MEETNOW_PRIVACY_TASK_BUDGET_SECONDS"] = "1"
    return env


def test_export_finishes_once_after_its_worker_is_killed(
    export_env: dict[str, str], tmp_path: Path
) -> None:
    me = make_user("exporting")
    friend = make_user("friend")
    direct = make_direct(me, friend)
    Message.objects.bulk_create(
        Message(conversation=direct, sender=me, kind="text", text=f"line {i}")
        for i in range(MESSAGES)
    )
    first = _start_worker(export_env, tmp_path / "worker-1.log")
    try:
        # Confirmed at once: the export job goes to the broker when this commits.
        export = request_create(user=me, kind="access", identity_confirmed=True)
        progressed = _wait(
            lambda: (PrivacyRequest.objects.get(pk=export.pk).cursor or {}).get("done", 0) > 0,
            timeout=60,
        )
        assert progressed, (tmp_path / "worker-1.log").read_text()[-3000:]
    finally:
        _kill(first)
    export.refresh_from_db()
    assert export.status == RequestStatus.IN_PROCESSING
    assert export.cursor["done"] < export.cursor["total"], "finished before it could be killed"

    second = _start_worker(export_env, tmp_path / "worker-2.log")
    try:
        time.sleep(3.5)  # the dead worker's lease (3 s here) expires
        _beat(export_env, "privacy.jobs_due")  # finds the job and sends it again
        done = _wait(
            lambda: PrivacyRequest.objects.get(pk=export.pk).status == RequestStatus.COMPLETE,
            timeout=120,
            step=0.2,
        )
        assert done, (tmp_path / "worker-2.log").read_text()[-3000:]
        _beat(export_env, "privacy.jobs_due")  # a late resend changes nothing
        time.sleep(1.0)
    finally:
        _kill(second)
    export.refresh_from_db()
    assert export.status == RequestStatus.COMPLETE
    events = PrivacyRequestEvent.objects.filter(request=export)
    assert events.filter(to_status=RequestStatus.COMPLETE).count() == 1
    # One archive, the staging parts gone, and every message in it exactly once.
    _dirs, files = default_storage.listdir(f"{PREFIX}/{export.uuid}")
    assert [f"{PREFIX}/{export.uuid}/{name}" for name in files] == [export.archive_key]
    with default_storage.open(export.archive_key, "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    texts: list[str] = []
    for name in archive.namelist():
        if name.endswith(".json"):
            rows = json.loads(archive.read(name))
            texts += [r["text"] for r in rows if isinstance(r, dict) and "text" in r]
    assert sorted(texts) == sorted(f"line {i}" for i in range(MESSAGES))
