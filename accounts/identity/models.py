"""What identity verification keeps (P7, P18): the minimum, never the number or the face.

Loaded with the accounts models (last line of ``accounts/models.py``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class VerificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    VERIFIED = "verified", _("Verified")
    FAILED = "failed", _("Failed")


class FailureReason(models.TextChoices):
    """Why an attempt failed: a code the app can act on (docs/identity.md)."""

    LIVENESS_FAILED = "liveness_failed", _("Liveness check failed")
    FACE_MISMATCH = "face_mismatch", _("Face does not match the ID photo")
    ID_MISMATCH = "id_mismatch", _("Name and ID number do not match")
    DUPLICATE_ID = "duplicate_id", _("ID number already verifies another account")
    UNDERAGE = "underage", _("Under the minimum age")
    EXPIRED = "expired", _("Not finished in time")
    ABANDONED = "abandoned", _("Replaced by a new attempt")
    PROVIDER_REJECTED = "provider_rejected", _("Rejected by the provider")
    PROVIDER_UNAVAILABLE = "provider_unavailable", _("Provider unavailable")


class IdentityVerification(models.Model):
    """One verification attempt of a user.

    Never stored: the face images or video (the provider's liveness step runs in the
    app and we never fetch them), the full ID number, the full name. Stored: the
    number's keyed hash (one ID verifies one account), the birth date it carries
    (the verified age), and masked forms for support (``张*``, ``**************1234``).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("uuid"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="identity_verifications",
        verbose_name=_("user"),
    )
    provider = models.CharField(max_length=32, verbose_name=_("provider"))
    provider_ref = models.CharField(max_length=128, blank=True, verbose_name=_("provider ref"))
    status = models.CharField(
        max_length=10,
        choices=VerificationStatus.choices,
        default=VerificationStatus.PENDING,
        verbose_name=_("status"),
    )
    reason_code = models.CharField(
        max_length=32, choices=FailureReason.choices, blank=True, verbose_name=_("reason code")
    )
    # The provider's own result code (e.g. "ErrCode=-1101"); never personal data.
    provider_code = models.CharField(max_length=64, blank=True, verbose_name=_("provider code"))
    id_hash = models.CharField(max_length=64, db_index=True, verbose_name=_("id hash"))
    birth_date = models.DateField(verbose_name=_("birth date"))
    masked_name = models.CharField(max_length=40, verbose_name=_("masked name"))
    masked_id_number = models.CharField(max_length=18, verbose_name=_("masked id number"))
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )
    checked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("checked at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    verified_at = models.DateTimeField(null=True, blank=True, verbose_name=_("verified at"))

    class Meta:
        verbose_name = _("identity verification")
        verbose_name_plural = _("identity verifications")
        constraints = [
            # One ID number verifies one account (the second is refused: duplicate_id).
            models.UniqueConstraint(
                fields=["id_hash"],
                condition=Q(status="verified"),
                name="accounts_identity_one_account_per_id",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="verified"),
                name="accounts_identity_one_verified_per_user",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="pending"),
                name="accounts_identity_one_pending_per_user",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_ref"],
                condition=~Q(provider_ref=""),
                name="accounts_identity_provider_ref",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="accounts_identity_user_idx"),
            models.Index(fields=["status", "created_at"], name="accounts_identity_status_idx"),
        ]

    def __str__(self) -> str:
        return f"identity verification {self.uuid} ({self.status})"


class IdentityCallbackNonce(models.Model):
    """Nonces of accepted provider callbacks: a replayed callback is refused (no user data)."""

    nonce = models.CharField(max_length=64, unique=True, verbose_name=_("nonce"))
    received_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("received at")
    )

    class Meta:
        verbose_name = _("identity callback nonce")
        verbose_name_plural = _("identity callback nonces")

    def __str__(self) -> str:
        return f"callback nonce at {self.received_at:%Y-%m-%d %H:%M}"
