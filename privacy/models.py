"""Privacy: versioned policy documents and the consents users gave to them (P1, P16)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from meetnow.lib.deadlines import effective_due


class DocumentKind(models.TextChoices):
    PRIVACY_POLICY = "privacy_policy", _("Privacy policy")
    USER_AGREEMENT = "user_agreement", _("User service agreement")
    # The separate consent to sensitive personal information for identity
    # verification (P7; PIPL Art. 29): optional, never a condition of using the app.
    IDENTITY_NOTICE = "identity_notice", _("Identity verification notice")


# Documents every user must accept to use the app (sign-up, re-consent gate). The
# identity notice is not one of them: refusing or withdrawing it only removes the
# verification.
REQUIRED_DOCUMENT_KINDS = (DocumentKind.PRIVACY_POLICY, DocumentKind.USER_AGREEMENT)


class PolicyDocument(models.Model):
    """One version of the privacy policy or the user agreement.

    Staff write a draft and publish it in the admin; the newest published version of
    each kind is the current one, which sign-up must accept (P1).
    """

    kind = models.CharField(max_length=20, choices=DocumentKind.choices, verbose_name=_("kind"))
    version = models.CharField(max_length=20, verbose_name=_("version"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    body = models.TextField(verbose_name=_("body"))
    # The same version in Simplified Chinese (issue 17); publishing needs both texts.
    title_zh_hans = models.CharField(max_length=200, blank=True, verbose_name=_("title (Chinese)"))
    body_zh_hans = models.TextField(blank=True, verbose_name=_("body (Chinese)"))
    # A material change requires users to accept the new version again (P16).
    material_change = models.BooleanField(default=True, verbose_name=_("material change"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    published_at = models.DateTimeField(null=True, blank=True, verbose_name=_("published at"))

    class Meta:
        verbose_name = _("policy document")
        verbose_name_plural = _("policy documents")
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

    def text_in(self, language: str) -> tuple[str, str, str]:
        """``(language, title, body)`` shown to a reader of ``language``.

        The Chinese text where the reader asks for Chinese and the version has one,
        else the English text; the first item says which was shown.
        """
        if language == "zh-hans" and self.body_zh_hans:
            return "zh-hans", self.title_zh_hans or self.title, self.body_zh_hans
        return "en", self.title, self.body


class Consent(models.Model):
    """A user accepted a version of a document: when and from which IP (P1)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="consents",
        verbose_name=_("user"),
    )
    document = models.ForeignKey(
        PolicyDocument, on_delete=models.PROTECT, related_name="+", verbose_name=_("document")
    )
    kind = models.CharField(max_length=20, choices=DocumentKind.choices, verbose_name=_("kind"))
    version = models.CharField(max_length=20, verbose_name=_("version"))
    # The language of the text the user was shown and accepted ("en" or "zh-hans").
    language = models.CharField(max_length=10, default="en", verbose_name=_("language"))
    accepted_at = models.DateTimeField(default=timezone.now, verbose_name=_("accepted at"))
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("ip address"))

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["user", "document"], name="privacy_consent_once"),
        ]
        indexes = [models.Index(fields=["user", "kind"], name="privacy_consent_user_idx")]

    def __str__(self) -> str:
        return f"consent to {self.kind} {self.version}"


# --- Privacy requests, erasure, export, processors (issue 6; docs/privacy.md) --------


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Access (export my data)")
    RECTIFICATION = "rectification", _("Rectification (correct my data)")
    ERASURE = "erasure", _("Erasure (delete my account)")
    CONSENT_WITHDRAWAL = "consent_withdrawal", _("Consent withdrawal")


class RequestStatus(models.TextChoices):
    IDENTITY_UNVERIFIED = "identity_unverified", _("Identity not verified")
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")
    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROCESSING = "in_processing", _("In processing")
    COMPLETE = "complete", _("Complete")
    ERROR = "error", _("Error (retryable)")
    CANCELED = "canceled", _("Canceled")
    DUPLICATE = "duplicate", _("Duplicate")


OPEN_REQUEST_STATUSES = (
    RequestStatus.IDENTITY_UNVERIFIED,
    RequestStatus.PENDING,
    RequestStatus.APPROVED,
    RequestStatus.SCHEDULED,
    RequestStatus.IN_PROCESSING,
    RequestStatus.ERROR,
)


class PrivacyRequest(models.Model):
    """A data-subject request (P13, P17): its lifecycle, deadline and job state.

    Everything about a request lives in this row (nothing that matters only in a
    cache or a queue): the job cursor, the lease of the worker holding it, the
    progress shown to the user, the export archive. ``user`` becomes empty when the
    account is erased; the request and its audit trail stay as proof of handling.
    """

    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("uuid"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="privacy_requests",
        verbose_name=_("user"),
    )
    kind = models.CharField(max_length=20, choices=RequestKind.choices, verbose_name=_("kind"))
    status = models.CharField(
        max_length=20,
        choices=RequestStatus.choices,
        default=RequestStatus.IDENTITY_UNVERIFIED,
        verbose_name=_("status"),
    )
    # Rectification: what the user asks to correct (their words; blanked on erasure).
    details = models.TextField(blank=True, verbose_name=_("details"))
    # Consent withdrawal: the document kinds withdrawn.
    document_kinds = models.JSONField(default=list, blank=True, verbose_name=_("document kinds"))
    received_at = models.DateTimeField(default=timezone.now, verbose_name=_("received at"))
    identity_verified_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("identity verified at")
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reviewed at"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    denial_reason = models.TextField(blank=True, verbose_name=_("denial reason"))
    due_at = models.DateTimeField(verbose_name=_("due at"))
    extended_due_at = models.DateTimeField(null=True, blank=True, verbose_name=_("extended due at"))
    extension_reason = models.TextField(blank=True, verbose_name=_("extension reason"))
    scheduled_for = models.DateTimeField(null=True, blank=True, verbose_name=_("scheduled for"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    canceled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("canceled at"))
    cancel_reason = models.TextField(blank=True, verbose_name=_("cancel reason"))
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("duplicate of"),
    )
    legal_hold_at = models.DateTimeField(null=True, blank=True, verbose_name=_("legal hold at"))
    legal_hold_reason = models.TextField(blank=True, verbose_name=_("legal hold reason"))
    error_code = models.CharField(max_length=64, blank=True, verbose_name=_("error code"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    progress = models.PositiveSmallIntegerField(default=0, verbose_name=_("progress"))
    # Where the chunked job is (phase, last id, part number); never personal values.
    cursor = models.JSONField(default=dict, blank=True, verbose_name=_("cursor"))
    # Claimed with a conditional update: a worker owns the job until lease_until.
    lease_token = models.CharField(max_length=32, blank=True, verbose_name=_("lease token"))
    lease_until = models.DateTimeField(null=True, blank=True, verbose_name=_("lease until"))
    archive_key = models.CharField(max_length=255, blank=True, verbose_name=_("archive key"))
    archive_size = models.PositiveBigIntegerField(
        null=True, blank=True, verbose_name=_("archive size")
    )
    archive_expires_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("archive expires at")
    )
    archive_deleted_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("archive deleted at")
    )
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")
        constraints = [
            # One open erasure per account, even under concurrent requests.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(kind="erasure")
                & Q(
                    status__in=[
                        "identity_unverified",
                        "pending",
                        "approved",
                        "scheduled",
                        "in_processing",
                        "error",
                    ]
                ),
                name="privacy_request_one_open_erasure",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-received_at"], name="privacy_req_user_idx"),
            models.Index(fields=["status", "due_at"], name="privacy_req_status_due_idx"),
            models.Index(fields=["kind", "status", "scheduled_for"], name="privacy_req_sched_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} request {self.uuid}"

    @property
    def effective_due_at(self) -> dt.datetime:
        return effective_due(self.due_at, self.extended_due_at)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REQUEST_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.effective_due_at < timezone.now()

    @property
    def on_legal_hold(self) -> bool:
        return self.legal_hold_at is not None


class ActorRole(models.TextChoices):
    USER = "user", _("User")
    STAFF = "staff", _("Staff")
    SYSTEM = "system", _("System")


class PrivacyRequestEvent(models.Model):
    """Append-only audit trail of a request: who did what, when (never personal values)."""

    request = models.ForeignKey(
        PrivacyRequest, on_delete=models.CASCADE, related_name="events", verbose_name=_("request")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_role = models.CharField(
        max_length=8, choices=ActorRole.choices, verbose_name=_("actor role")
    )
    action = models.CharField(max_length=40, verbose_name=_("action"))
    from_status = models.CharField(max_length=20, blank=True, verbose_name=_("from status"))
    to_status = models.CharField(max_length=20, blank=True, verbose_name=_("to status"))
    # Staff reasons (denial, extension, hold): shown to the user, never personal data.
    note = models.TextField(blank=True, verbose_name=_("note"))
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("privacy request event")
        verbose_name_plural = _("privacy request events")
        indexes = [models.Index(fields=["request", "id"], name="privacy_event_req_idx")]

    def __str__(self) -> str:
        return f"{self.action} on request {self.request_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)


class ErasureStep(models.Model):
    """Per-step log of an erasure: model, action and row count (never values)."""

    request = models.ForeignKey(
        PrivacyRequest, on_delete=models.CASCADE, related_name="steps", verbose_name=_("request")
    )
    model = models.CharField(max_length=100, verbose_name=_("model"))
    action = models.CharField(max_length=40, verbose_name=_("action"))
    count = models.PositiveBigIntegerField(default=0, verbose_name=_("count"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("erasure step")
        verbose_name_plural = _("erasure steps")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "model", "action"], name="privacy_step_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.action} {self.count}"


class ErasureLedgerEntry(models.Model):
    """An erasure that must survive a database restore (P13, P18).

    Salted hashes only (``privacy.erasure.subject_hash``): after a restore,
    ``manage.py privacy_reapply_erasures`` finds restored accounts by them and
    erases them again. ``consent_proof`` keeps which versions were accepted and
    when (no IP) for the legal retention, then the retention purge empties it.
    """

    user_hash = models.CharField(max_length=64, unique=True, verbose_name=_("user hash"))
    phone_hash = models.CharField(
        max_length=64, blank=True, db_index=True, verbose_name=_("phone hash")
    )
    request_uuid = models.UUIDField(null=True, blank=True, verbose_name=_("request uuid"))
    erased_at = models.DateTimeField(default=timezone.now, verbose_name=_("erased at"))
    reapplied_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reapplied at"))
    consent_proof = models.JSONField(default=list, blank=True, verbose_name=_("consent proof"))
    consent_proof_until = models.DateTimeField(
        null=True, blank=True, verbose_name=_("consent proof until")
    )

    class Meta:
        verbose_name = _("erasure ledger entry")
        verbose_name_plural = _("erasure ledger entries")

    def __str__(self) -> str:
        return f"erasure {self.user_hash[:12]}"


class ConsentWithdrawal(models.Model):
    """The user withdrew consent to a document version (P13, P16).

    ``restored_at`` is set when they accept the current version again. While a
    withdrawal of the privacy policy or agreement is open, the account can't be used
    (except to read and accept, export or delete).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="consent_withdrawals",
        verbose_name=_("user"),
    )
    document = models.ForeignKey(
        PolicyDocument, on_delete=models.PROTECT, related_name="+", verbose_name=_("document")
    )
    kind = models.CharField(max_length=20, choices=DocumentKind.choices, verbose_name=_("kind"))
    version = models.CharField(max_length=20, verbose_name=_("version"))
    withdrawn_at = models.DateTimeField(default=timezone.now, verbose_name=_("withdrawn at"))
    restored_at = models.DateTimeField(null=True, blank=True, verbose_name=_("restored at"))

    class Meta:
        verbose_name = _("consent withdrawal")
        verbose_name_plural = _("consent withdrawals")
        indexes = [models.Index(fields=["user", "kind"], name="privacy_withdrawal_user_idx")]

    def __str__(self) -> str:
        return f"withdrawal of {self.kind} {self.version}"


class ProcessorBackend(models.TextChoices):
    """The configuration that makes MeetNow's code send data to a processor (P9)."""

    SMS_TWILIO = "sms_twilio", _("SMS_BACKEND=twilio")
    SMS_HTTP = "sms_http", _("SMS_BACKEND=http")
    STORAGE_S3 = "storage_s3", _("STORAGE_BACKEND=s3")
    TURN = "turn", _("MEETNOW_TURN_URLS set")
    PUSH_FCM = "push_fcm", _("PUSH_BACKEND=fcm or native")
    PUSH_APNS = "push_apns", _("PUSH_BACKEND=apns or native")
    IDENTITY_TENCENT = "identity_tencent", _("IDENTITY_PROVIDER=tencent")
    LOGIN_GOOGLE = "login_google", _("GOOGLE_CLIENT_IDS set")
    LOGIN_APPLE = "login_apple", _("APPLE_CLIENT_IDS set")
    LOGIN_FACEBOOK = "login_facebook", _("FACEBOOK_APP_IDS set")
    LOGIN_WECHAT = "login_wechat", _("WECHAT_APP_IDS set")


class Processor(models.Model):
    """A third-party processor or SDK and the data it receives (P9), edited by staff.

    A row tied to a ``backend`` is listed only while that backend is configured, so
    the public list follows the settings; a row without one is always listed.
    """

    name = models.CharField(max_length=100, verbose_name=_("name"))
    purpose = models.CharField(max_length=200, verbose_name=_("purpose"))
    data_categories = models.TextField(
        help_text=_("What data it receives, in plain words."), verbose_name=_("data categories")
    )
    # The same entry in Simplified Chinese (issue 17); the admin asks for both texts.
    name_zh_hans = models.CharField(max_length=100, verbose_name=_("name (Chinese)"))
    purpose_zh_hans = models.CharField(max_length=200, verbose_name=_("purpose (Chinese)"))
    data_categories_zh_hans = models.TextField(verbose_name=_("data categories (Chinese)"))
    country = models.CharField(max_length=64, blank=True, verbose_name=_("country"))
    website = models.URLField(blank=True, verbose_name=_("website"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    backend = models.CharField(
        max_length=20,
        choices=ProcessorBackend.choices,
        blank=True,
        help_text=_("Listed only while this backend is configured; empty: always listed."),
        verbose_name=_("backend"),
    )
    position = models.PositiveIntegerField(default=0, verbose_name=_("position"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("processor")
        verbose_name_plural = _("processors")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def text_in(self, language: str) -> tuple[str, str, str, str]:
        """``(language, name, purpose, data categories)`` shown to a reader of ``language``.

        The Chinese text where the reader asks for Chinese and the row has it (a row
        staff added before issue 17 may not), else the English one; the first item
        says which was shown.
        """
        if language == "zh-hans" and self.data_categories_zh_hans:
            return (
                "zh-hans",
                self.name_zh_hans or self.name,
                self.purpose_zh_hans or self.purpose,
                self.data_categories_zh_hans,
            )
        return "en", self.name, self.purpose, self.data_categories
