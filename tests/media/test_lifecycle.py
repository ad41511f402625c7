"""Processing once, attaching, deleting, taking down and sweeping (P12, P13)."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from media.models import MediaFile, Status
from media.selectors import media_files_for_user
from media.services import (
    media_file_attach,
    media_file_delete,
    media_file_process,
    media_file_storage_purge,
    media_file_take_down,
    media_files_delete_for_user,
    media_requeue_stuck,
    media_sweep,
    media_sweep_orphans,
    media_sweep_unattached,
)
from media.tasks import media_file_process_task
from meetnow.lib.errors import ApplicationError
from tests.factories.media import MediaFileFactory, photo
from tests.media.helpers import post_upload, stored_keys, upload_and_process

# Uploads are processed (and checks run) by the task they enqueue: run it in-process.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]


def test_redelivered_task_is_a_no_op(user: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        media_file = MediaFileFactory.create(owner=user, content=photo((320, 240)))
    assert media_file_process_task.delay(media_file.pk).get() == "ready"
    media_file.refresh_from_db()
    keys_before = sorted(stored_keys())
    processed_at = media_file.processed_at

    # The broker hands the same message out again (acks_late): nothing happens twice.
    assert media_file_process_task.delay(media_file.pk).get() is None
    assert media_file_process(media_file_id=media_file.pk) is None
    media_file.refresh_from_db()
    assert media_file.processed_at == processed_at
    assert media_file.attempts == 1
    assert sorted(stored_keys()) == keys_before
    assert media_file_process(media_file_id=10**9) is None  # deleted meanwhile: nothing to do


def test_a_claim_held_by_a_live_worker_is_not_taken_but_a_dead_ones_is(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        media_file = MediaFileFactory.create(owner=user, content=photo((64, 64)))
    MediaFile.objects.filter(pk=media_file.pk).update(processing_started_at=timezone.now())
    assert media_file_process(media_file_id=media_file.pk) is None  # another worker has it
    # That worker died long ago (past the hard time limit) and left a half-written copy.
    MediaFile.objects.filter(pk=media_file.pk).update(
        processing_started_at=timezone.now() - timedelta(hours=1)
    )
    default_storage.save(f"f/{media_file.storage_prefix}/original.jpg", ContentFile(b"half"))
    done = media_file_process(media_file_id=media_file.pk)
    assert done is not None
    assert done.status == Status.READY
    names = sorted(key.rsplit("/", 1)[1] for key in stored_keys())
    assert names == ["1024.jpg", "256.jpg", "original.jpg"]  # leftovers and raw upload gone


def test_a_file_that_keeps_killing_workers_is_rejected(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        media_file = MediaFileFactory.create(owner=user, content=photo((64, 64)))
    MediaFile.objects.filter(pk=media_file.pk).update(attempts=3)
    with django_capture_on_commit_callbacks(execute=True):
        done = media_file_process(media_file_id=media_file.pk)
    assert done is not None
    assert (done.status, done.reject_reason) == ("rejected", "processing_failed")


def test_ready_image_keeps_no_raw_upload(api: Any, django_capture_on_commit_callbacks: Any) -> None:
    media_file, _ = upload_and_process(api, django_capture_on_commit_callbacks, photo(gps=True))
    assert media_file.upload_key == ""
    assert sorted(stored_keys()) == sorted(v["key"] for v in media_file.variants.values())
    assert media_file.size == sum(v["size"] for v in media_file.variants.values())


def test_deletion_leaves_nothing_in_storage(
    api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    media_file, _ = upload_and_process(api, django_capture_on_commit_callbacks, photo())
    assert len(stored_keys()) == 3
    with django_capture_on_commit_callbacks(execute=True):
        media_file_delete(media_file=media_file)
    assert stored_keys() == []
    assert not MediaFile.objects.filter(pk=media_file.pk).exists()
    root = default_storage.path("f")
    assert not os.path.exists(root) or os.listdir(root) == []  # no empty folders either


def test_attach_only_the_owners_file_for_the_right_purpose(
    api: Any, user: Any, other_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    media_file, _ = upload_and_process(api, django_capture_on_commit_callbacks, photo())
    for owner, purposes in ((other_user, ("chat",)), (user, ("avatar",))):
        with pytest.raises(ApplicationError) as excinfo:
            media_file_attach(owner=owner, media_uuid=media_file.uuid, purposes=purposes)
        assert (excinfo.value.code, excinfo.value.param) == ("media_not_found", "media")
    with pytest.raises(ApplicationError):
        media_file_attach(owner=user, media_uuid="not-a-uuid", purposes=("chat",))
    attached = media_file_attach(owner=user, media_uuid=str(media_file.uuid), purposes=("chat",))
    assert attached.attached_at is not None


def test_sweep_removes_unattached_files_after_24_hours(
    api: Any, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    kept, _ = upload_and_process(api, django_capture_on_commit_callbacks, photo((64, 64)))
    media_file_attach(owner=user, media_uuid=kept.uuid, purposes=("chat",))
    abandoned, _ = upload_and_process(api, django_capture_on_commit_callbacks, photo((64, 64)))
    fresh, _ = upload_and_process(api, django_capture_on_commit_callbacks, photo((64, 64)))
    old = timezone.now() - timedelta(hours=25)
    MediaFile.objects.filter(pk__in=[kept.pk, abandoned.pk]).update(created_at=old)

    with django_capture_on_commit_callbacks(execute=True):
        assert media_sweep_unattached() == 1
    assert set(MediaFile.objects.values_list("pk", flat=True)) == {kept.pk, fresh.pk}
    prefixes = {key.split("/")[1] for key in stored_keys()}
    assert prefixes == {kept.storage_prefix, fresh.storage_prefix}


def test_sweep_removes_orphans_but_not_uploads_in_flight(
    api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    live, _ = upload_and_process(api, django_capture_on_commit_callbacks, photo((64, 64)))
    default_storage.save("f/deadbeef/original.jpg", ContentFile(b"orphan"))
    default_storage.save("f/deadbeef/256.jpg", ContentFile(b"orphan"))
    default_storage.save("f/stray", ContentFile(b"orphan"))
    assert media_sweep_orphans() == 0  # just written: could be an upload about to commit
    later = timezone.now() + timedelta(hours=2)
    assert media_sweep_orphans(now=later) == 3
    assert {key.split("/")[1] for key in stored_keys()} == {live.storage_prefix}
    with django_capture_on_commit_callbacks(execute=True):
        counts = media_sweep(now=timezone.now() + timedelta(hours=25))
    # (Inside this test's transaction the deleted row's objects count as orphans too.)
    assert counts["unattached_files"] == 1
    assert counts["requeued_pending"] == 0
    assert stored_keys() == []


def test_take_down_empties_storage_and_keeps_a_tombstone(
    api: Any, user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    media_file, body = upload_and_process(api, django_capture_on_commit_callbacks, photo())
    with django_capture_on_commit_callbacks(execute=True):
        media_file_take_down(media_file=media_file, moderator=user)
    assert stored_keys() == []
    media_file.refresh_from_db()
    assert media_file.status == Status.REMOVED_BY_MODERATOR
    assert Client().get(body["urls"]["original"].split("testserver")[-1]).status_code == 404
    detail = api.get(f"/api/v1/media/{media_file.uuid}").json()
    assert (detail["status"], detail["urls"]) == ("removed_by_moderator", None)


def test_delete_everything_of_a_user(
    api: Any, user: Any, other_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    for _ in range(3):
        upload_and_process(api, django_capture_on_commit_callbacks, photo((64, 64)))
    with django_capture_on_commit_callbacks(execute=False):
        post_upload(api, photo((64, 64)))  # one still pending: its raw upload must go too
    with django_capture_on_commit_callbacks(execute=False):
        theirs = MediaFileFactory.create(owner=other_user)
    assert media_files_for_user(user=user).count() == 4

    with django_capture_on_commit_callbacks(execute=True):
        assert media_files_delete_for_user(user=user, limit=3) == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert media_files_delete_for_user(user=user, limit=3) == 1
    assert media_files_delete_for_user(user=user) == 0
    assert {key.split("/")[1] for key in stored_keys()} == {theirs.storage_prefix}


def test_processing_time_is_bounded(settings: Any) -> None:
    from media.tasks import media_file_process_task as task

    assert task.soft_time_limit == settings.MEETNOW_MEDIA_TASK_SOFT_TIME_LIMIT
    assert task.time_limit is not None
    assert task.soft_time_limit is not None
    assert task.time_limit > task.soft_time_limit
    assert task.acks_late


def test_storage_purge_deletes_now_and_verifies(
    api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    media_file, _ = upload_and_process(api, django_capture_on_commit_callbacks, photo((64, 64)))
    default_storage.save(f"f/{media_file.storage_prefix}/leftover", ContentFile(b"x"))
    assert media_file_storage_purge(media_file=media_file) == 4
    assert stored_keys() == []
    assert media_file_storage_purge(media_file=media_file) == 0  # idempotent
    with django_capture_on_commit_callbacks(execute=True):
        media_file_delete(media_file=media_file)
    assert not MediaFile.objects.exists()


def test_uploads_whose_task_was_lost_are_queued_again(
    user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):  # the message never arrives
        lost = MediaFileFactory.create(owner=user, content=photo((64, 64)))
    with django_capture_on_commit_callbacks(execute=False):
        recent = MediaFileFactory.create(owner=user, content=photo((64, 64)))
    MediaFile.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert media_requeue_stuck() == 1
    assert MediaFile.objects.get(pk=lost.pk).status == Status.READY
    assert MediaFile.objects.get(pk=recent.pk).status == Status.PENDING
