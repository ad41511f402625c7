"""Export of a user's data (access request, P13): one ZIP, built in resumable chunks.

Phase 1 (``parts``): each registry export section is read by keyset in chunks of
``MEETNOW_PRIVACY_CHUNK_SIZE`` rows; each chunk becomes one staged JSON-lines object
in file storage, and the cursor (section, last id, part number, rows done) is saved
with the lease in the same update. A killed worker loses at most one chunk, which
the next run writes again under the same name.

Phase 2 (``assemble``): the staged parts and the original uploaded files are
streamed into a ZIP (one JSON file per section, ``files/``, ``README.txt``) in a
temporary file, which is then stored. Memory stays constant whatever the history
size: at most one chunk of rows, and file copies go through a 1 MiB buffer.

The archive is downloaded through a signed URL that expires after
``MEETNOW_PRIVACY_EXPORT_TTL_DAYS``; the beat task deletes it then.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import shutil
import tempfile
import uuid
import zipfile
from typing import IO, Any

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from meetnow.lib.i18n import display, user_locale
from privacy.models import PrivacyRequest, RequestKind, RequestStatus
from privacy.registry import ExportSection, get_registry
from privacy.runner import JobRun, job_run
from privacy.transitions import request_complete, request_fail

logger = logging.getLogger(__name__)

PREFIX = "privacy-exports"
COPY_BUFFER = 1024 * 1024
_SIGNING_SALT = "privacy.export.download"


def _staging(request_uuid: str) -> str:
    return f"{PREFIX}/{request_uuid}/parts"


def _part_name(request_uuid: str, section: int, part: int, suffix: str) -> str:
    return f"{_staging(request_uuid)}/{section:02d}-{part:06d}.{suffix}"


def _write(name: str, body: bytes) -> None:
    # A chunk redone after a crash replaces its earlier copy under the same name.
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(body))


def _stage_chunk(
    *,
    request_uuid: str,
    index: int,
    section: ExportSection,
    part: int,
    rows: list[tuple[int, dict[str, Any]]],
) -> None:
    lines = []
    members = []
    for _pk, row in rows:
        if section.files is not None:
            members.extend(section.files(row))
        lines.append(json.dumps(row, ensure_ascii=False, default=str))
    _write(_part_name(request_uuid, index, part, "jsonl"), ("\n".join(lines) + "\n").encode())
    if members:
        body = "\n".join(json.dumps(m) for m in members) + "\n"
        _write(_part_name(request_uuid, index, part, "files"), body.encode())


# The name of each section's file inside the ZIP, in the user's language (issue 17).
# A section not listed keeps its English name.
_FILE_TITLES = {
    "profile": pgettext_lazy("export file", "profile"),
    "devices": pgettext_lazy("export file", "devices"),
    "sessions": pgettext_lazy("export file", "sessions"),
    "security_events": pgettext_lazy("export file", "security_events"),
    "sms_deliveries": pgettext_lazy("export file", "sms_deliveries"),
    "blocks": pgettext_lazy("export file", "blocks"),
    "social_accounts": pgettext_lazy("export file", "social_accounts"),
    "email_addresses": pgettext_lazy("export file", "email_addresses"),
    "files": pgettext_lazy("export file", "files"),
    "chat_settings": pgettext_lazy("export file", "chat_settings"),
    "conversations": pgettext_lazy("export file", "conversations"),
    "messages": pgettext_lazy("export file", "messages"),
    "message_versions": pgettext_lazy("export file", "message_versions"),
    "messages_hidden": pgettext_lazy("export file", "messages_hidden"),
    "reports": pgettext_lazy("export file", "reports"),
    "calls": pgettext_lazy("export file", "calls"),
    "support_tickets": pgettext_lazy("export file", "support_tickets"),
    "consents": pgettext_lazy("export file", "consents"),
    "consent_withdrawals": pgettext_lazy("export file", "consent_withdrawals"),
    "privacy_requests": pgettext_lazy("export file", "privacy_requests"),
    "identity_verification": pgettext_lazy("export file", "identity_verification"),
    "dating_profile_likes": pgettext_lazy("export file", "dating_profile_likes"),
    "dating_passes": pgettext_lazy("export file", "dating_passes"),
    "dating_matches": pgettext_lazy("export file", "dating_matches"),
    "dating_posts": pgettext_lazy("export file", "dating_posts"),
    "dating_comments": pgettext_lazy("export file", "dating_comments"),
    "dating_likes": pgettext_lazy("export file", "dating_likes"),
    "dating_listens": pgettext_lazy("export file", "dating_listens"),
    "dating_reports": pgettext_lazy("export file", "dating_reports"),
}


def export_file_name(section: ExportSection) -> str:
    """``section``'s file name in the ZIP in the active language (``消息.json``)."""
    title = _FILE_TITLES.get(section.name)
    return f"{title}.json" if title is not None else section.filename


def _readme(sections: list[ExportSection], generated_at: dt.datetime) -> str:
    """The archive's guide, in the active language and time zone (the user's)."""
    lines = [
        _("MeetNow: a copy of your data"),
        _("Generated %(when)s (%(zone)s).")
        % {"when": display(generated_at), "zone": timezone.get_current_timezone_name()},
        "",
        _("Each .json file holds one kind of data as a list of records (times in UTC):"),
        "",
    ]
    lines += [f"- {export_file_name(s)}: {s.description}" for s in sections]
    files = next((export_file_name(s) for s in sections if s.name == "files"), "files.json")
    lines += [
        "- "
        + _(
            "files/: the original of every photo, recording and video you uploaded "
            "(named after the file's id in %(files)s)."
        )
        % {"files": files},
        "",
        _(
            "Messages of other people are included only where you could see them in the app; "
            "other people appear only as ids. Questions: use Settings > Privacy."
        ),
    ]
    return "\n".join(str(line) for line in lines) + "\n"


def _copy(src: IO[bytes], dst: IO[bytes]) -> None:
    shutil.copyfileobj(src, dst, COPY_BUFFER)


def _assemble(*, privacy_request: PrivacyRequest) -> tuple[str, int]:
    """Stream staged parts and original files into one ZIP in storage; (key, size)."""
    request_uuid = str(privacy_request.uuid)
    sections = get_registry().export_sections
    try:
        _dirs, names = default_storage.listdir(_staging(request_uuid))
    except FileNotFoundError:
        names = []
    names = sorted(names)
    # The guide and the names inside the archive read in the user's language (issue 17).
    with (
        user_locale(privacy_request.user),
        tempfile.TemporaryFile() as tmp,
    ):
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            zf.writestr(_("README.txt"), _readme(sections, timezone.now()))
            for index, section in enumerate(sections):
                prefix = f"{index:02d}-"
                parts = [n for n in names if n.startswith(prefix) and n.endswith(".jsonl")]
                with zf.open(export_file_name(section), "w", force_zip64=True) as out:
                    out.write(b"[\n")
                    first = True
                    for name in parts:
                        with default_storage.open(f"{_staging(request_uuid)}/{name}", "rb") as f:
                            for line in f:
                                line = line.strip()
                                if not line:
                                    continue
                                out.write(line if first else b",\n" + line)
                                first = False
                    out.write(b"\n]\n")
                for name in (n for n in names if n.startswith(prefix) and n.endswith(".files")):
                    with default_storage.open(f"{_staging(request_uuid)}/{name}", "rb") as f:
                        for line in f:
                            if not line.strip():
                                continue
                            arcname, key = json.loads(line)
                            if not default_storage.exists(key):
                                continue  # deleted since (e.g. taken down by a moderator)
                            with (
                                default_storage.open(key, "rb") as src,
                                zf.open(arcname, "w", force_zip64=True) as dst,
                            ):
                                _copy(src, dst)
        size = tmp.tell()
        tmp.seek(0)
        key = f"{PREFIX}/{request_uuid}/meetnow-export-{secrets.token_hex(8)}.zip"
        stored = default_storage.save(key, File(tmp, name="export.zip"))
    export_staging_delete(request_uuid)
    return stored, size


def export_staging_delete(request_uuid: str) -> None:
    try:
        _dirs, names = default_storage.listdir(_staging(request_uuid))
    except FileNotFoundError:
        return
    for name in names:
        default_storage.delete(f"{_staging(request_uuid)}/{name}")


def export_build(*, request_id: int, budget: float | None = None) -> str:
    """Build (part of) an export; returns done | more | skipped | error (P13).

    Claimed with a conditional update; resumes from the cursor saved with each chunk.
    """
    return job_run(
        request_id=request_id,
        kind=RequestKind.ACCESS,
        error_code="export_failed",
        budget=budget,
        work=_export,
    )


def _export(run: JobRun) -> str:
    privacy_request = run.privacy_request
    user_id = privacy_request.user_id
    if user_id is None:
        request_fail(privacy_request=privacy_request, error_code="no_account")
        return "error"
    sections = get_registry().export_sections
    cursor: dict[str, Any] = dict(privacy_request.cursor or {})
    if "total" not in cursor:
        total = sum(s.count(user_id) for s in sections)
        cursor = {"phase": "parts", "section": 0, "after": 0, "part": 0, "done": 0}
        cursor["total"] = total
        if not run.heartbeat(cursor=cursor, progress=1):
            return "skipped"
    if cursor["phase"] == "parts":
        outcome, cursor = _export_parts(run, user_id=user_id, sections=sections, cursor=cursor)
        if outcome is not None:
            return outcome
    if not run.heartbeat(progress=90):
        return "skipped"
    key, size = _assemble(privacy_request=privacy_request)
    now = timezone.now()
    ttl = dt.timedelta(days=settings.MEETNOW_PRIVACY_EXPORT_TTL_DAYS)
    PrivacyRequest.objects.filter(pk=run.request_id).update(
        archive_key=key,
        archive_size=size,
        archive_expires_at=now + ttl,
        cursor={**cursor, "phase": "done"},
    )
    privacy_request.refresh_from_db()
    request_complete(privacy_request=privacy_request, actor=None)
    logger.info("export %s complete (%s bytes)", run.request_id, size)
    return "done"


def _export_parts(
    run: JobRun, *, user_id: int, sections: list[ExportSection], cursor: dict[str, Any]
) -> tuple[str | None, dict[str, Any]]:
    """Stage the sections' rows from the cursor, a chunk per part; returns (None, the
    cursor) when every section is staged, else (the run's outcome, the cursor)."""
    chunk = settings.MEETNOW_PRIVACY_CHUNK_SIZE
    while cursor["section"] < len(sections):
        section = sections[cursor["section"]]
        rows = section.rows(user_id, cursor["after"], chunk)
        if rows:
            _stage_chunk(
                request_uuid=str(run.privacy_request.uuid),
                index=cursor["section"],
                section=section,
                part=cursor["part"],
                rows=rows,
            )
        done = cursor["done"] + len(rows)
        if len(rows) < chunk:
            cursor = {**cursor, "section": cursor["section"] + 1, "after": 0, "part": 0}
        else:
            cursor = {**cursor, "after": rows[-1][0], "part": cursor["part"] + 1}
        cursor["done"] = done
        progress = 1 + 89 * min(done, cursor["total"]) // max(cursor["total"], 1)
        if not run.heartbeat(cursor=cursor, progress=progress):
            return "skipped", cursor
        if run.out_of_time():
            return run.pause(), cursor
    cursor = {**cursor, "phase": "assemble"}
    if not run.heartbeat(cursor=cursor):
        return "skipped", cursor
    return None, cursor


# --- Download -------------------------------------------------------------------------------


def export_download_token(*, privacy_request: PrivacyRequest) -> str:
    """The capability in the signed download URL (valid until the archive expires)."""
    return _download_token(str(privacy_request.uuid))


def _download_token(request_uuid: str) -> str:
    return signing.dumps({"r": request_uuid}, salt=_SIGNING_SALT)


def export_download_path(*, request_uuid: str) -> str:
    """The download URL's path for the export of ``request_uuid`` (no query: the
    "ready" notice makes it at read time, so no link is stored; P13)."""
    return reverse("privacy-export-download", kwargs={"token": _download_token(request_uuid)})


def export_for_token(*, token: str) -> PrivacyRequest | None:
    """The request whose archive ``token`` unlocks, if the signature holds and it's live."""
    max_age = dt.timedelta(days=settings.MEETNOW_PRIVACY_EXPORT_TTL_DAYS)
    try:
        data = signing.loads(token, salt=_SIGNING_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("r"), str):
        return None
    if not _is_uuid(data["r"]):
        return None
    privacy_request = PrivacyRequest.objects.filter(
        uuid=data["r"],
        kind=RequestKind.ACCESS,
        status=RequestStatus.COMPLETE,
        archive_deleted_at__isnull=True,
        archive_expires_at__gt=timezone.now(),
    ).exclude(archive_key="")
    return privacy_request.first()


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# --- Expiry ---------------------------------------------------------------------------------


def exports_expire(*, now: dt.datetime | None = None, batch: int = 200) -> int:
    """Delete archives past their expiry from storage (idempotent, batched); P13, P15."""
    now = now or timezone.now()
    expired = list(
        PrivacyRequest.objects.filter(
            kind=RequestKind.ACCESS,
            archive_expires_at__lte=now,
            archive_deleted_at__isnull=True,
        )
        .exclude(archive_key="")
        .order_by("pk")[:batch]
    )
    for privacy_request in expired:
        default_storage.delete(privacy_request.archive_key)
        export_staging_delete(str(privacy_request.uuid))
        PrivacyRequest.objects.filter(pk=privacy_request.pk).update(
            archive_deleted_at=now, archive_key=""
        )
    # Parts staged by exports that failed or were canceled and never finished.
    abandoned = list(
        PrivacyRequest.objects.filter(
            kind=RequestKind.ACCESS,
            status__in=[RequestStatus.ERROR, RequestStatus.CANCELED],
            updated_at__lte=now - dt.timedelta(days=settings.MEETNOW_PRIVACY_EXPORT_TTL_DAYS),
            cursor__has_key="phase",
        ).order_by("pk")[:batch]
    )
    for privacy_request in abandoned:
        export_staging_delete(str(privacy_request.uuid))
        PrivacyRequest.objects.filter(pk=privacy_request.pk).update(cursor={})
    return len(expired) + len(abandoned)
