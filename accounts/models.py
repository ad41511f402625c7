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
