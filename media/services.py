"""Writes for uploaded files: upload, process, sign, attach, delete, take down, sweep.

Policy ids: P10 (uploads are optional), P11 (no file is reachable without a
permission check), P12 (private storage, signed short-lived URLs, metadata removed),
P18 (nothing identifying in storage keys or logs).

Storage layout: ``f/<storage_prefix>/upload`` (the raw upload, deleted once
processed) and ``f/<storage_prefix>/<variant>.<ext>`` (re-encoded copies).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from storages.backends.s3 import S3Storage

from media import signing
from media.models import Kind, MediaFile, Purpose, RejectReason, Status, Variant
from media.processing import Processed, Rejected, amr, av, images
from media.processing.sniff import sniff
from media.selectors import media_quota_used
from meetnow.lib.errors import ApplicationError
from meetnow.lib.outbox import task_send

logger = logging.getLogger(__name__)

ROOT = "f"
MAX_ATTEMPTS = 3
MAX_URL_TTL = 7 * 24 * 3600  # the longest SigV4 allows
# Markup or scripts inside a photo or recording: a polyglot meant for a browser.
_SCRIPT = re.compile(rb"(?i)<\?php|<script|<html|<iframe|<!doctype html")
_SCAN_OVERLAP = 32


# --- Limits -------------------------------------------------------------------------


def max_bytes(kind: str) -> int:
    limits: dict[Kind, int] = {
        Kind.IMAGE: settings.MEETNOW_MEDIA_IMAGE_MAX_BYTES,
        Kind.AUDIO: settings.MEETNOW_MEDIA_AUDIO_MAX_BYTES,
        Kind.VIDEO: settings.MEETNOW_MEDIA_VIDEO_MAX_BYTES,
    }
    return limits[Kind(kind)]


def max_upload_bytes() -> int:
    """The largest upload any purpose accepts (the request is refused above it)."""
    return max(max_bytes(kind) for kind in Kind.values)


def _processing_timeout() -> float:
    return max(5.0, float(settings.MEETNOW_MEDIA_TASK_SOFT_TIME_LIMIT) / 3)


def _is_s3() -> bool:
    return isinstance(default_storage, S3Storage)


# --- Upload -------------------------------------------------------------------------


def media_file_upload(*, owner: Any, purpose: str, upload: File[Any]) -> MediaFile:
    """Store an upload as ``pending`` and queue its processing after commit (P10, P12).

    Checks only what is cheap and certain: the purpose, a non-empty file, the type
    sniffed from its bytes (not its name or the client's claim) against the
    purpose's allow-list, the size limit of its kind and the owner's quota. The
    decoders run in the worker (``media_file_process``).
    """
    if purpose not in Purpose.values:
        raise ApplicationError("invalid_purpose", _("Unknown purpose."), param="purpose")
    size = upload.size or 0
    if size == 0:
        raise ApplicationError("empty_file", _("The file is empty."), param="file")
    sniffed = sniff(upload.file if hasattr(upload, "file") and upload.file else upload)
    if sniffed is None:
        raise ApplicationError(
            "unsupported_type", _("This type of file is not accepted."), param="file"
        )
    allowed = settings.MEETNOW_MEDIA_PURPOSE_KINDS[purpose]
    kind = next((k for k in sniffed.kinds if k in allowed), None)
    if kind is None:
        raise ApplicationError(
            "type_not_allowed", _("This type of file is not accepted here."), param="file"
        )
    if size > max_bytes(kind):
        raise ApplicationError(
            "file_too_large", _("The file is too large."), param="file", status_code=413
        )
    _check_quota(owner=owner, size=size)

    media_file = MediaFile(
        owner=owner, purpose=purpose, kind=kind, sniffed_type=sniffed.mime, size=size
    )
    upload.seek(0)
    # Stored before the row is written: a failure between the two leaves an orphan
    # object, which the sweep removes, never a row pointing at nothing.
    key = default_storage.save(f"{ROOT}/{media_file.storage_prefix}/upload", upload)
    try:
        with transaction.atomic():
            # One upload at a time per user past this point, so two parallel requests
            # can't both squeeze under the quota.
            list(get_user_model().objects.select_for_update().filter(pk=owner.pk).values("pk"))
            _check_quota(owner=owner, size=size)
            media_file.upload_key = key
            media_file.save()
            transaction.on_commit(lambda: _enqueue_processing(media_file.pk))
    except BaseException:
        default_storage.delete(key)
        raise
    return media_file


def _check_quota(*, owner: Any, size: int) -> None:
    if media_quota_used(user=owner) + size > settings.MEETNOW_MEDIA_QUOTA_BYTES:
        raise ApplicationError(
            "quota_exceeded",
            _("Your storage space is full; delete some files first."),
            param="file",
            status_code=403,
        )


def _enqueue_processing(media_file_id: int) -> None:
    from media.tasks import media_file_process_task

    task_send(media_file_process_task, media_file_id)


# --- Processing ---------------------------------------------------------------------


def media_file_process(*, media_file_id: int) -> MediaFile | None:
    """Turn a pending upload into re-encoded copies, or reject it with a reason (P12).

    Idempotent and safe under redelivery (``acks_late``): the work is claimed with a
    conditional update, so a second delivery of the same task, or a task for a file
    already ready, rejected, removed or deleted, does nothing and returns None. A
    claim older than the hard time limit (a worker killed mid-way) may be taken
    again; after ``MAX_ATTEMPTS`` the file is rejected rather than retried forever.
    Hostile input ends as ``rejected`` with a reason code, never as a crash.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.MEETNOW_MEDIA_TASK_SOFT_TIME_LIMIT + 60)
    claimed = (
        MediaFile.objects.filter(pk=media_file_id, status=Status.PENDING)
        .filter(Q(processing_started_at__isnull=True) | Q(processing_started_at__lt=stale))
        .update(processing_started_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    media_file = MediaFile.objects.get(pk=media_file_id)
    if media_file.attempts > MAX_ATTEMPTS:
        return _reject(media_file, RejectReason.PROCESSING_FAILED, claim=now)
    _delete_leftovers(media_file)
    try:
        with _download(media_file.upload_key) as local:
            processed = _run_pipeline(media_file, local)
    except Rejected as verdict:
        return _reject(media_file, verdict.reason, claim=now)
    except SoftTimeLimitExceeded:
        return _reject(media_file, RejectReason.PROCESSING_TIMEOUT, claim=now)
    except StorageError:
        # Transient: give the claim back so the task's retry can take it.
        MediaFile.objects.filter(pk=media_file.pk, processing_started_at=now).update(
            processing_started_at=None
        )
        raise
    except Exception:
        logger.exception("media %s: processing failed", media_file.uuid)
        return _reject(media_file, RejectReason.PROCESSING_FAILED, claim=now)
    return _store_ready(media_file, processed, claim=now)


class StorageError(Exception):
    """Reading or writing the storage backend failed (retried by the task)."""


class _download:  # a context manager used like a function
    """The raw upload copied to a local temp file, scanned for scripts on the way."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.file: IO[bytes] | None = None

    def __enter__(self) -> Path:
        handle = tempfile.NamedTemporaryFile(prefix="meetnow-media-", delete=False)
        self.file = handle
        try:
            source = default_storage.open(self.key, "rb")
        except Exception as exc:
            raise StorageError from exc
        tail = b""
        script = False
        with source:
            for chunk in source.chunks(1024 * 1024):
                window = tail + chunk
                script = script or _SCRIPT.search(window) is not None
                tail = window[-_SCAN_OVERLAP:]
                handle.write(chunk)
        handle.close()
        if script:
            os.unlink(handle.name)
            raise Rejected(RejectReason.EMBEDDED_SCRIPT)
        return Path(handle.name)

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.file.name)


def _run_pipeline(media_file: MediaFile, local: Path) -> Processed:
    from media.processing.sniff import ALLOWED

    sniffed = ALLOWED.get(media_file.sniffed_type)
    if sniffed is None:
        raise Rejected(RejectReason.UNDECODABLE, "type no longer accepted")
    timeout = _processing_timeout()
    if media_file.kind == Kind.IMAGE:
        with local.open("rb") as handle:
            return images.process_image(
                handle,
                max_pixels=settings.MEETNOW_MEDIA_IMAGE_MAX_PIXELS,
                max_side=settings.MEETNOW_MEDIA_IMAGE_MAX_SIDE,
                formats=(sniffed.container,),
            )
    if sniffed.container == "amr":
        processed = amr.process_amr(local.read_bytes())
    elif media_file.kind == Kind.VIDEO:
        video = av.process_video(
            local,
            demuxer=sniffed.container,
            max_seconds=settings.MEETNOW_MEDIA_VIDEO_MAX_SECONDS,
            timeout=timeout,
        )
        if video is not None:
            processed, poster = video
            processed.variants.update(
                images.process_poster(
                    poster,
                    max_pixels=settings.MEETNOW_MEDIA_IMAGE_MAX_PIXELS,
                    max_side=settings.MEETNOW_MEDIA_IMAGE_MAX_SIDE,
                )
            )
            return processed
        # An MP4/WebM with sound only: a voice message, if the purpose takes audio.
        if Kind.AUDIO not in settings.MEETNOW_MEDIA_PURPOSE_KINDS[media_file.purpose]:
            raise Rejected(RejectReason.NO_STREAM, "no video stream")
        if media_file.size > max_bytes(Kind.AUDIO):
            raise Rejected(RejectReason.TOO_LARGE)
        processed = av.process_audio(
            local,
            demuxer=sniffed.container,
            max_seconds=settings.MEETNOW_MEDIA_AUDIO_MAX_SECONDS,
            timeout=timeout,
        )
    else:
        processed = av.process_audio(
            local,
            demuxer=sniffed.container,
            max_seconds=settings.MEETNOW_MEDIA_AUDIO_MAX_SECONDS,
            timeout=timeout,
        )
    if (
        processed.duration_ms is not None
        and processed.duration_ms > settings.MEETNOW_MEDIA_AUDIO_MAX_SECONDS * 1000 + 50
    ):
        raise Rejected(RejectReason.TOO_LONG)
    return processed


def _store_ready(media_file: MediaFile, processed: Processed, *, claim: datetime) -> MediaFile:
    variants: dict[str, dict[str, Any]] = {}
    try:
        for name, output in processed.variants.items():
            key = default_storage.save(
                f"{ROOT}/{media_file.storage_prefix}/{name}.{output.extension}",
                ContentFile(output.data),
            )
            variants[name] = {
                "key": key,
                "content_type": output.content_type,
                "size": len(output.data),
            }
    except Exception as exc:
        _delete_keys([v["key"] for v in variants.values()])
        MediaFile.objects.filter(pk=media_file.pk, processing_started_at=claim).update(
            processing_started_at=None
        )
        raise StorageError from exc
    updated = MediaFile.objects.filter(
        pk=media_file.pk, status=Status.PENDING, processing_started_at=claim
    ).update(
        status=Status.READY,
        kind=processed.kind,
        variants=variants,
        size=sum(v["size"] for v in variants.values()),
        width=processed.width,
        height=processed.height,
        duration_ms=processed.duration_ms,
        upload_key="",
        processed_at=timezone.now(),
    )
    if not updated:  # deleted or taken down while we worked: keep nothing
        _delete_keys([v["key"] for v in variants.values()])
        return media_file
    # The raw upload still carries the location data and whatever else was in it.
    _delete_keys([media_file.upload_key])
    media_file.refresh_from_db()
    return media_file


def _reject(media_file: MediaFile, reason: str, *, claim: datetime) -> MediaFile:
    updated = MediaFile.objects.filter(
        pk=media_file.pk, status=Status.PENDING, processing_started_at=claim
    ).update(
        status=Status.REJECTED,
        reject_reason=reason,
        size=0,
        variants={},
        upload_key="",
        processed_at=timezone.now(),
    )
    if updated:
        logger.info("media %s rejected: %s", media_file.uuid, reason)
        _delete_prefix(media_file.storage_prefix)  # hostile input is never kept
    media_file.refresh_from_db()
    return media_file


def _delete_leftovers(media_file: MediaFile) -> None:
    """Copies left by an attempt that died half-way (file_overwrite=False renames)."""
    try:
        _dirs, files = default_storage.listdir(f"{ROOT}/{media_file.storage_prefix}")
    except (FileNotFoundError, NotImplementedError):
        return
    prefix = f"{ROOT}/{media_file.storage_prefix}"
    _delete_keys(
        [f"{prefix}/{name}" for name in files if f"{prefix}/{name}" != media_file.upload_key]
    )


# --- Signed URLs ------------------------------------------------------------------


def media_file_signed_url(
    *, media_file: MediaFile, variant: str = Variant.ORIGINAL, ttl: int | None = None
) -> str:
    """A short-lived URL to one re-encoded copy of a ready file (P11, P12).

    Media only signs: the caller (chat for attachments, accounts for profiles, the
    file's uploader through ``GET /api/v1/media/{uuid}``) has checked that the
    viewer may see this file. ``ttl`` defaults to ``MEETNOW_SIGNED_URL_TTL`` (300 s);
    pass ``settings.MEETNOW_MEDIA_PROFILE_URL_TTL`` for public profile media. S3
    mode returns a SigV4 presigned GET; local mode a path to ``media-download``
    (relative to the API host) carrying an HMAC token.
    """
    if media_file.status != Status.READY:
        raise ApplicationError(
            "media_not_ready", _("This file can't be shown."), param="media", status_code=409
        )
    entry = media_file.variants.get(str(variant))
    if entry is None:
        raise ApplicationError(
            "variant_not_found", _("This file has no such copy."), param="variant", status_code=404
        )
    ttl = min(max(1, ttl or settings.MEETNOW_MEDIA_URL_TTL), MAX_URL_TTL)
    if _is_s3():
        now = int(time.time())
        filename = f"{media_file.uuid}.{entry['key'].rsplit('.', 1)[-1]}"
        return str(
            default_storage.url(  # type: ignore[call-arg]
                entry["key"],
                parameters={
                    "ResponseContentDisposition": f'inline; filename="{filename}"',
                    "ResponseContentType": entry["content_type"],
                    # The URL dies ``ttl`` seconds after its X-Amz-Date (whole seconds,
                    # read after ``now``): a cache may keep the file until then, not later.
                    "ResponseCacheControl": "private",
                    "ResponseExpires": datetime.fromtimestamp(now + ttl, tz=UTC),
                },
                expire=ttl,
            )
        )
    from django.urls import reverse

    token = signing.sign(media_uuid=media_file.uuid, variant=str(variant), ttl=ttl)
    return reverse("media-download", kwargs={"token": token})


def media_file_signed_urls(*, media_file: MediaFile, ttl: int | None = None) -> dict[str, str]:
    """Signed URLs of every copy of a ready file (see ``media_file_signed_url``)."""
    if media_file.status != Status.READY:
        return {}
    return {
        name: media_file_signed_url(media_file=media_file, variant=name, ttl=ttl)
        for name in media_file.variants
    }


_TOKEN_MARK = "0tokenmark0"  # noqa: S105 (a place holder in a URL, no secret)


def media_signed_urls(
    *, files: list[tuple[uuid.UUID, dict[str, Any]]], ttl: int | None = None
) -> list[dict[str, str]]:
    """``media_file_signed_urls`` of many ready files at once, from their ``uuid`` and
    ``variants`` alone (a page of a list read as rows, no model instances): the
    same URLs, one dict per file in order. The caller has checked that each file is
    ready and that the viewer may see it (P11, P12)."""
    if _is_s3():
        return [
            media_file_signed_urls(
                media_file=MediaFile(uuid=media_uuid, status=Status.READY, variants=variants),
                ttl=ttl,
            )
            for media_uuid, variants in files
        ]
    from django.urls import reverse

    # The URL resolver once per page, not once per copy: a token is URL-safe
    # (base64 and ':'), so it goes into the path as it is, as ``reverse`` would put it.
    head, tail = reverse("media-download", kwargs={"token": _TOKEN_MARK}).split(_TOKEN_MARK)
    seconds = min(max(1, ttl or settings.MEETNOW_MEDIA_URL_TTL), MAX_URL_TTL)
    return [
        {
            name: head + signing.sign(media_uuid=media_uuid, variant=name, ttl=seconds) + tail
            for name in variants
        }
        for media_uuid, variants in files
    ]


# --- Attach -------------------------------------------------------------------------


def media_file_attach(
    *, owner: Any, media_uuid: uuid.UUID | str, purposes: tuple[str, ...]
) -> MediaFile:
    """Mark an upload of ``owner`` as used by a message or profile, so it is kept.

    For chat (``purposes=("chat",)``) and accounts (``("avatar",)``,
    ``("voice_intro",)``). Files never attached are swept 24 h after upload.
    Another user's file, an unknown id, a wrong purpose, a rejected or removed file
    all raise ``media_not_found`` (400, ``param="media"``), so ids can't be probed.
    A pending file may be attached; it shows once processed.
    """
    try:
        parsed = media_uuid if isinstance(media_uuid, uuid.UUID) else uuid.UUID(str(media_uuid))
    except ValueError:
        parsed = None
    media_file = (
        MediaFile.objects.filter(
            uuid=parsed,
            owner_id=owner.pk,
            purpose__in=purposes,
            status__in=[Status.PENDING, Status.READY],
        ).first()
        if parsed
        else None
    )
    if media_file is None:
        raise ApplicationError("media_not_found", _("No such file."), param="media")
    if media_file.attached_at is None:
        media_file.attached_at = timezone.now()
        media_file.save(update_fields=["attached_at"])
    return media_file


def media_file_detach(*, media_file: MediaFile) -> MediaFile:
    """The file is no longer used (e.g. a replaced avatar); the sweep may collect it."""
    media_file.attached_at = None
    media_file.save(update_fields=["attached_at"])
    return media_file


# --- Deletion -----------------------------------------------------------------------


def media_file_delete(*, media_file: MediaFile) -> None:
    """Delete a file: its row now, the raw upload and every copy from storage on commit.

    Storage goes after the commit so a rolled-back deletion never leaves a row
    pointing at nothing; if the storage call fails, the orphan sweep finishes it.
    Signed URLs stop working: local tokens look the row up, S3 objects are gone.
    """
    prefix = media_file.storage_prefix
    with transaction.atomic():
        MediaFile.objects.filter(pk=media_file.pk).delete()
        transaction.on_commit(lambda: _delete_prefix(prefix))


def media_file_delete_unattached(*, media_file: MediaFile) -> None:
    """The uploader withdraws an upload nothing uses yet (P13); refuses once attached.

    An attached file belongs to the message or profile using it: chat and accounts
    delete it through their own flows (``media_file_delete``).
    """
    if media_file.attached_at is not None:
        raise ApplicationError(
            "media_in_use", _("This file is in use; delete the message instead."), status_code=409
        )
    media_file_delete(media_file=media_file)


def media_files_delete_for_user(*, user: Any, limit: int | None = None) -> int:
    """Delete a user's files (rows, originals, every derivative); returns how many.

    For erasure (P13, P18): call repeatedly with a ``limit`` to work in chunks
    until it returns 0. Storage is cleared after each chunk's transaction commits.
    """
    queryset = MediaFile.objects.filter(owner_id=user.pk).order_by("id")
    files = list(queryset[:limit] if limit else queryset)
    with transaction.atomic():
        for media_file in files:
            media_file_delete(media_file=media_file)
    return len(files)


class StorageNotEmptyError(Exception):
    """Objects were still listed under a file's prefix after deleting them."""


def media_file_storage_purge(*, media_file: MediaFile) -> int:
    """Delete a file's objects from storage now and verify nothing is left (P13, P18).

    For erasure, which must prove the storage is empty before the row goes: deletes
    the raw upload, every copy and any leftover under the file's prefix, lists the
    prefix again and raises ``StorageNotEmptyError`` if anything remains. Returns
    the number of objects deleted. The row is untouched; delete it afterwards
    (``media_file_delete`` then finds nothing left to remove).
    """
    deleted = _delete_prefix(media_file.storage_prefix)
    deleted += _delete_keys(
        [
            key
            for key in [
                media_file.upload_key,
                *(v.get("key", "") for v in media_file.variants.values()),
            ]
            if key and default_storage.exists(key)
        ]
    )
    try:
        _dirs, left = default_storage.listdir(f"{ROOT}/{media_file.storage_prefix}")
    except FileNotFoundError:
        left = []
    if left:
        raise StorageNotEmptyError(f"{len(left)} objects left")
    return deleted


def media_file_take_down(*, media_file: MediaFile, moderator: Any) -> MediaFile:
    """A moderator removes a file: storage emptied, the row kept as ``removed_by_moderator``.

    Chat shows such an attachment as "removed by moderator" (P8, P12).
    """
    prefix = media_file.storage_prefix
    with transaction.atomic():
        MediaFile.objects.filter(pk=media_file.pk).update(
            status=Status.REMOVED_BY_MODERATOR,
            variants={},
            upload_key="",
            size=0,
            removed_at=timezone.now(),
        )
        transaction.on_commit(lambda: _delete_prefix(prefix))
    logger.info("media %s taken down by staff %s", media_file.uuid, moderator.pk)
    media_file.refresh_from_db()
    return media_file


# --- Sweeps -------------------------------------------------------------------------


def media_sweep_unattached(*, now: datetime | None = None) -> int:
    """Delete files never attached to anything 24 h after their upload; returns the count."""
    cutoff = (now or timezone.now()) - settings.MEETNOW_MEDIA_UNATTACHED_TTL
    stale = MediaFile.objects.filter(attached_at__isnull=True, created_at__lt=cutoff)
    count = 0
    for media_file in stale.order_by("id").iterator(chunk_size=200):
        media_file_delete(media_file=media_file)
        count += 1
    return count


def media_sweep_orphans(*, now: datetime | None = None, min_age: timedelta | None = None) -> int:
    """Delete storage objects no row points to; returns how many objects went.

    Objects younger than ``min_age`` (1 h) are left alone: an upload in flight is
    stored a moment before its row commits.
    """
    now = now or timezone.now()
    min_age = timedelta(hours=1) if min_age is None else min_age
    try:
        prefixes, loose = default_storage.listdir(ROOT)
    except FileNotFoundError:
        return 0
    removed = 0
    for start in range(0, len(prefixes), 500):
        chunk = prefixes[start : start + 500]
        known = set(
            MediaFile.objects.filter(storage_prefix__in=chunk).values_list(
                "storage_prefix", flat=True
            )
        )
        for prefix in chunk:
            if prefix in known:
                continue
            _dirs, files = default_storage.listdir(f"{ROOT}/{prefix}")
            keys = [f"{ROOT}/{prefix}/{name}" for name in files]
            if any(now - default_storage.get_modified_time(key) < min_age for key in keys):
                continue
            removed += _delete_keys(keys)
            _remove_empty_dir(f"{ROOT}/{prefix}")
    for name in loose:
        key = f"{ROOT}/{name}"
        if now - default_storage.get_modified_time(key) >= min_age:
            removed += _delete_keys([key])
    return removed


def media_requeue_stuck(*, now: datetime | None = None) -> int:
    """Queue again the files still pending 10 minutes after upload with no live claim.

    A task message can be lost (a killed worker on the embedded broker, a broker
    restart); processing is idempotent, so sending it again is always safe.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.MEETNOW_MEDIA_TASK_SOFT_TIME_LIMIT + 60)
    ids = list(
        MediaFile.objects.filter(status=Status.PENDING, created_at__lt=now - timedelta(minutes=10))
        .filter(Q(processing_started_at__isnull=True) | Q(processing_started_at__lt=stale))
        .order_by("id")
        .values_list("id", flat=True)[:1000]
    )
    for media_file_id in ids:
        transaction.on_commit(functools.partial(_enqueue_processing, media_file_id))
    return len(ids)


def media_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The scheduled sweep: stuck uploads, unattached files, orphaned objects; counts."""
    counts = {
        "requeued_pending": media_requeue_stuck(now=now),
        "unattached_files": media_sweep_unattached(now=now),
        "orphan_objects": media_sweep_orphans(now=now),
    }
    logger.info("media sweep: %s", counts)
    return counts


# --- Storage helpers ----------------------------------------------------------------


def _delete_keys(keys: list[str]) -> int:
    deleted = 0
    for key in keys:
        if key:
            default_storage.delete(key)
            deleted += 1
    return deleted


def _delete_prefix(prefix: str) -> int:
    """Delete every object under a file's prefix (upload, copies, leftovers)."""
    try:
        _dirs, files = default_storage.listdir(f"{ROOT}/{prefix}")
    except FileNotFoundError:
        return 0
    deleted = _delete_keys([f"{ROOT}/{prefix}/{name}" for name in files])
    _remove_empty_dir(f"{ROOT}/{prefix}")
    return deleted


def _remove_empty_dir(name: str) -> None:
    """Local storage keeps empty folders; S3 has none."""
    try:
        path = default_storage.path(name)
    except NotImplementedError:
        return
    with contextlib.suppress(OSError):
        os.rmdir(path)


def media_files_storage_purge_for_owner(*, owner_id: int, limit: int) -> list[int]:
    """For erasure, outside a transaction: purge the storage of up to ``limit`` of the
    owner's files (upload, original, every derivative; verified empty, else
    ``StorageNotEmptyError``) and return their ids for :func:`media_files_rows_delete`."""
    files = list(
        MediaFile.objects.filter(owner_id=owner_id)
        .only("pk", "storage_prefix", "upload_key", "variants")
        .order_by("pk")[:limit]
    )
    for media_file in files:
        media_file_storage_purge(media_file=media_file)
    return [media_file.pk for media_file in files]


def media_files_rows_delete(*, owner_id: int, ids: list[int]) -> int:
    """Delete the rows of files whose storage was purged and verified empty (erasure):
    unlike :func:`media_file_delete`, nothing is left to remove after commit."""
    if not ids:
        return 0
    deleted, _ = MediaFile.objects.filter(pk__in=ids, owner_id=owner_id).delete()
    return min(deleted, len(ids))
