"""Reads of identity verification: the user's status, attempts left, the export record."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity import hooks
from accounts.identity.models import FailureReason, IdentityVerification, VerificationStatus
from accounts.models import User
from meetnow.lib.timestamps import iso


@dataclass(frozen=True)
class IdentityState:
    """``none`` → ``pending`` → ``verified`` | ``failed`` (with ``reason_code``)."""

    status: str
    reason_code: str
    verified_at: dt.datetime | None
    attempts_left: int
    latest: IdentityVerification | None
    consent_given: bool = False


def identity_state(*, user: User) -> IdentityState:
    """The user's verification as the app shows it, and whether the separate consent
    is given (so the app knows to show the notice first)."""
    latest = IdentityVerification.objects.filter(user=user).order_by("-created_at", "-pk").first()
    verified = (
        latest
        if latest is not None and latest.status == VerificationStatus.VERIFIED
        else IdentityVerification.objects.filter(
            user=user, status=VerificationStatus.VERIFIED
        ).first()
    )
    since = timezone.now() - dt.timedelta(days=1)
    used = (
        IdentityVerification.objects.filter(user=user, created_at__gte=since)
        .exclude(reason_code=FailureReason.PROVIDER_UNAVAILABLE)
        .count()
    )
    left = max(0, settings.IDENTITY_DAILY_ATTEMPTS - used)
    consent = hooks.sensitive_consent_given(user_id=user.pk)
    if verified is not None:
        return IdentityState("verified", "", verified.verified_at, left, verified, consent)
    if latest is None:
        return IdentityState("none", "", None, left, None, consent)
    return IdentityState(latest.status, latest.reason_code, None, left, latest, consent)


def identity_verification_access(*, user: User, verification_uuid: Any) -> IdentityVerification:
    """One of the user's own attempts by its public id; not found for anyone else's."""
    from meetnow.lib.errors import NotFoundError

    found = IdentityVerification.objects.filter(user=user, uuid=verification_uuid).first()
    if found is None:
        raise NotFoundError(_("No such verification."))
    return found


def identity_export_rows(
    *, user_id: int, after: int, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    """The user's verification record for their export: masked forms only (P13, P18)."""
    rows = IdentityVerification.objects.filter(user_id=user_id, pk__gt=after).order_by("pk")[:limit]
    return [
        (
            v.pk,
            {
                "id": str(v.uuid),
                "status": v.status,
                "reason_code": v.reason_code,
                "provider": v.provider,
                "name": v.masked_name,
                "id_number": v.masked_id_number,
                "birth_date": v.birth_date.isoformat(),
                "created_at": iso(v.created_at),
                "finished_at": iso(v.finished_at),
                "verified_at": iso(v.verified_at),
            },
        )
        for v in rows
    ]


def identity_rows_count(*, user_id: int) -> int:
    return IdentityVerification.objects.filter(user_id=user_id).count()
