"""Uploaded files: photos, voice/audio and short videos (P10, P11, P12).

A :class:`MediaFile` row is created by the upload request with status ``pending``;
the ``media.process`` task turns it into ``ready`` (re-encoded copies stored under
``variants``) or ``rejected`` (with a reason code). Only re-encoded copies are ever
served, and only through signed URLs (``media.services.media_file_signed_url``).

Storage keys are ``f/<storage_prefix>/<name>``: a random prefix per file, never a
user id, phone, nickname or original file name.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop


class Purpose(models.TextChoices):
    AVATAR = "avatar", _("Avatar")
    VOICE_INTRO = "voice_intro", _("Voice intro")
    CHAT = "chat", _("Chat attachment")
    SUPPORT = "support", _("Support ticket")
    DATING_VOICE = "dating_voice", _("Voice post clip")
    DATING_PHOTO = "dating_photo", _("Voice post photo")


class Kind(models.TextChoices):
    IMAGE = "image", _("Image")
    AUDIO = "audio", _("Audio")
    VIDEO = "video", _("Video")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    READY = "ready", _("Ready")
    REJECTED = "rejected", _("Rejected")
    REMOVED_BY_MODERATOR = "removed_by_moderator", _("Removed by moderator")


class RejectReason(models.TextChoices):
    """Why the worker refused a file; the app shows a message per code."""

    UNDECODABLE = "undecodable", _("The file could not be decoded")
    TOO_MANY_PIXELS = "too_many_pixels", _("The image has too many pixels")
    TOO_LONG = "too_long", _("The recording is too long")
    TOO_LARGE = "too_large", _("The file is too large for its kind")
    UNSUPPORTED_CODEC = "unsupported_codec", _("The codec is not supported")
    EMBEDDED_SCRIPT = "embedded_script", _("The file carries a script or markup")
    NO_STREAM = "no_stream", _("The file has no usable audio or video stream")
    PROCESSING_TIMEOUT = "processing_timeout", _("Processing took too long")
    PROCESSING_FAILED = "processing_failed", _("Processing failed repeatedly")


class Variant(models.TextChoices):
    """The servable copies of a file; every one is produced by re-encoding or remuxing."""

    ORIGINAL = "original", _("Original (re-encoded)")
    LARGE = "1024", _("1024 px")
    SMALL = "256", _("256 px")


def new_storage_prefix() -> str:
    return secrets.token_hex(16)


class MediaFile(models.Model):
    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("uuid"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="media_files",
        verbose_name=_("owner"),
    )
    purpose = models.CharField(max_length=16, choices=Purpose.choices, verbose_name=_("purpose"))
    kind = models.CharField(max_length=8, choices=Kind.choices, verbose_name=_("kind"))
    status = models.CharField(
        max_length=24,
        choices=Status.choices,
        default=Status.PENDING,
        db_index=True,
        verbose_name=_("status"),
    )
    reject_reason = models.CharField(
        max_length=24, choices=RejectReason.choices, blank=True, verbose_name=_("reject reason")
    )
    # What the sniffer saw in the upload (not what the client claimed).
    sniffed_type = models.CharField(max_length=64, verbose_name=_("sniffed type"))
    # Bytes counted against the owner's quota: the upload while pending, the stored
    # copies once ready, 0 when rejected or removed.
    size = models.PositiveBigIntegerField(verbose_name=_("size"))
    storage_prefix = models.CharField(
        max_length=32,
        unique=True,
        default=new_storage_prefix,
        editable=False,
        verbose_name=_("storage prefix"),
    )
    upload_key = models.CharField(
        max_length=255, blank=True, verbose_name=_("upload key")
    )  # raw upload, never served
    # Variant -> {"key": ..., "content_type": ..., "size": ...} once ready.
    variants = models.JSONField(default=dict, blank=True, verbose_name=_("variants"))
    width = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("width"))
    height = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("height"))
    duration_ms = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("duration ms"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    processing_started_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("processing started at")
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed at"))
    # Set by the layer that uses the file (chat message, profile) through
    # media_file_attach; files never attached are swept after 24 h.
    attached_at = models.DateTimeField(null=True, blank=True, verbose_name=_("attached at"))
    removed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("removed at"))

    class Meta:
        verbose_name = _("media file")
        verbose_name_plural = _("media files")
        permissions = [("take_down_mediafile", gettext_noop("Can take down uploaded files"))]
        indexes = [
            models.Index(fields=["owner", "status"], name="media_owner_status"),
            models.Index(
                fields=["created_at"],
                condition=models.Q(attached_at__isnull=True),
                name="media_unattached_created",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.uuid}"

    @property
    def is_ready(self) -> bool:
        return self.status == Status.READY
