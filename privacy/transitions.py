"""The small steps every privacy request change is made of (P13, P17): deadlines, the
status transition with its audit event, and the job's end (complete or failed).

Below :mod:`privacy.lifecycle` (the request's whole life) and the job runners
(:mod:`privacy.erasure`, :mod:`privacy.export`), which both finish a request here.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from chat.notify import notice_send
from meetnow.lib.deadlines import due_for_phone
from meetnow.lib.errors import ApplicationError, NotFoundError
from meetnow.lib.timestamps import iso
from privacy.models import (
    ActorRole,
    PrivacyRequest,
    PrivacyRequestEvent,
    RequestKind,
    RequestStatus,
)

logger = logging.getLogger("privacy.lifecycle")

S = RequestStatus
CANCELABLE_BY_USER = {S.IDENTITY_UNVERIFIED, S.PENDING, S.APPROVED, S.SCHEDULED}
CANCELABLE_BY_STAFF = {S.IDENTITY_UNVERIFIED, S.PENDING, S.APPROVED, S.SCHEDULED, S.ERROR}
REASON_MAX = 1000


class NoticeKind:
    """The notices a request's outcome leaves in the user's inbox (P13, P17); their
    texts are in :mod:`privacy.notices`."""

    COMPLETED = "privacy.request_completed"
    DENIED = "privacy.request_denied"
    CANCELED = "privacy.request_canceled"
    DUPLICATE = "privacy.request_duplicate"
    EXPORT_READY = "privacy.export_ready"


OUTCOME_NOTICES: dict[str, str] = {
    S.COMPLETE: NoticeKind.COMPLETED,
    S.DENIED: NoticeKind.DENIED,
    S.CANCELED: NoticeKind.CANCELED,
    S.DUPLICATE: NoticeKind.DUPLICATE,
}
# Cancellation reasons the system and the app write (codes; staff reasons stay out of
# the notice, which says only that the request was cancelled).
CANCEL_REASON_CODES = frozenset(
    {"canceled_by_user", "logged_in_during_grace_period", "identity_not_verified"}
)


# --- Deadlines -----------------------------------------------------------------------


def request_due_at(*, kind: str, received_at: dt.datetime, user: User) -> dt.datetime:
    """The deadline of ``user``'s request of ``kind`` received at ``received_at`` (P17),
    in working days of the user's calendar (China's for a CN phone number)."""
    days = settings.MEETNOW_PRIVACY_SLA_DAYS_BY_KIND.get(kind, settings.MEETNOW_PRIVACY_SLA_DAYS)
    return due_for_phone(received_at=received_at, days=days, phone=user.phone)


# --- Audit ---------------------------------------------------------------------------


def _role(actor: User | None) -> str:
    if actor is None:
        return ActorRole.SYSTEM
    return ActorRole.STAFF if actor.is_staff else ActorRole.USER


def request_event_record(
    *,
    privacy_request: PrivacyRequest,
    action: str,
    actor: User | None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
) -> PrivacyRequestEvent:
    """Append one audit event (P17). ``note`` holds staff reasons, never personal values."""
    return PrivacyRequestEvent.objects.create(
        request=privacy_request,
        actor=actor if actor is not None and actor.pk else None,
        actor_role=_role(actor),
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )


def request_locked(privacy_request: PrivacyRequest) -> PrivacyRequest:
    """Re-read the request under a row lock (the caller holds a transaction)."""
    locked = PrivacyRequest.objects.select_for_update().filter(pk=privacy_request.pk).first()
    if locked is None:
        raise NotFoundError(_("No such privacy request."))
    return locked


def request_transition(
    privacy_request: PrivacyRequest,
    *,
    to: str,
    action: str,
    actor: User | None,
    allowed_from: Iterable[str],
    note: str = "",
    fields: dict[str, Any] | None = None,
) -> PrivacyRequest:
    allowed = set(allowed_from)
    if privacy_request.status not in allowed:
        raise ApplicationError(
            "invalid_request_state",
            _("This request is %(status)s; it can't be %(action)s.")
            % {"status": privacy_request.status, "action": action.replace("_", " ")},
            status_code=409,
        )
    before = privacy_request.status
    now = timezone.now()
    privacy_request.status = to
    privacy_request.updated_at = now
    update = ["status", "updated_at"]
    for name, value in (fields or {}).items():
        setattr(privacy_request, name, value)
        update.append(name)
    privacy_request.save(update_fields=update)
    request_event_record(
        privacy_request=privacy_request,
        action=action,
        actor=actor,
        from_status=before,
        to_status=to,
        note=note,
    )
    logger.info("privacy request %s: %s (%s -> %s)", privacy_request.uuid, action, before, to)
    _outcome_notify(privacy_request)
    return privacy_request


def _outcome_notify(privacy_request: PrivacyRequest) -> None:
    """Tell the user how their request ended (P13, P17): a notice, an event on their
    stream and a push (``chat.notify.notice_send``). A finished export's notice is
    "ready" and reads with its download link. An erased account is told nothing: it
    is gone."""
    kind = OUTCOME_NOTICES.get(privacy_request.status)
    if kind is None or privacy_request.user_id is None:
        return
    params: dict[str, Any] = {
        "request": str(privacy_request.uuid),
        "request_kind": privacy_request.kind,
    }
    status = privacy_request.status
    if (
        status == S.COMPLETE
        and privacy_request.kind == RequestKind.ACCESS
        and privacy_request.archive_expires_at is not None
    ):
        kind = NoticeKind.EXPORT_READY
        params["expires_at"] = iso(privacy_request.archive_expires_at)
    elif status == S.DENIED:
        params["reason"] = privacy_request.denial_reason
    elif status == S.CANCELED and privacy_request.cancel_reason in CANCEL_REASON_CODES:
        params["reason"] = privacy_request.cancel_reason
    notice_send(user_id=privacy_request.user_id, kind=kind, params=params)


# --- The job's end -------------------------------------------------------------------


def request_complete(
    *, privacy_request: PrivacyRequest, actor: User | None, note: str = ""
) -> PrivacyRequest:
    """Mark a request done (the job's end, or staff after a rectification)."""
    with transaction.atomic():
        return request_transition(
            request_locked(privacy_request),
            to=S.COMPLETE,
            action="completed",
            actor=actor,
            allowed_from={S.APPROVED, S.IN_PROCESSING},
            note=note[:REASON_MAX],
            fields={
                "finished_at": timezone.now(),
                "progress": 100,
                "lease_token": "",
                "lease_until": None,
            },
        )


def request_fail(*, privacy_request: PrivacyRequest, error_code: str) -> PrivacyRequest:
    """The job failed: ``error`` is visible to the user and staff, and retryable."""
    with transaction.atomic():
        return request_transition(
            request_locked(privacy_request),
            to=S.ERROR,
            action="failed",
            actor=None,
            allowed_from={S.IN_PROCESSING},
            note=error_code,
            fields={"error_code": error_code[:64], "lease_token": "", "lease_until": None},
        )
