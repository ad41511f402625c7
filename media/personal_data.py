"""Media's personal data (DESIGN.md, docs/privacy.md): the user's uploaded files.

Discovered by ``privacy``. Erasure deletes every object of a file from storage
(upload, original, each derivative) and verifies the storage is empty before the
row goes; the export copies each original into ``files/``.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from django.utils.translation import gettext_lazy

from media.models import MediaFile
from media.services import media_files_rows_delete, media_files_storage_purge_for_owner
from meetnow.lib.personal_data import (
    Declaration,
    EraseStep,
    ExportRows,
    ExportSection,
    Strategy,
    count_of,
    page,
    section,
    step,
)
from meetnow.lib.timestamps import iso

erase_steps: list[EraseStep] = [
    step(
        "media.MediaFile",
        "delete",
        lambda c, n, ids: media_files_rows_delete(owner_id=c.user_id, ids=ids),
        prepare=lambda c, n: media_files_storage_purge_for_owner(owner_id=c.user_id, limit=n),
    ),
]

declarations: list[Declaration] = [
    Declaration(
        "media.MediaFile",
        Strategy.DELETE,
        "files.json + files/",
        "account",
        "Original, raw upload and every derivative deleted from storage, verified empty.",
        remaining=count_of(MediaFile, "owner_id"),
    ),
]


def _file_rows(uid: int, after: int, limit: int) -> ExportRows:
    out = []
    for f in page(MediaFile.objects.filter(owner_id=uid), after, limit):
        original = (f.variants or {}).get("original") or {}
        key = original.get("key", "") if isinstance(original, dict) else ""
        ext = mimetypes.guess_extension(original.get("content_type", "")) if key else None
        out.append(
            (
                f.pk,
                {
                    "uuid": str(f.uuid),
                    "purpose": f.purpose,
                    "kind": f.kind,
                    "status": f.status,
                    "size": f.size,
                    "width": f.width,
                    "height": f.height,
                    "duration_ms": f.duration_ms,
                    "created_at": iso(f.created_at),
                    "file": f"files/{f.uuid}{ext or ''}" if key else None,
                    "_key": key,
                },
            )
        )
    return out


def _file_members(row: dict[str, Any]) -> list[tuple[str, str]]:
    key = row.pop("_key", "")
    return [(row["file"], key)] if key and row.get("file") else []


export_sections: list[ExportSection] = [
    section(
        "files",
        gettext_lazy("Files you uploaded (photos, voice, video); the originals are in files/."),
        _file_rows,
        lambda uid: MediaFile.objects.filter(owner_id=uid).count(),
        files=_file_members,
    ),
]
