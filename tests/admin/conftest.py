"""Fixtures for admin tests: staff accounts by role, TOTP codes, signed-in clients."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.conf import LazySettings, settings
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import User
from accounts.services import staff_create
from staff import mfa
from staff.roles import MODERATORS, SUPPORT, roles_sync

PASSWORD = "correct horse battery staple 7"


def totp_code(secret: str, *, offset: int = 0) -> str:
    """The code an authenticator app shows now (or ``offset`` periods away)."""
    if time.time() % 30 > 28:  # don't hand out a code in its last moment
        time.sleep(30 - time.time() % 30 + 0.1)
    code: str = format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))
    return code


def enrol_totp(user: User) -> tuple[str, list[str]]:
    """Give ``user`` an authenticator app and recovery codes; returns (secret, codes)."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    codes = RecoveryCodes.activate(user).get_unused_codes()
    return secret, codes


def login_mfa_passed(client: Client, user: User) -> Client:
    """A client signed in as ``user`` who has passed the second factor (test shortcut)."""
    client.force_login(user)
    session = client.session
    session[mfa.SESSION_MFA_USER] = user.pk
    session[mfa.SESSION_LAST_SEEN] = int(time.time())
    session.set_expiry(settings.MEETNOW_STAFF_IDLE_TIMEOUT)
    session.save()
    return client


@pytest.fixture(autouse=True)
def _staff_settings(settings: LazySettings) -> None:
    # As in every server process (tests/conftest.py turns it off for the apps' admin tests).
    settings.MEETNOW_STAFF_MFA_REQUIRED = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_staff(db: None) -> Callable[..., User]:
    def make(username: str, *, role: str | None = None, superuser: bool = False) -> User:
        user = staff_create(username=username, password=PASSWORD, superuser=superuser)
        if role is not None:
            roles_sync()
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def moderator(make_staff: Callable[..., User]) -> User:
    return make_staff("mod", role=MODERATORS)


@pytest.fixture
def support_agent(make_staff: Callable[..., User]) -> User:
    return make_staff("support", role=SUPPORT)


@pytest.fixture
def superuser(make_staff: Callable[..., User]) -> User:
    return make_staff("root", superuser=True)
