"""Privacy: versioned policy documents and the consents users gave to them (P1, P16)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class DocumentKind(models.TextChoices):
    PRIVACY_POLICY = "privacy_policy", "Privacy policy"
    USER_AGREEMENT = "user_agreement", "User service agreement"


class PolicyDocument(models.Model):
    """One version of the privacy policy or the user agreement.

    Staff write a draft and publish it in the admin; the newest published version of
    each kind is the current one, which sign-up must accept (P1).
    """

    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    version = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    body = models.TextField()
    # A material change requires users to accept the new version again (P16).
    material_change = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="privacy_document_version"),
        ]
        indexes = [
            models.Index(
                fields=["kind", "-published_at"],
                condition=Q(published_at__isnull=False),
                name="privacy_doc_published_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Consent(models.Model):
    """A user accepted a version of a document: when and from which IP (P1)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents"
    )
    document = models.ForeignKey(PolicyDocument, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    version = models.CharField(max_length=20)
    accepted_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "document"], name="privacy_consent_once"),
        ]
        indexes = [models.Index(fields=["user", "kind"], name="privacy_consent_user_idx")]

    def __str__(self) -> str:
        return f"consent to {self.kind} {self.version}"
