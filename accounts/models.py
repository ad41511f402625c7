"""The MeetNow user.

App users sign up with a mobile number and a one-time code: no username, no email,
no password. Staff additionally get a ``username`` and password for the admin.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, *, password: str | None = None, **fields: Any) -> User:
        user = self.model(**fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(username=username, password=password, **fields)


class Gender(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"


class User(AbstractBaseUser, PermissionsMixin):
    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Only staff have a username (admin login); app users are known by phone.
    username = models.CharField(
        max_length=150,
        unique=True,
        null=True,
        blank=True,
        validators=[UnicodeUsernameValidator()],
    )
    phone = PhoneNumberField(null=True, blank=True, db_index=True)
    phone_verified = models.BooleanField(default=False)
    nickname = models.CharField(max_length=40, blank=True)
    gender = models.CharField(max_length=10, choices=Gender.choices, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    bio = models.CharField(max_length=500, blank=True)
    # Profile media (P4: optional). Files are private; accounts signs their URLs for
    # whoever may see the profile (P11).
    avatar = models.ForeignKey(
        "media.MediaFile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    voice_intro = models.ForeignKey(
        "media.MediaFile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Account-wide push preference (P10); each device also has its own switch.
    push_enabled = models.BooleanField(default=True)
    # Identity verification (P7; accounts/identity): the badge on the public card. Set
    # and cleared only by accounts.identity.services; date_of_birth then is the one the
    # verified ID number carries.
    identity_verified = models.BooleanField(default=False)
    # Set by moderators: sessions end at once and logins are refused (account_banned).
    banned_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(phone_verified=True),
                name="accounts_user_unique_verified_phone",
            ),
        ]

    def __str__(self) -> str:
        return self.nickname or f"user {self.uuid}"

    @property
    def is_banned(self) -> bool:
        return self.banned_at is not None


class Block(models.Model):
    """``blocker`` does not want contact with ``blocked`` (honoured by discover, chat, calls)."""

    blocker = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks_made")
    blocked = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks_received")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="accounts_block_unique"),
            models.CheckConstraint(
                condition=~Q(blocker=models.F("blocked")), name="accounts_block_not_self"
            ),
        ]
        indexes = [models.Index(fields=["blocked", "blocker"], name="accounts_block_rev_idx")]

    def __str__(self) -> str:
        return f"block {self.pk}"


class Platform(models.TextChoices):
    IOS = "ios", "iOS"
    ANDROID = "android", "Android"


class Device(models.Model):
    """A phone the user signed in on: exactly the device data the policy lists (P5).

    ``session_key`` ties the device to the session token it was registered with, so
    removing the device ends that session.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="devices")
    device_id = models.CharField(max_length=128, help_text="App-scoped identifier")
    platform = models.CharField(max_length=10, choices=Platform.choices)
    model = models.CharField(max_length=64, blank=True)
    os_version = models.CharField(max_length=32, blank=True)
    app_version = models.CharField(max_length=32, blank=True)
    network_type = models.CharField(max_length=16, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    push_token = models.CharField(max_length=512, blank=True)
    push_enabled = models.BooleanField(default=True)
    session_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "device_id"], name="accounts_device_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.platform} device {self.pk}"


class SecurityEventKind(models.TextChoices):
    LOGIN_SUCCEEDED = "login_succeeded", "Login succeeded"
    LOGIN_FAILED = "login_failed", "Login failed"
    NEW_DEVICE = "new_device", "Login from a new device"
    CODE_ABUSE = "code_abuse", "Code requests rate-limited"
    SESSION_ENDED = "session_ended", "Session ended"
    ACCOUNT_BANNED = "account_banned", "Account banned"
    LOGIN_REFUSED_BANNED = "login_refused_banned", "Login refused (banned)"
    PROVIDER_UNLINKED = "provider_unlinked", "Third-party account unlinked"


class SecurityEvent(models.Model):
    """Account security log (P6): what happened, when, from which IP and device.

    Never holds a phone number or a code. ``user`` is empty for events that could not
    be tied to an account (e.g. code requests rate-limited for an unknown caller).
    Kept for a bounded time (retention arrives with the privacy issue).
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="security_events"
    )
    kind = models.CharField(max_length=32, choices=SecurityEventKind.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    device = models.ForeignKey(
        Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Small structured context (e.g. {"method": "code"}); never personal data.
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="accounts_secev_user_idx")]

    def __str__(self) -> str:
        return f"{self.kind} at {self.created_at:%Y-%m-%d %H:%M}"


class SmsChannel(models.TextChoices):
    SMS = "sms", "SMS"
    VOICE = "voice", "Voice call"


class SmsPurpose(models.TextChoices):
    VERIFY_PHONE = "verify_phone", "Phone verification (sign-up)"
    LOGIN = "login", "Login code"
    REAUTHENTICATE = "reauthenticate", "Reauthentication code"
    # Enumeration prevention: texts without a code.
    UNKNOWN_ACCOUNT = "unknown_account", "No account notice"
    ACCOUNT_EXISTS = "account_exists", "Account exists notice"


class SmsStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RETRYING = "retrying", "Retrying"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class SmsDelivery(models.Model):
    """One code delivery by the worker (P2). Never stores the code or the full number."""

    masked_phone = models.CharField(max_length=32)
    purpose = models.CharField(max_length=20, choices=SmsPurpose.choices)
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=SmsChannel.choices)
    backend = models.CharField(max_length=32)
    provider_id = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=10, choices=SmsStatus.choices, default=SmsStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "SMS deliveries"

    def __str__(self) -> str:
        return f"{self.channel} to {self.masked_phone} ({self.status})"


# Identity verification (issue 18): models in accounts/identity/models.py, loaded here.
from accounts.identity.models import IdentityCallbackNonce, IdentityVerification  # noqa: E402, F401
