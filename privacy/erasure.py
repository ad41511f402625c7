"""Account erasure (P13, P18): lock at once, erase after the cooling-off period.

``account_lock`` runs when deletion is requested: the account is made inactive
(its tokens stop working, it disappears from discover and new conversations, no
push reaches it) and every session ends. After ``MEETNOW_ERASURE_GRACE_DAYS`` the
beat task starts :func:`erasure_run`, which walks the registry's steps in chunks:
claimed with a conditional update, one transaction per chunk with its step log
(model, action, row count), resumable from the cursor after a crash, idempotent.
At the end it verifies every registered model holds nothing of the user.

The erasure ledger keeps salted hashes of the user id and phone so that
``manage.py privacy_reapply_erasures`` redoes erasures after a database restore.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.services import sessions_end_all
from chat.events import user_group
from meetnow.lib.personal_data import ErasureContext
from meetnow.lib.realtime import group_send_many
from meetnow.lib.timestamps import iso
from privacy.models import (
    OPEN_REQUEST_STATUSES,
    Consent,
    ErasureLedgerEntry,
    ErasureStep,
    PrivacyRequest,
    RequestKind,
    RequestStatus,
)
from privacy.registry import get_registry
from privacy.runner import JobRun, job_run
from privacy.transitions import (
    request_complete,
    request_due_at,
    request_event_record,
    request_fail,
)

logger = logging.getLogger(__name__)


# --- Lock and unlock ----------------------------------------------------------------------


@transaction.atomic
def account_lock(*, user: User) -> None:
    """Lock and hide the account at once (P13): inactive, every session ended, and
    the live sockets closed after commit, so no new message reaches it."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    sessions_end_all(user=user)
    user_id = user.pk
    transaction.on_commit(lambda: _sockets_close(user_id))


def _sockets_close(user_id: int) -> None:
    # chat's consumer closes every socket of the user on "session.ended" without a key.
    try:
        group_send_many([(user_group(user_id), {"type": "session.ended", "session_key": None})])
    except Exception:  # the lock stands; sockets also fail their next auth check
        logger.warning("could not close the sockets of a locked account", exc_info=True)


@transaction.atomic
def account_unlock(*, user: User) -> None:
    """Undo :func:`account_lock` (erasure canceled); a banned account stays locked."""
    updated = User.objects.filter(pk=user.pk, banned_at__isnull=True).update(is_active=True)
    if updated:
        user.is_active = True


# --- Ledger ------------------------------------------------------------------------------


def subject_hash(kind: str, value: object) -> str:
    """Salted hash (HMAC-SHA256 with ``MEETNOW_ERASURE_LEDGER_SALT``) of an identifier."""
    key = settings.MEETNOW_ERASURE_LEDGER_SALT.encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def ledger_record(*, user: User, privacy_request: PrivacyRequest | None) -> ErasureLedgerEntry:
    """Write the ledger entry before anything is erased (idempotent)."""
    proof = [
        {"document": kind, "version": version, "accepted_at": iso(accepted_at)}
        for kind, version, accepted_at in Consent.objects.filter(user=user)
        .order_by("accepted_at")
        .values_list("kind", "version", "accepted_at")
    ]
    retention = dt.timedelta(days=settings.MEETNOW_RETENTION_DAYS["consent_proof"])
    entry, created = ErasureLedgerEntry.objects.get_or_create(
        user_hash=subject_hash("user", user.pk),
        defaults={
            "phone_hash": subject_hash("phone", str(user.phone)) if user.phone else "",
            "request_uuid": privacy_request.uuid if privacy_request is not None else None,
            "consent_proof": proof,
            "consent_proof_until": timezone.now() + retention,
        },
    )
    if created:
        _ledger_copy_write(entry)
    return entry


LEDGER_PREFIX = "privacy-ledger"


def _ledger_copy_write(entry: ErasureLedgerEntry) -> None:
    """A copy of the entry (hashes and time only) in file storage, outside the database:
    a restored database has lost the newest entries, the storage still has them."""
    body = json.dumps(
        {
            "user_hash": entry.user_hash,
            "phone_hash": entry.phone_hash,
            "erased_at": iso(entry.erased_at),
        }
    ).encode()
    name = f"{LEDGER_PREFIX}/{entry.user_hash}.json"
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(body))


def ledger_sync_from_storage() -> int:
    """Put back into the database the ledger entries a restore lost; returns how many."""
    try:
        _dirs, names = default_storage.listdir(LEDGER_PREFIX)
    except FileNotFoundError:
        return 0
    known = set(ErasureLedgerEntry.objects.values_list("user_hash", flat=True))
    added = 0
    for name in names:
        if not name.endswith(".json") or name[:-5] in known:
            continue
        with default_storage.open(f"{LEDGER_PREFIX}/{name}", "rb") as handle:
            data = json.loads(handle.read())
        ErasureLedgerEntry.objects.get_or_create(
            user_hash=data["user_hash"],
            defaults={
                "phone_hash": data.get("phone_hash", ""),
                "erased_at": dt.datetime.fromisoformat(data["erased_at"]),
            },
        )
        added += 1
    return added


# --- The job -----------------------------------------------------------------------------


def _step_log(*, request_id: int, model: str, action: str, count: int) -> None:
    step, created = ErasureStep.objects.get_or_create(
        request_id=request_id, model=model, action=action, defaults={"count": count}
    )
    if not created:
        ErasureStep.objects.filter(pk=step.pk).update(
            count=F("count") + count, updated_at=timezone.now()
        )


def erasure_leftovers(*, user_id: int) -> dict[str, int]:
    """Registered models that still hold rows tied to ``user_id`` (empty when erased)."""
    leftovers = {}
    for label, declaration in get_registry().declarations.items():
        if declaration.remaining is None:
            continue
        count = declaration.remaining(user_id)
        if count:
            leftovers[label] = count
    return leftovers


def erasure_run(*, request_id: int, budget: float | None = None) -> str:
    """Run an erasure for up to ``budget`` seconds; returns done | more | skipped | error.

    Claimed with a conditional update, so two workers never run one erasure.
    Each chunk commits its rows, its step-log count and the cursor together: a
    crash loses at most an uncommitted chunk, and the next run continues from the
    cursor with nothing erased twice.
    """
    return job_run(
        request_id=request_id,
        kind=RequestKind.ERASURE,
        error_code="erasure_failed",
        budget=budget,
        work=_erase,
    )


def _erase(run: JobRun) -> str:
    privacy_request = run.privacy_request
    cursor = dict(privacy_request.cursor or {})
    user_id = cursor.get("user_id") or privacy_request.user_id
    if user_id is None:
        request_complete(privacy_request=privacy_request, actor=None, note="no account")
        return "done"
    user = User.objects.filter(pk=user_id).first()
    if "user_id" not in cursor:
        # The ledger entry is written with the first cursor, before any row goes.
        with transaction.atomic():
            if user is not None:
                ledger_record(user=user, privacy_request=privacy_request)
            cursor = {"user_id": user_id, "step": 0}
            if not run.heartbeat(cursor=cursor):
                return "skipped"
    ctx = ErasureContext(user_id=user_id, user=user, request=privacy_request)
    outcome = _erase_steps(run, ctx=ctx, cursor=cursor)
    if outcome is not None:
        return outcome
    leftovers = erasure_leftovers(user_id=user_id)
    if leftovers:
        logger.error("erasure %s: rows left in %s", run.request_id, sorted(leftovers))
        request_fail(privacy_request=privacy_request, error_code="erasure_incomplete")
        return "error"
    ErasureLedgerEntry.objects.filter(request_uuid=privacy_request.uuid).update(
        erased_at=timezone.now()
    )
    request_complete(privacy_request=privacy_request, actor=None)
    logger.info("erasure %s complete", run.request_id)
    return "done"


def _erase_steps(run: JobRun, *, ctx: ErasureContext, cursor: dict[str, Any]) -> str | None:
    """Walk the registry's steps from the cursor, a chunk per transaction; None when
    every step is done, else the run's outcome (skipped, more)."""
    steps = get_registry().erase_steps
    chunk = settings.MEETNOW_PRIVACY_CHUNK_SIZE
    index = int(cursor.get("step", 0))
    while index < len(steps):
        step = steps[index]
        prepared = None
        if step.prepare is not None:
            # Storage is touched outside the transaction: check the claim first, so
            # a legal hold placed meanwhile stops the job before anything goes.
            if not run.heartbeat():
                return "skipped"
            prepared = step.prepare(ctx, chunk)
        with transaction.atomic():
            if not run.heartbeat():
                logger.info("erasure %s: lease lost, stopping", run.request_id)
                transaction.set_rollback(True)
                return "skipped"
            count = step.apply(ctx, chunk, prepared)
            if count:
                _step_log(
                    request_id=run.request_id, model=step.model, action=step.action, count=count
                )
            if count < chunk:
                index += 1
            cursor = {**cursor, "step": index}
            run.heartbeat(cursor=cursor, progress=min(99, index * 100 // len(steps)))
        if index < len(steps) and run.out_of_time():
            return run.pause()
    return None


# --- After a database restore --------------------------------------------------------------


def erasure_force(*, user: User, action: str = "reapplied_from_ledger") -> PrivacyRequest:
    """Start erasing ``user`` now, without grace: ledger re-application after a restore,
    or a verified minor (P14; ``action`` names why in the request's audit trail)."""
    now = timezone.now()
    with transaction.atomic():
        existing = (
            PrivacyRequest.objects.select_for_update()
            .filter(user=user, kind=RequestKind.ERASURE, status__in=OPEN_REQUEST_STATUSES)
            .first()
        )
        if existing is None:
            existing = PrivacyRequest.objects.create(
                user=user,
                kind=RequestKind.ERASURE,
                status=RequestStatus.IN_PROCESSING,
                received_at=now,
                identity_verified_at=now,
                due_at=request_due_at(kind=RequestKind.ERASURE, received_at=now, user=user),
                started_at=now,
            )
            before = ""
        else:
            before = existing.status
            existing.status = RequestStatus.IN_PROCESSING
            existing.started_at = existing.started_at or now
            existing.lease_token = ""
            existing.lease_until = None
            existing.legal_hold_at = None
            existing.save(
                update_fields=[
                    "status",
                    "started_at",
                    "lease_token",
                    "lease_until",
                    "legal_hold_at",
                ]
            )
        request_event_record(
            privacy_request=existing,
            action=action,
            actor=None,
            from_status=before,
            to_status=RequestStatus.IN_PROCESSING,
        )
        User.objects.filter(pk=user.pk).update(is_active=False)
    return existing


def ledger_matches() -> list[User]:
    """Accounts in the database that the ledger says were erased (after a restore)."""
    by_user = dict(ErasureLedgerEntry.objects.values_list("user_hash", "erased_at"))
    by_phone = dict(
        ErasureLedgerEntry.objects.exclude(phone_hash="").values_list("phone_hash", "erased_at")
    )
    matched: list[int] = []
    rows = User.objects.values_list("pk", "phone", "date_joined").order_by("pk")
    for pk, phone, joined in rows.iterator(chunk_size=2000):
        if subject_hash("user", pk) in by_user:
            matched.append(pk)
            continue
        # A number is reused by new people; only an account older than the erasure
        # can be a restored copy of the erased one.
        erased = by_phone.get(subject_hash("phone", str(phone))) if phone else None
        if erased is not None and joined < erased:
            matched.append(pk)
    return list(User.objects.filter(pk__in=matched).order_by("pk"))


def erasures_reapply(*, dry_run: bool = False) -> list[str]:
    """Erase again every restored account found in the ledger; returns request uuids."""
    ledger_sync_from_storage()
    done = []
    for user in ledger_matches():
        if dry_run:
            done.append(f"user #{user.pk}")
            continue
        privacy_request = erasure_force(user=user)
        while erasure_run(request_id=privacy_request.pk) == "more":  # pragma: no cover
            pass
        ErasureLedgerEntry.objects.filter(user_hash=subject_hash("user", user.pk)).update(
            reapplied_at=timezone.now()
        )
        done.append(str(privacy_request.uuid))
    return done
