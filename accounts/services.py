"""Writes on users (HackSoft style: ``<entity>_<verb>``, keyword-only, typed)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from accounts.models import User


@transaction.atomic
def user_create(
    *,
    phone: str | None = None,
    phone_verified: bool = False,
    nickname: str = "",
    gender: str = "",
    date_of_birth: dt.date | None = None,
) -> User:
    """Create an app user (no password: they log in by one-time code)."""
    user = User(
        phone=phone,
        phone_verified=phone_verified,
        nickname=nickname,
        gender=gender,
        date_of_birth=date_of_birth,
    )
    user.set_unusable_password()
    user.full_clean(exclude=["password", "username"])
    user.save()
    return user


@transaction.atomic
def staff_create(*, username: str, password: str, superuser: bool = False) -> User:
    """Create a staff account that logs in to the admin with a username and password."""
    user = User(username=username, is_staff=True, is_superuser=superuser)
    user.set_password(password)
    user.save()
    return user
