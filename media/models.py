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


class Purpose(models.TextChoices):
    AVATAR = "avatar", "Avatar"
    VOICE_INTRO = "voice_intro", "Voice intro"
    CHAT = "chat", "Chat attachment"
    SUPPORT = "support", "Support ticket"
    DATING_VOICE = "dating_voice", "Voice post clip"
    DATING_PHOTO = "dating_photo", "Voice post photo"


class Kind(models.TextChoices):
    IMAGE = "image", "Image"
    AUDIO = "audio", "Audio"
    VIDEO = "video", "Video"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    READY = "ready", "Ready"
    REJECTED = "rejected", "Rejected"
    REMOVED_BY_MODERATOR = "removed_by_moderator", "Removed by moderator"


class RejectReason(models.TextChoices):
    """Why the worker refused a file; the app shows a message per code."""

    UNDECODABLE = "undecodable", "The file could not be decoded"
    TOO_MANY_PIXELS = "too_many_pixels", "The image has too many pixels"
    TOO_LONG = "too_long", "The recording is too long"
    TOO_LARGE = "too_large", "The file is too large for its kind"
    UNSUPPORTED_CODEC = "unsupported_codec", "The codec is not supported"
    EMBEDDED_SCRIPT = "embedded_script", "The file carries a script or markup"
    NO_STREAM = "no_stream", "The file has no usable audio or video stream"
    PROCESSING_TIMEOUT = "processing_timeout", "Processing took too long"
    PROCESSING_FAILED = "processing_failed", "Processing failed repeatedly"


class Variant(models.TextChoices):
    """The servable copies of a file; every one is produced by re-encoding or remuxing."""

    ORIGINAL = "original", "Original (re-encoded)"
    LARGE = "1024", "1024 px"
    SMALL = "256", "256 px"


def new_storage_prefix() -> str:
    return secrets.token_hex(16)


class MediaFile(models.Model):
    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="media_files"
    )
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(
        max_length=24, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    reject_reason = models.CharField(max_length=24, choices=RejectReason.choices, blank=True)
    # What the sniffer saw in the upload (not what the client claimed).
    sniffed_type = models.CharField(max_length=64)
    # Bytes counted against the owner's quota: the upload while pending, the stored
    # copies once ready, 0 when rejected or removed.
    size = models.PositiveBigIntegerField()
    storage_prefix = models.CharField(
        max_length=32, unique=True, default=new_storage_prefix, editable=False
    )
    upload_key = models.CharField(max_length=255, blank=True)  # raw upload, never served
    # Variant -> {"key": ..., "content_type": ..., "size": ...} once ready.
    variants = models.JSONField(default=dict, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Set by the layer that uses the file (chat message, profile) through
    # media_file_attach; files never attached are swept after 24 h.
    attached_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("take_down_mediafile", "Can take down uploaded files")]
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
