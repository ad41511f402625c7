"""Writes of identity verification (P7, P14, P18): start, result, callback, removal, purge.

Nothing sensitive is kept: the name and ID number travel to the provider once, in
the request that starts the verification, and only their masked forms, the
number's keyed hash and the birth date it carries are stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity import hooks
from accounts.identity.idnumber import (
    id_number_birth_date,
    id_number_clean,
    id_number_hash,
    id_number_mask,
    name_clean,
    name_mask,
)
from accounts.identity.models import (
    FailureReason,
    IdentityCallbackNonce,
    IdentityVerification,
    VerificationStatus,
)
from accounts.identity.providers import ProviderError, ProviderTransientError, get_provider
from accounts.models import User
from accounts.selectors import age_in_years
from accounts.services import sessions_end_all
from meetnow.lib.errors import ApplicationError, NotFoundError

logger = logging.getLogger(__name__)

# Failures that are not the user's doing don't count against the daily attempts.
_NOT_COUNTED = (FailureReason.PROVIDER_UNAVAILABLE,)


@dataclass(frozen=True)
class StartedVerification:
    verification: IdentityVerification
    client: dict[str, Any] = field(default_factory=dict)


def _attempts_since(*, user: User, since: dt.datetime) -> int:
    return (
        IdentityVerification.objects.filter(user=user, created_at__gte=since)
        .exclude(reason_code__in=_NOT_COUNTED)
        .count()
    )


def identity_verification_start(
    *, user: User, name: object, id_number: object
) -> StartedVerification:
    """Start a verification (P7): validate, check consent and limits, open the provider session.

    Refusals, each a clear 4xx: malformed name or ID number (400, a code per check),
    no separate consent to the identity notice (403 ``identity_consent_required``),
    already verified (409), too many attempts in 24 hours (429
    ``identity_attempts_exhausted``), the number already verifies another account
    (409 ``identity_number_in_use``; the refused attempt is kept, masked, so support
    sees it happened). A pending attempt of the user is replaced (``abandoned``).
    The result arrives by the signed callback or the worker's polling.
    """
    if not settings.IDENTITY_PROVIDER:
        raise ApplicationError(
            "identity_unavailable",
            _("Identity verification is not offered here."),
            status_code=503,
        )
    clean_name = name_clean(name)
    number = id_number_clean(id_number)
    if not hooks.sensitive_consent_given(user_id=user.pk):
        raise ApplicationError(
            "identity_consent_required",
            _(
                "Identity verification uses sensitive personal information: "
                "accept its notice first."
            ),
            status_code=403,
        )
    id_hash = id_number_hash(number)
    now = timezone.now()
    duplicate = False
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if IdentityVerification.objects.filter(
            user=user, status=VerificationStatus.VERIFIED
        ).exists():
            raise ApplicationError(
                "identity_already_verified",
                _("Your identity is already verified."),
                status_code=409,
            )
        if _attempts_since(user=user, since=now - dt.timedelta(days=1)) >= (
            settings.IDENTITY_DAILY_ATTEMPTS
        ):
            raise ApplicationError(
                "identity_attempts_exhausted",
                _("Too many verification attempts today; try again tomorrow."),
                status_code=429,
            )
        IdentityVerification.objects.filter(user=user, status=VerificationStatus.PENDING).update(
            status=VerificationStatus.FAILED,
            reason_code=FailureReason.ABANDONED,
            finished_at=now,
        )
        duplicate = (
            IdentityVerification.objects.filter(id_hash=id_hash, status=VerificationStatus.VERIFIED)
            .exclude(user=user)
            .exists()
        )
        verification = IdentityVerification.objects.create(
            user=user,
            provider=settings.IDENTITY_PROVIDER,
            status=VerificationStatus.FAILED if duplicate else VerificationStatus.PENDING,
            reason_code=FailureReason.DUPLICATE_ID if duplicate else "",
            id_hash=id_hash,
            birth_date=id_number_birth_date(number),
            masked_name=name_mask(clean_name),
            masked_id_number=id_number_mask(number),
            created_at=now,
            finished_at=now if duplicate else None,
        )
    if duplicate:
        raise ApplicationError(
            "identity_number_in_use",
            _("This ID number already verifies another account. Contact support if it is yours."),
            param="id_number",
            status_code=409,
        )
    try:
        started = get_provider(verification.provider).start(
            name=clean_name, id_number=number, attempt_id=str(verification.uuid)
        )
    except ProviderError as exc:
        logger.warning("identity provider refused to start a session: %s", exc)
        IdentityVerification.objects.filter(pk=verification.pk).update(
            status=VerificationStatus.FAILED,
            reason_code=FailureReason.PROVIDER_UNAVAILABLE,
            provider_code=exc.code[:64],
            finished_at=timezone.now(),
        )
        raise ApplicationError(
            "identity_provider_unavailable",
            _("Identity verification is unavailable right now; try again later."),
            status_code=503,
        ) from None
    with transaction.atomic():
        verification.provider_ref = started.reference[:128]
        verification.save(update_fields=["provider_ref"])
        _check_enqueue(verification_id=verification.pk, countdown=_first_check_delay())
    return StartedVerification(verification=verification, client=started.client)


def _first_check_delay() -> float:
    if settings.IDENTITY_PROVIDER == "console":
        return float(settings.IDENTITY_CONSOLE_DELAY)
    return float(settings.IDENTITY_POLL_INTERVAL)


def _check_enqueue(*, verification_id: int, countdown: float = 0) -> None:
    def enqueue() -> None:
        from accounts.identity.tasks import identity_check_task

        identity_check_task.apply_async(
            kwargs={"verification_id": verification_id}, countdown=countdown
        )

    # robust: if the broker is away the beat task ``default.identity_sweep`` checks it.
    transaction.on_commit(enqueue, robust=True)


def identity_verification_check(*, verification_id: int) -> IdentityVerification | None:
    """Ask the provider how a pending attempt ended and apply it (the worker; P7, P14).

    Idempotent: an attempt that is no longer pending is left alone, so a callback,
    the polling task and the sweep may all arrive. Still pending past
    ``IDENTITY_PENDING_TTL`` fails ``expired``. Raises ProviderTransientError for
    the task to retry.
    """
    verification = IdentityVerification.objects.filter(pk=verification_id).first()
    if verification is None or verification.status != VerificationStatus.PENDING:
        return verification
    if not verification.provider_ref:
        return verification  # the start request is still talking to the provider
    age = (timezone.now() - verification.created_at).total_seconds()
    if age > settings.IDENTITY_PENDING_TTL + 300:  # the provider kept failing: give up
        return _result_apply(
            verification_id=verification_id,
            state="failed",
            reason_code=FailureReason.EXPIRED,
            provider_code="",
            id_number="",
        )
    try:
        result = get_provider(verification.provider).check(
            reference=verification.provider_ref, started_at=verification.created_at
        )
    except ProviderTransientError:
        raise
    except ProviderError as exc:
        return _result_apply(
            verification_id=verification_id,
            state="failed",
            reason_code=FailureReason.PROVIDER_REJECTED,
            provider_code=exc.code,
            id_number="",
        )
    return _result_apply(
        verification_id=verification_id,
        state=result.state,
        reason_code=result.reason_code,
        provider_code=result.provider_code,
        id_number=result.id_number,
    )


# What a finished check writes on the attempt.
_RESULT_FIELDS = ["checked_at", "provider_code", "status", "reason_code", "finished_at"]


def _result_apply(
    *, verification_id: int, state: str, reason_code: str, provider_code: str, id_number: str
) -> IdentityVerification | None:
    now = timezone.now()
    minor = False
    with transaction.atomic():
        verification = (
            IdentityVerification.objects.select_for_update()
            .filter(pk=verification_id)
            .select_related("user")
            .first()
        )
        if verification is None or verification.status != VerificationStatus.PENDING:
            return verification
        verification.checked_at = now
        verification.provider_code = provider_code[:64]
        age = (now - verification.created_at).total_seconds()
        if state == "pending" and age < settings.IDENTITY_PENDING_TTL:
            verification.save(update_fields=["checked_at", "provider_code"])
            return verification
        state, reason_code, minor = _result_judge(
            verification, state=state, reason_code=reason_code, id_number=id_number
        )
        verification.finished_at = now
        if state == "verified":
            _verified_save(verification, now=now)
            return verification
        verification.status = VerificationStatus.FAILED
        verification.reason_code = reason_code or FailureReason.PROVIDER_REJECTED
        verification.save(update_fields=_RESULT_FIELDS)
        if minor:
            _minor_lock(user=verification.user)
    if minor:
        user_id = verification.user_id
        transaction.on_commit(lambda: hooks.minor_handle(user_id=user_id))
    return verification


def _result_judge(
    verification: IdentityVerification, *, state: str, reason_code: str, id_number: str
) -> tuple[str, str, bool]:
    """The final state and reason of a finished check, and whether it shows a minor (a
    check still pending here is past its time)."""
    if state == "pending":
        return "failed", FailureReason.EXPIRED, False
    if state == "verified" and id_number:
        try:
            seen = id_number_hash(id_number_clean(id_number))
        except ApplicationError:
            seen = ""
        if seen != verification.id_hash:
            return "failed", FailureReason.ID_MISMATCH, False
    if state == "verified" and (
        age_in_years(date_of_birth=verification.birth_date) < settings.MEETNOW_MIN_AGE
    ):
        return "failed", FailureReason.UNDERAGE, True
    return state, reason_code, False


def _verified_save(verification: IdentityVerification, *, now: dt.datetime) -> None:
    """Record a verified attempt and mark its account verified, unless another account
    verified the same ID number first (then the attempt fails as a duplicate)."""
    verification.status = VerificationStatus.VERIFIED
    verification.reason_code = ""
    verification.verified_at = now
    try:
        with transaction.atomic():
            verification.save(update_fields=[*_RESULT_FIELDS, "verified_at"])
    except IntegrityError:  # another account verified this number first
        verification.status = VerificationStatus.FAILED
        verification.reason_code = FailureReason.DUPLICATE_ID
        verification.verified_at = None
        verification.save(update_fields=[*_RESULT_FIELDS, "verified_at"])
        return
    user = verification.user
    user.identity_verified = True
    user.date_of_birth = verification.birth_date  # the verified age
    user.save(update_fields=["identity_verified", "date_of_birth"])


def _minor_lock(*, user: User) -> None:
    """P14: the verified ID shows a minor. The account is locked at once (sessions end);
    the minor handler (privacy) then erases it, as a refused sign-up keeps nothing."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    sessions_end_all(user=user)


def identity_verifications_due(*, now: dt.datetime | None = None) -> list[int]:
    """Pending attempts no task checked lately, or past their time (the beat sweep checks
    them: a lost task never leaves an attempt pending for ever)."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=max(60.0, 3 * settings.IDENTITY_POLL_INTERVAL))
    expired = now - dt.timedelta(seconds=settings.IDENTITY_PENDING_TTL)
    unchecked = Q(created_at__lt=stale) & (Q(checked_at__isnull=True) | Q(checked_at__lt=stale))
    return list(
        IdentityVerification.objects.filter(status=VerificationStatus.PENDING)
        .exclude(provider_ref="")
        .filter(unchecked | Q(created_at__lt=expired))
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )


# --- Signed callback -------------------------------------------------------------------


def callback_signature(*, secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """Hex HMAC-SHA256 over ``timestamp\\nnonce\\nbody`` with the shared callback secret."""
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def identity_callback_receive(
    *, provider: str, timestamp: str, nonce: str, signature: str, body: bytes
) -> IdentityVerification:
    """A provider's result notice (P7): signed, fresh, never replayed; then checked by the worker.

    The signature (``X-Identity-Signature``) covers timestamp, nonce and body; a
    timestamp more than ``IDENTITY_CALLBACK_MAX_SKEW`` seconds off, or a nonce seen
    before, is refused (401/409). The callback only says "look now": the result
    itself is fetched from the provider's API by the worker, so a notice can never
    verify anyone by itself. Idempotent: notices about a finished attempt change
    nothing.
    """
    secret = settings.IDENTITY_CALLBACK_SECRET
    if not secret or provider != settings.IDENTITY_PROVIDER:
        raise NotFoundError()
    expected = callback_signature(secret=secret, timestamp=timestamp, nonce=nonce, body=body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise ApplicationError(
            "invalid_signature", _("The callback signature does not match."), status_code=401
        )
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise ApplicationError(
            "invalid_timestamp", _("The callback timestamp is not a number."), status_code=401
        ) from None
    if abs(timezone.now().timestamp() - sent_at) > settings.IDENTITY_CALLBACK_MAX_SKEW:
        raise ApplicationError(
            "stale_callback", _("The callback timestamp is too far off."), status_code=401
        )
    if not nonce or len(nonce) > 64:
        raise ApplicationError(
            "invalid_nonce", _("The callback nonce is missing."), status_code=401
        )
    try:
        payload = json.loads(body)
    except ValueError:
        raise ApplicationError("invalid_json", _("The callback body is not JSON.")) from None
    reference = (
        get_provider(provider).callback_reference(payload=payload)
        if isinstance(payload, dict)
        else ""
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                IdentityCallbackNonce.objects.create(nonce=nonce)
        except IntegrityError:
            raise ApplicationError(
                "replayed_callback", _("This callback was already received."), status_code=409
            ) from None
        verification = (
            IdentityVerification.objects.filter(provider=provider, provider_ref=reference).first()
            if reference
            else None
        )
        if verification is None:
            raise NotFoundError(_("No such verification."))
        if verification.status == VerificationStatus.PENDING:
            _check_enqueue(verification_id=verification.pk)
    return verification


def identity_callback_nonces_purge(*, now: dt.datetime | None = None) -> int:
    """Forget nonces older than twice the allowed skew (a replay of them is stale anyway)."""
    now = now or timezone.now()
    before = now - dt.timedelta(seconds=2 * settings.IDENTITY_CALLBACK_MAX_SKEW)
    deleted, _rows = IdentityCallbackNonce.objects.filter(received_at__lt=before).delete()
    return deleted


# --- Removal, erasure, retention ---------------------------------------------------------


@transaction.atomic
def identity_verification_remove(*, user: User) -> int:
    """Remove every verification of the user and the badge (P7, P13).

    Called when the separate consent is withdrawn (by privacy) and on erasure. The
    date of birth stays the verified one: the person's age is a fact, and a minor
    must not become an adult by withdrawing consent.
    """
    deleted, _rows = IdentityVerification.objects.filter(user=user).delete()
    if user.identity_verified:
        user.identity_verified = False
        user.save(update_fields=["identity_verified"])
    return deleted


def identity_attempts_purge(*, before: dt.datetime, limit: int = 1000) -> int:
    """Delete failed attempts finished before ``before`` (retention, P15), in batches."""
    total = 0
    while True:
        ids = list(
            IdentityVerification.objects.filter(
                status=VerificationStatus.FAILED, created_at__lt=before
            ).values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return total
        IdentityVerification.objects.filter(pk__in=ids).delete()
        total += len(ids)
