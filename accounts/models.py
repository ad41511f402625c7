"""The MeetNow user.

App users sign up with a mobile number and a one-time code: no username, no email,
no password. Staff additionally get a ``username`` and password for the admin.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
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
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")


class DmFrom(models.TextChoices):
    """Who may start a direct conversation with the user (issue 15)."""

    EVERYONE = "everyone", _("Everyone (strangers as message requests)")
    MATCHES_ONLY = "matches_only", _("Matches only")


class User(AbstractBaseUser, PermissionsMixin):
    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("uuid"))
    # Only staff have a username (admin login); app users are known by phone.
    username = models.CharField(
        max_length=150,
        unique=True,
        null=True,
        blank=True,
        validators=[UnicodeUsernameValidator()],
        verbose_name=_("username"),
    )
    phone = PhoneNumberField(null=True, blank=True, db_index=True, verbose_name=_("phone"))
    phone_verified = models.BooleanField(default=False, verbose_name=_("phone verified"))
    nickname = models.CharField(max_length=40, blank=True, verbose_name=_("nickname"))
    gender = models.CharField(
        max_length=10, choices=Gender.choices, blank=True, verbose_name=_("gender")
    )
    date_of_birth = models.DateField(null=True, blank=True, verbose_name=_("date of birth"))
    bio = models.CharField(max_length=500, blank=True, verbose_name=_("bio"))
    # Profile media (P4: optional). Files are private; accounts signs their URLs for
    # whoever may see the profile (P11).
    avatar = models.ForeignKey(
        "media.MediaFile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("avatar"),
    )
    voice_intro = models.ForeignKey(
        "media.MediaFile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("voice intro"),
    )
    # What the backend says to the user when no request says it (SMS and voice codes,
    # pushes, privacy notices, the export; staff: the admin): set at sign-up from the
    # request, changed through /me (issue 17).
    language = models.CharField(
        max_length=10, choices=settings.LANGUAGES, default="en", verbose_name=_("language")
    )
    # An IANA zone the app sent ("Asia/Shanghai"); empty: Asia/Shanghai for zh-Hans, else UTC.
    time_zone = models.CharField(max_length=64, blank=True, verbose_name=_("time zone"))
    # Account-wide push preference (P10); each device also has its own switch.
    push_enabled = models.BooleanField(default=True, verbose_name=_("push enabled"))
    # Not shown in discover nor in the voice-post feed (dating); the profile and posts
    # stay reachable through a conversation or a direct link.
    hidden_from_discover = models.BooleanField(
        default=False, verbose_name=_("hidden from discover")
    )
    # Who may start a direct conversation: everyone (a stranger's first messages are a
    # message request) or matches only (chat refuses the others; 403 dm_matches_only).
    dm_from = models.CharField(
        max_length=12,
        choices=DmFrom.choices,
        default=DmFrom.EVERYONE,
        verbose_name=_("direct messages from"),
    )
    # Identity verification (P7; accounts/identity): the badge on the public card. Set
    # and cleared only by accounts.identity.services; date_of_birth then is the one the
    # verified ID number carries.
    identity_verified = models.BooleanField(default=False, verbose_name=_("identity verified"))
    # Set by moderators: sessions end at once and logins are refused (account_banned).
    banned_at = models.DateTimeField(null=True, blank=True, verbose_name=_("banned at"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    is_staff = models.BooleanField(default=False, verbose_name=_("is staff"))
    date_joined = models.DateTimeField(default=timezone.now, verbose_name=_("date joined"))

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
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

    blocker = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="blocks_made", verbose_name=_("blocker")
    )
    blocked = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="blocks_received", verbose_name=_("blocked")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
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
    IOS = "ios", _("iOS")
    ANDROID = "android", _("Android")


class Device(models.Model):
    """A phone the user signed in on: exactly the device data the policy lists (P5).

    ``session_key`` ties the device to the session token it was registered with, so
    removing the device ends that session.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="devices", verbose_name=_("user")
    )
    device_id = models.CharField(
        max_length=128, help_text=_("App-scoped identifier"), verbose_name=_("device id")
    )
    platform = models.CharField(max_length=10, choices=Platform.choices, verbose_name=_("platform"))
    model = models.CharField(max_length=64, blank=True, verbose_name=_("model"))
    os_version = models.CharField(max_length=32, blank=True, verbose_name=_("os version"))
    app_version = models.CharField(max_length=32, blank=True, verbose_name=_("app version"))
    network_type = models.CharField(max_length=16, blank=True, verbose_name=_("network type"))
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("ip address"))
    push_token = models.CharField(max_length=512, blank=True, verbose_name=_("push token"))
    push_enabled = models.BooleanField(default=True, verbose_name=_("push enabled"))
    session_key = models.CharField(max_length=64, blank=True, verbose_name=_("session key"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    last_seen_at = models.DateTimeField(default=timezone.now, verbose_name=_("last seen at"))

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [
            models.UniqueConstraint(fields=["user", "device_id"], name="accounts_device_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.platform} device {self.pk}"


class SecurityEventKind(models.TextChoices):
    LOGIN_SUCCEEDED = "login_succeeded", _("Login succeeded")
    LOGIN_FAILED = "login_failed", _("Login failed")
    NEW_DEVICE = "new_device", _("Login from a new device")
    CODE_ABUSE = "code_abuse", _("Code requests rate-limited")
    SESSION_ENDED = "session_ended", _("Session ended")
    ACCOUNT_BANNED = "account_banned", _("Account banned")
    LOGIN_REFUSED_BANNED = "login_refused_banned", _("Login refused (banned)")
    PROVIDER_UNLINKED = "provider_unlinked", _("Third-party account unlinked")


class SecurityEvent(models.Model):
    """Account security log (P6): what happened, when, from which IP and device.

    Never holds a phone number or a code. ``user`` is empty for events that could not
    be tied to an account (e.g. code requests rate-limited for an unknown caller).
    Kept for a bounded time (retention arrives with the privacy issue).
    """

    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="security_events",
        verbose_name=_("user"),
    )
    kind = models.CharField(
        max_length=32, choices=SecurityEventKind.choices, verbose_name=_("kind")
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("ip address"))
    device = models.ForeignKey(
        Device,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("device"),
    )
    # Small structured context (e.g. {"method": "code"}); never personal data.
    detail = models.JSONField(default=dict, blank=True, verbose_name=_("detail"))
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        indexes = [models.Index(fields=["user", "-created_at"], name="accounts_secev_user_idx")]

    def __str__(self) -> str:
        return f"{self.kind} at {self.created_at:%Y-%m-%d %H:%M}"


class SmsChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    VOICE = "voice", _("Voice call")


class SmsPurpose(models.TextChoices):
    VERIFY_PHONE = "verify_phone", _("Phone verification (sign-up)")
    LOGIN = "login", _("Login code")
    REAUTHENTICATE = "reauthenticate", _("Reauthentication code")
    # Enumeration prevention: texts without a code.
    UNKNOWN_ACCOUNT = "unknown_account", _("No account notice")
    ACCOUNT_EXISTS = "account_exists", _("Account exists notice")


class SmsStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RETRYING = "retrying", _("Retrying")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class SmsDelivery(models.Model):
    """One code delivery by the worker (P2). Never stores the code or the full number."""

    masked_phone = models.CharField(max_length=32, verbose_name=_("masked phone"))
    purpose = models.CharField(max_length=20, choices=SmsPurpose.choices, verbose_name=_("purpose"))
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    channel = models.CharField(max_length=8, choices=SmsChannel.choices, verbose_name=_("channel"))
    # The language of the text: the user's, or the request's for a number with no account.
    language = models.CharField(
        max_length=10, choices=settings.LANGUAGES, default="en", verbose_name=_("language")
    )
    backend = models.CharField(max_length=32, verbose_name=_("backend"))
    provider_id = models.CharField(max_length=128, blank=True, verbose_name=_("provider id"))
    status = models.CharField(
        max_length=10, choices=SmsStatus.choices, default=SmsStatus.QUEUED, verbose_name=_("status")
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.CharField(max_length=200, blank=True, verbose_name=_("last error"))
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("sms delivery")
        verbose_name_plural = _("SMS deliveries")

    def __str__(self) -> str:
        return f"{self.channel} to {self.masked_phone} ({self.status})"


# Identity verification (issue 18): models in accounts/identity/models.py, loaded here.
from accounts.identity.models import IdentityCallbackNonce, IdentityVerification  # noqa: E402, F401


class Notice(models.Model):
    """A message to the user in the app's inbox (P13, P17): the outcome of a privacy
    request or a support ticket, an export ready to download.

    Holds a ``kind`` code and its ``params`` (ids, codes, a staff reason), never a
    finished text: the text is written when it is read, in the reader's language
    (``accounts/notices.py``), so a notice still reads right after a language change.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notices", verbose_name=_("user")
    )
    kind = models.CharField(max_length=64, verbose_name=_("kind"))
    params = models.JSONField(default=dict, blank=True, verbose_name=_("parameters"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        indexes = [
            models.Index(fields=["user", "-id"], name="accounts_notice_user_idx"),
            models.Index(
                fields=["user"],
                condition=Q(read_at__isnull=True),
                name="accounts_notice_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} notice {self.pk}"
