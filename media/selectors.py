"""Reads of uploaded files. Signing lives in services; callers check access first."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from media.models import MediaFile, Status
from meetnow.lib.errors import NotFoundError


def media_file_access(*, user: Any, media_uuid: uuid.UUID) -> MediaFile:
    """The user's own file; anyone else's (or an unknown one) is "not found" (P11)."""
    media_file = MediaFile.objects.filter(uuid=media_uuid, owner_id=user.pk).first()
    if media_file is None:
        raise NotFoundError(_("No such file."))
    return media_file


def media_file_get(*, media_uuid: uuid.UUID) -> MediaFile | None:
    """A file by its public id, for layers that have already checked who may see it."""
    return MediaFile.objects.filter(uuid=media_uuid).first()


def media_files_for_user(*, user: Any) -> QuerySet[MediaFile]:
    """Every file a user uploaded, newest first (privacy export and erasure)."""
    return MediaFile.objects.filter(owner_id=user.pk).order_by("-id")


def media_quota_used(*, user: Any) -> int:
    """Bytes counted against the user's storage quota."""
    total = MediaFile.objects.filter(
        owner_id=user.pk, status__in=[Status.PENDING, Status.READY]
    ).aggregate(total=Sum("size"))["total"]
    return int(total or 0)
