"""Privacy request lifecycle: every state change of a ``PrivacyRequest`` (P13, P17).

Only these services change a request's status, and each records an append-only
``PrivacyRequestEvent`` (who, what, when; never personal values). The app's API,
the admin, the tasks and the admin console call the same functions.

States: identity_unverified -> pending -> approved | denied -> scheduled (erasure)
-> in_processing -> complete | error (retryable) | canceled, plus duplicate.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from meetnow.lib.errors import ApplicationError
from meetnow.lib.i18n import display
from privacy.consents import consent_withdraw
from privacy.erasure import account_lock, account_unlock
from privacy.jobs import job_enqueue
from privacy.models import (
    OPEN_REQUEST_STATUSES,
    DocumentKind,
    PrivacyRequest,
    RequestKind,
    RequestStatus,
)
from privacy.transitions import (
    CANCELABLE_BY_STAFF,
    CANCELABLE_BY_USER,
    REASON_MAX,
    request_complete,
    request_due_at,
    request_event_record,
    request_locked,
    request_transition,
)

logger = logging.getLogger(__name__)

S = RequestStatus
DETAILS_MAX = 2000


# --- Deadlines -----------------------------------------------------------------------


def erasure_scheduled_for(*, privacy_request: PrivacyRequest, now: dt.datetime) -> dt.datetime:
    """End of the cooling-off period, never later than a day before the deadline (P13)."""
    grace_end = now + dt.timedelta(days=settings.MEETNOW_ERASURE_GRACE_DAYS)
    latest = privacy_request.effective_due_at - dt.timedelta(days=1)
    return max(now, min(grace_end, latest))


def _reason_clean(reason: Any, *, param: str = "reason") -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ApplicationError("reason_required", _("Give a reason."), param=param)
    if len(text) > REASON_MAX:
        raise ApplicationError(
            "reason_too_long",
            _("At most %(reason_max)s characters.") % {"reason_max": REASON_MAX},
            param=param,
        )
    return text


# --- Creation and identity -------------------------------------------------------------


def _access_too_soon(*, user: User, now: dt.datetime) -> dt.datetime | None:
    """When the next export is allowed, if an earlier one is too recent (P13)."""
    window = dt.timedelta(days=settings.MEETNOW_PRIVACY_EXPORT_INTERVAL_DAYS)
    recent = (
        PrivacyRequest.objects.filter(
            user=user, kind=RequestKind.ACCESS, received_at__gt=now - window
        )
        .exclude(status__in=[S.CANCELED, S.DENIED, S.DUPLICATE, S.IDENTITY_UNVERIFIED])
        .order_by("-received_at")
        .first()
    )
    return recent.received_at + window if recent is not None else None


def _request_input_clean(
    *, kind: str, details: Any, document_kinds: list[str] | None
) -> tuple[str, list[str]]:
    """The request's details and withdrawn document kinds, checked (clear 400s)."""
    if kind not in RequestKind.values:
        raise ApplicationError(
            "invalid_kind",
            _("kind must be one of %(kinds)s.") % {"kinds": ", ".join(RequestKind.values)},
            param="kind",
        )
    details = details.strip() if isinstance(details, str) else ""
    if kind == RequestKind.RECTIFICATION and not details:
        raise ApplicationError(
            "details_required", _("Say what should be corrected."), param="details"
        )
    if len(details) > DETAILS_MAX:
        raise ApplicationError(
            "details_too_long",
            _("At most %(details_max)s characters.") % {"details_max": DETAILS_MAX},
            param="details",
        )
    kinds: list[str] = []
    if kind == RequestKind.CONSENT_WITHDRAWAL:
        kinds = sorted(set(document_kinds or DocumentKind.values))
        if not kinds or any(k not in DocumentKind.values for k in kinds):
            raise ApplicationError(
                "invalid_document_kinds",
                _("document_kinds must be among %(kinds)s.")
                % {"kinds": ", ".join(DocumentKind.values)},
                param="document_kinds",
            )
    return details, kinds


def _access_interval_check(*, user: User, now: dt.datetime) -> None:
    """One export per ``MEETNOW_PRIVACY_EXPORT_INTERVAL_DAYS`` (429 with the next date)."""
    next_allowed = _access_too_soon(user=user, now=now)
    if next_allowed is not None:
        raise ApplicationError(
            "export_too_soon",
            _("One export per %(days)s days; the next one is possible after %(when)s.")
            % {
                "days": settings.MEETNOW_PRIVACY_EXPORT_INTERVAL_DAYS,
                "when": display(next_allowed),
            },
            status_code=429,
        )


def request_create(
    *,
    user: User,
    kind: str,
    details: str = "",
    document_kinds: list[str] | None = None,
    identity_confirmed: bool = False,
) -> PrivacyRequest:
    """Open a privacy request for ``user`` (P13, P17) with its deadline.

    Identity is confirmed by a fresh one-time code (allauth reauthentication);
    without it the request waits in ``identity_unverified``. Consent withdrawal
    needs no code: withdrawing is as easy as granting (P16). At most one export per
    ``MEETNOW_PRIVACY_EXPORT_INTERVAL_DAYS`` and one open erasure per account.
    """
    details, kinds = _request_input_clean(kind=kind, details=details, document_kinds=document_kinds)
    now = timezone.now()
    if kind == RequestKind.ACCESS:
        _access_interval_check(user=user, now=now)
    if kind != RequestKind.ERASURE:
        # Several open requests of one kind are one request: answer the open one.
        open_one = PrivacyRequest.objects.filter(
            user=user, kind=kind, status__in=OPEN_REQUEST_STATUSES
        ).exclude(kind=RequestKind.RECTIFICATION)
        existing = open_one.order_by("-received_at").first()
        if existing is not None:
            if identity_confirmed and existing.status == S.IDENTITY_UNVERIFIED:
                return request_verify_identity(privacy_request=existing, actor=user)
            return existing
    try:
        with transaction.atomic():
            privacy_request = PrivacyRequest.objects.create(
                user=user,
                kind=kind,
                details=details if kind == RequestKind.RECTIFICATION else "",
                document_kinds=kinds,
                received_at=now,
                due_at=request_due_at(kind=kind, received_at=now, user=user),
                updated_at=now,
            )
            request_event_record(
                privacy_request=privacy_request,
                action="created",
                actor=user,
                to_status=privacy_request.status,
            )
    except IntegrityError:
        raise ApplicationError(
            "erasure_already_requested",
            _("Deletion of this account is already requested."),
            status_code=409,
        ) from None
    if identity_confirmed or kind == RequestKind.CONSENT_WITHDRAWAL:
        return request_verify_identity(privacy_request=privacy_request, actor=user)
    return privacy_request


def request_verify_identity(*, privacy_request: PrivacyRequest, actor: User) -> PrivacyRequest:
    """The requester proved who they are with a fresh code: the request becomes pending.

    Kinds listed in ``MEETNOW_PRIVACY_AUTO_APPROVE`` are then approved and processed
    at once (the user asking for their own data needs no review).
    """
    with transaction.atomic():
        privacy_request = request_transition(
            request_locked(privacy_request),
            to=S.PENDING,
            action="identity_verified",
            actor=actor,
            allowed_from={S.IDENTITY_UNVERIFIED},
            fields={"identity_verified_at": timezone.now()},
        )
        if privacy_request.kind in settings.MEETNOW_PRIVACY_AUTO_APPROVE:
            privacy_request = request_approve(privacy_request=privacy_request, actor=None)
    return privacy_request


# --- Staff review ------------------------------------------------------------------------


def request_approve(*, privacy_request: PrivacyRequest, actor: User | None) -> PrivacyRequest:
    """Approve a pending request (staff, or the system for auto-approved kinds); P17."""
    with transaction.atomic():
        privacy_request = request_transition(
            request_locked(privacy_request),
            to=S.APPROVED,
            action="approved",
            actor=actor,
            allowed_from={S.PENDING},
            fields={"reviewed_at": timezone.now(), "reviewed_by": actor},
        )
        return request_process(privacy_request=privacy_request, actor=actor)


def request_deny(*, privacy_request: PrivacyRequest, actor: User, reason: Any) -> PrivacyRequest:
    """Deny a request with a reason the user sees (PIPL Art. 50; P13)."""
    reason = _reason_clean(reason)
    with transaction.atomic():
        return request_transition(
            request_locked(privacy_request),
            to=S.DENIED,
            action="denied",
            actor=actor,
            allowed_from={S.PENDING, S.IDENTITY_UNVERIFIED},
            note=reason,
            fields={
                "denial_reason": reason,
                "reviewed_at": timezone.now(),
                "reviewed_by": actor,
                "finished_at": timezone.now(),
            },
        )


def request_extend(
    *, privacy_request: PrivacyRequest, actor: User, until: dt.datetime, reason: Any
) -> PrivacyRequest:
    """Extend the deadline with a reason the user sees (GDPR Art. 12(3)); P17."""
    reason = _reason_clean(reason)
    with transaction.atomic():
        locked = request_locked(privacy_request)
        if not locked.is_open:
            raise ApplicationError(
                "invalid_request_state", _("Only an open request can be extended."), status_code=409
            )
        if until <= locked.effective_due_at:
            raise ApplicationError(
                "invalid_extension", _("The new deadline must be later."), param="until"
            )
        locked.extended_due_at = until
        locked.extension_reason = reason
        locked.updated_at = timezone.now()
        locked.save(update_fields=["extended_due_at", "extension_reason", "updated_at"])
        request_event_record(privacy_request=locked, action="extended", actor=actor, note=reason)
        return locked


# The states a request can be closed as a duplicate from (the console offers it there).
DUPLICATE_FROM = frozenset({S.IDENTITY_UNVERIFIED, S.PENDING, S.APPROVED})
# The event note of a duplicate: stored in English, shown in the staff member's language.
DUPLICATE_NOTE_PREFIX = "duplicate of "


def request_mark_duplicate(
    *, privacy_request: PrivacyRequest, actor: User, original: PrivacyRequest
) -> PrivacyRequest:
    """Close a request as a duplicate of another of the same user and kind."""
    if (
        original.pk == privacy_request.pk
        or original.user_id != privacy_request.user_id
        or (original.kind != privacy_request.kind)
    ):
        raise ApplicationError(
            "invalid_duplicate",
            _("A duplicate must point to another request of the same user and kind."),
            param="original",
        )
    with transaction.atomic():
        return request_transition(
            request_locked(privacy_request),
            to=S.DUPLICATE,
            action="marked_duplicate",
            actor=actor,
            allowed_from=DUPLICATE_FROM,
            note=f"{DUPLICATE_NOTE_PREFIX}{original.uuid}",
            fields={"duplicate_of": original, "finished_at": timezone.now()},
        )


def request_hold_place(
    *, privacy_request: PrivacyRequest, actor: User, reason: Any
) -> PrivacyRequest:
    """Place a legal hold (e.g. an open abuse report): processing pauses visibly (P13)."""
    reason = _reason_clean(reason)
    with transaction.atomic():
        locked = request_locked(privacy_request)
        if not locked.is_open:
            raise ApplicationError(
                "invalid_request_state", _("Only an open request can be held."), status_code=409
            )
        if locked.legal_hold_at is not None:
            raise ApplicationError("already_on_hold", _("The request is already on hold."))
        locked.legal_hold_at = timezone.now()
        locked.legal_hold_reason = reason
        locked.lease_token = ""
        locked.lease_until = None
        locked.updated_at = timezone.now()
        locked.save(
            update_fields=[
                "legal_hold_at",
                "legal_hold_reason",
                "lease_token",
                "lease_until",
                "updated_at",
            ]
        )
        request_event_record(
            privacy_request=locked, action="legal_hold_placed", actor=actor, note=reason
        )
        return locked


def request_hold_lift(
    *, privacy_request: PrivacyRequest, actor: User, reason: Any
) -> PrivacyRequest:
    """Lift a legal hold; a due job resumes on the next beat (or at once if running)."""
    reason = _reason_clean(reason)
    with transaction.atomic():
        locked = request_locked(privacy_request)
        if locked.legal_hold_at is None:
            raise ApplicationError("not_on_hold", _("The request is not on hold."))
        locked.legal_hold_at = None
        locked.legal_hold_reason = ""
        locked.updated_at = timezone.now()
        locked.save(update_fields=["legal_hold_at", "legal_hold_reason", "updated_at"])
        request_event_record(
            privacy_request=locked, action="legal_hold_lifted", actor=actor, note=reason
        )
        if locked.status == S.IN_PROCESSING:
            job_enqueue(request_id=locked.pk, kind=locked.kind)
        return locked


def request_cancel(
    *, privacy_request: PrivacyRequest, actor: User | None, reason: str = ""
) -> PrivacyRequest:
    """Cancel a request before it is processed: the user's own, staff, or a login (P13).

    Canceling a scheduled erasure unlocks the account (unless a moderator banned it).
    """
    by_staff = actor is not None and actor.is_staff
    allowed = CANCELABLE_BY_STAFF if by_staff else CANCELABLE_BY_USER
    with transaction.atomic():
        locked = request_locked(privacy_request)
        was_scheduled = locked.status == S.SCHEDULED
        now = timezone.now()
        locked = request_transition(
            locked,
            to=S.CANCELED,
            action="canceled",
            actor=actor,
            allowed_from=allowed,
            note=reason[:REASON_MAX],
            fields={"canceled_at": now, "cancel_reason": reason[:REASON_MAX], "finished_at": now},
        )
        if was_scheduled and locked.kind == RequestKind.ERASURE and locked.user is not None:
            account_unlock(user=locked.user)
        return locked


def request_retry(*, privacy_request: PrivacyRequest, actor: User | None) -> PrivacyRequest:
    """Retry a request that ended in ``error``: the job resumes where it stopped."""
    with transaction.atomic():
        locked = request_transition(
            request_locked(privacy_request),
            to=S.IN_PROCESSING,
            action="retried",
            actor=actor,
            allowed_from={S.ERROR},
            fields={"error_code": "", "lease_token": "", "lease_until": None},
        )
        if locked.legal_hold_at is None:
            job_enqueue(request_id=locked.pk, kind=locked.kind)
        return locked


# --- Processing --------------------------------------------------------------------------


def request_process(*, privacy_request: PrivacyRequest, actor: User | None) -> PrivacyRequest:
    """Start what an approved request asks for (P13).

    access: the export job; erasure: lock the account and schedule the erasure
    after the cooling-off period; consent withdrawal: done at once; rectification:
    waits for staff to correct the data and complete it.
    """
    kind = privacy_request.kind
    now = timezone.now()
    if kind == RequestKind.ACCESS:
        locked = request_transition(
            privacy_request,
            to=S.IN_PROCESSING,
            action="started",
            actor=actor,
            allowed_from={S.APPROVED},
            fields={"started_at": now, "progress": 0, "cursor": {}},
        )
        job_enqueue(request_id=locked.pk, kind=locked.kind)
        return locked
    if kind == RequestKind.ERASURE:
        if privacy_request.user is None:
            raise ApplicationError("no_account", _("The account no longer exists."))
        account_lock(user=privacy_request.user)
        return request_transition(
            privacy_request,
            to=S.SCHEDULED,
            action="scheduled",
            actor=actor,
            allowed_from={S.APPROVED},
            fields={
                "scheduled_for": erasure_scheduled_for(privacy_request=privacy_request, now=now)
            },
        )
    if kind == RequestKind.CONSENT_WITHDRAWAL:
        if privacy_request.user is not None:
            consent_withdraw(
                user=privacy_request.user, document_kinds=list(privacy_request.document_kinds)
            )
        return request_complete(privacy_request=privacy_request, actor=None)
    return privacy_request


def erasures_start_due(*, now: dt.datetime | None = None, limit: int = 100) -> list[int]:
    """Move scheduled erasures whose cooling-off period ended into processing (beat)."""
    now = now or timezone.now()
    due = list(
        PrivacyRequest.objects.filter(
            kind=RequestKind.ERASURE,
            status=S.SCHEDULED,
            scheduled_for__lte=now,
            legal_hold_at__isnull=True,
        )
        .order_by("scheduled_for")
        .values_list("pk", flat=True)[:limit]
    )
    started = []
    for pk in due:
        with transaction.atomic():
            privacy_request = (
                PrivacyRequest.objects.select_for_update()
                .filter(pk=pk, status=S.SCHEDULED, legal_hold_at__isnull=True)
                .first()
            )
            if privacy_request is None:
                continue
            request_transition(
                privacy_request,
                to=S.IN_PROCESSING,
                action="started",
                actor=None,
                allowed_from={S.SCHEDULED},
                fields={"started_at": now},
            )
            job_enqueue(request_id=privacy_request.pk, kind=privacy_request.kind)
            started.append(pk)
    return started


def erasure_start_now(*, user: User) -> PrivacyRequest:
    """Development only (``manage.py erase_account --now``): erase ``user`` without grace.

    Opens the user's erasure request the way the app does (identity confirmed), or
    takes the open one, approves it if it waits for review, and ends its cooling-off
    now: the request is ``in_processing`` and the caller runs ``erasure_run``. Every
    step is in the request's audit trail like any other erasure.
    """
    if settings.PRODUCTION:
        raise ApplicationError("development_only", _("Only in development."), status_code=403)
    existing = PrivacyRequest.objects.filter(
        user=user, kind=RequestKind.ERASURE, status__in=OPEN_REQUEST_STATUSES
    ).first()
    privacy_request = existing or request_create(
        user=user, kind=RequestKind.ERASURE, identity_confirmed=True
    )
    if privacy_request.status == S.IDENTITY_UNVERIFIED:
        privacy_request = request_verify_identity(privacy_request=privacy_request, actor=user)
    if privacy_request.status == S.PENDING:
        privacy_request = request_approve(privacy_request=privacy_request, actor=None)
    if privacy_request.status == S.IN_PROCESSING:
        return privacy_request
    if privacy_request.legal_hold_at is not None:
        raise ApplicationError("legal_hold", _("This erasure is on legal hold."), status_code=409)
    now = timezone.now()
    with transaction.atomic():
        return request_transition(
            request_locked(privacy_request),
            to=S.IN_PROCESSING,
            action="started",
            actor=None,
            allowed_from={S.SCHEDULED},
            note="cooling-off ended early (development command)",
            fields={"scheduled_for": now, "started_at": now},
        )


def jobs_resume_stalled(*, now: dt.datetime | None = None, limit: int = 100) -> list[int]:
    """Re-enqueue jobs in processing whose worker died (lease expired or never taken)."""
    now = now or timezone.now()
    stalled = list(
        PrivacyRequest.objects.filter(
            status=S.IN_PROCESSING,
            kind__in=[RequestKind.ACCESS, RequestKind.ERASURE],
            legal_hold_at__isnull=True,
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .values_list("pk", "kind")[:limit]
    )
    for pk, kind in stalled:
        job_enqueue(request_id=pk, kind=kind)
    return [pk for pk, _ in stalled]


def requests_expire_unverified(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Cancel requests whose identity was never confirmed (retention table)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.MEETNOW_RETENTION_DAYS["unverified_requests"])
    count = 0
    for privacy_request in PrivacyRequest.objects.filter(
        status=S.IDENTITY_UNVERIFIED, received_at__lt=cutoff
    ).order_by("pk")[:batch]:
        request_cancel(privacy_request=privacy_request, actor=None, reason="identity_not_verified")
        count += 1
    return count


def erasure_cancel_by_login(*, user: User) -> bool:
    """Logging in during the cooling-off period cancels the deletion (P13)."""
    pending = PrivacyRequest.objects.filter(
        user=user, kind=RequestKind.ERASURE, status__in=list(CANCELABLE_BY_USER)
    ).first()
    if pending is None:
        return False
    request_cancel(privacy_request=pending, actor=user, reason="logged_in_during_grace_period")
    return True


# --- Erasure started by staff ------------------------------------------------------------

STAFF_ERASURE_GROUNDS = {
    "underage": gettext_lazy("The person is under the minimum age (P14)"),
    "banned": gettext_lazy("A banned account that is not to be kept"),
    "verified_request": gettext_lazy("A verified request received outside the app"),
}


def erasure_start_by_staff(*, user: User, actor: User, ground: str, reason: Any) -> PrivacyRequest:
    """Staff erase an account now (P13, P14): a minor, a banned account, or a person
    whose request came by another channel and was verified by staff.

    Opens the account's erasure request (or takes the open one), with no cooling-off:
    the account is locked at once and the erasure job is enqueued. The ground and the
    reason are in the request's audit trail with the staff member; refused under
    legal hold and for staff accounts.
    """
    if ground not in STAFF_ERASURE_GROUNDS:
        raise ApplicationError(
            "invalid_ground",
            _("ground must be one of %(grounds)s.") % {"grounds": ", ".join(STAFF_ERASURE_GROUNDS)},
            param="ground",
        )
    note = f"{ground}: {_reason_clean(reason)}"
    if user.is_staff:
        raise ApplicationError(
            "staff_account", _("Staff accounts are not erased this way."), status_code=409
        )
    now = timezone.now()
    with transaction.atomic():
        privacy_request = (
            PrivacyRequest.objects.select_for_update()
            .filter(user=user, kind=RequestKind.ERASURE, status__in=OPEN_REQUEST_STATUSES)
            .first()
        )
        if privacy_request is None:
            privacy_request = PrivacyRequest.objects.create(
                user=user,
                kind=RequestKind.ERASURE,
                status=S.APPROVED,
                received_at=now,
                identity_verified_at=now,
                due_at=request_due_at(kind=RequestKind.ERASURE, received_at=now, user=user),
                updated_at=now,
            )
            request_event_record(
                privacy_request=privacy_request,
                action="created_by_staff",
                actor=actor,
                to_status=privacy_request.status,
                note=note,
            )
        if privacy_request.legal_hold_at is not None:
            raise ApplicationError(
                "legal_hold", _("This erasure is on legal hold."), status_code=409
            )
        if privacy_request.status != S.IN_PROCESSING:
            privacy_request = request_transition(
                privacy_request,
                to=S.IN_PROCESSING,
                action="started_by_staff",
                actor=actor,
                allowed_from=set(OPEN_REQUEST_STATUSES),
                note=note,
                fields={"scheduled_for": now, "started_at": now},
            )
        account_lock(user=user)
        job_enqueue(request_id=privacy_request.pk, kind=RequestKind.ERASURE)
    return privacy_request
