"""Reads on users, blocks, devices, sessions and security events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from allauth.socialaccount.models import SocialAccount
from allauth.usersessions.models import UserSession
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.hooks import discover_exclusions
from accounts.models import Block, Device, Notice, SecurityEvent, User
from meetnow.lib.errors import NotFoundError


def block_exists_between(*, user_a_id: int, user_b_id: int) -> bool:
    """True when either user blocked the other."""
    return Block.objects.filter(
        Q(blocker_id=user_a_id, blocked_id=user_b_id)
        | Q(blocker_id=user_b_id, blocked_id=user_a_id)
    ).exists()


def blocked_user_ids(*, user_id: int) -> set[int]:
    """Ids of everyone ``user_id`` blocked or was blocked by (one query)."""
    pairs = Block.objects.filter(Q(blocker_id=user_id) | Q(blocked_id=user_id)).values_list(
        "blocker_id", "blocked_id"
    )
    return {b if a == user_id else a for a, b in pairs}


def push_devices_for_users(*, user_ids: Iterable[int]) -> list[Device]:
    """Devices that can receive a push: push enabled, with a token, user active (P10).

    Each carries its user's ``user_language`` and ``user_time_zone`` (the push's
    texts, and any time in them, are in those).
    """
    return list(
        Device.objects.filter(
            user_id__in=list(user_ids),
            user__is_active=True,
            user__banned_at__isnull=True,
            user__push_enabled=True,
            push_enabled=True,
        )
        .exclude(push_token="")
        .annotate(user_language=F("user__language"), user_time_zone=F("user__time_zone"))
    )


# --- Users -------------------------------------------------------------------------


def age_in_years(*, date_of_birth: dt.date, today: dt.date | None = None) -> int:
    """Completed years since ``date_of_birth`` (a 29 February birthday counts on 1 March)."""
    today = today or timezone.localdate()
    before_birthday = (today.month, today.day) < (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - int(before_birthday)


def _years_ago(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a non-leap year
        return today.replace(year=today.year - years, day=28)


def users_visible() -> QuerySet[User]:
    """App users anyone may see: active, not banned, not staff, sign-up finished.

    A sign-up abandoned before the code was entered leaves a row with an unverified
    number; that is nobody's profile yet. (Social sign-ups have no number.)
    """
    return (
        User.objects.filter(is_active=True, banned_at__isnull=True, is_staff=False)
        .exclude(phone__isnull=False, phone_verified=False)
        .select_related("avatar", "voice_intro")
    )


def user_public_get(*, viewer: User, user_uuid: UUID) -> User:
    """Another user's profile as the viewer may see it: not found when blocked either way (P11)."""
    user = users_visible().filter(uuid=user_uuid).first()
    if user is None or (
        user.pk != viewer.pk and block_exists_between(user_a_id=viewer.pk, user_b_id=user.pk)
    ):
        raise NotFoundError(_("No such user."))
    return user


def user_get_by_uuid(*, user_uuid: UUID) -> User:
    user = users_visible().filter(uuid=user_uuid).first()
    if user is None:
        raise NotFoundError(_("No such user."))
    return user


def discover_users(
    *,
    viewer: User,
    gender: str | None = None,
    age_min: int | None = None,
    age_max: int | None = None,
) -> QuerySet[User]:
    """Profiles to browse (P11): active ones, never yourself, anyone blocked either way,
    or anyone who chose to be hidden from discover; nor anyone the upper layers exclude
    (``MEETNOW_DISCOVER_EXCLUSIONS``: dating leaves out people I passed on, liked or
    matched with).

    Everything is excluded in SQL (one query whatever the page size).
    """
    blocked_either_way = Block.objects.filter(
        Q(blocker_id=viewer.pk, blocked_id=OuterRef("pk"))
        | Q(blocker_id=OuterRef("pk"), blocked_id=viewer.pk)
    )
    users = (
        users_visible()
        .exclude(pk=viewer.pk)
        .filter(~Exists(blocked_either_way), hidden_from_discover=False)
    )
    for exclusion in discover_exclusions(viewer_id=viewer.pk):
        users = users.exclude(exclusion)
    if gender:
        users = users.filter(gender=gender)
    today = timezone.localdate()
    if age_min is not None:
        users = users.filter(date_of_birth__lte=_years_ago(today, age_min))
    if age_max is not None:
        users = users.filter(date_of_birth__gt=_years_ago(today, age_max + 1))
    return users


# --- Blocks, devices, sessions, security ----------------------------------------------


def blocks_made(*, user: User) -> QuerySet[Block]:
    return Block.objects.filter(blocker=user).select_related("blocked")


def devices_of(*, user: User) -> QuerySet[Device]:
    return Device.objects.filter(user=user)


def device_get(*, user: User, device_pk: int) -> Device:
    device = Device.objects.filter(user=user, pk=device_pk).first()
    if device is None:
        raise NotFoundError(_("No such device."))
    return device


@dataclass(frozen=True)
class SessionInfo:
    id: int
    created_at: dt.datetime
    last_seen_at: dt.datetime
    ip_address: str | None
    current: bool
    device: Device | None


def sessions_of(*, user: User, current_session_key: str | None) -> list[SessionInfo]:
    """The user's signed-in sessions with the device each was registered from (two queries)."""
    sessions = list(UserSession.objects.filter(user=user).order_by("-last_seen_at", "-pk"))
    devices = {d.session_key: d for d in Device.objects.filter(user=user).exclude(session_key="")}
    out = []
    for session in sessions:
        device = devices.get(session.session_key)
        last_seen = session.last_seen_at
        if device is not None and device.last_seen_at > last_seen:
            last_seen = device.last_seen_at
        out.append(
            SessionInfo(
                id=session.pk,
                created_at=session.created_at,
                last_seen_at=last_seen,
                ip_address=session.ip,
                current=session.session_key == current_session_key,
                device=device,
            )
        )
    return out


def social_accounts_of(*, user: User) -> QuerySet[SocialAccount]:
    accounts: QuerySet[SocialAccount] = SocialAccount.objects.filter(user=user).order_by("pk")
    return accounts


def security_events_of(*, user: User) -> QuerySet[SecurityEvent]:
    return SecurityEvent.objects.filter(user=user)


# --- Notices (the in-app inbox) -------------------------------------------------------


def notices_of(*, user: User) -> QuerySet[Notice]:
    """The user's notices (the API pages them newest first)."""
    return Notice.objects.filter(user=user)


def notices_unread_count(*, user: User) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).count()


def notice_access(*, user: User, notice_id: int) -> Notice:
    """One of the user's notices; anyone else's is ``not_found`` (P13)."""
    notice = Notice.objects.filter(user=user, pk=notice_id).first()
    if notice is None:
        raise NotFoundError(_("No such notice."))
    return notice
