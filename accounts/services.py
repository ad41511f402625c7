"""Writes on users, profiles, blocks, devices, sessions, security events and code deliveries.

HackSoft style: ``<entity>_<verb>``, keyword-only, typed; each docstring names the
policy promise it keeps. Services own their transactions and enqueue work after commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import (
    Block,
    Device,
    Notice,
    Platform,
    SecurityEvent,
    SecurityEventKind,
    SmsChannel,
    SmsDelivery,
    SmsPurpose,
    SmsStatus,
    User,
)
from accounts.phones import phone_mask
from accounts.sms import sealing
from accounts.sms.backends import OutgoingMessage, SmsPermanentError, get_backend
from media.models import MediaFile, Purpose
from media.services import media_file_attach, media_file_detach
from meetnow.lib.errors import ApplicationError, NotFoundError
from meetnow.lib.i18n import display, language_current, time_zone_valid, user_language
from meetnow.lib.realtime import sessions_close

# --- Users -------------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    phone: str | None = None,
    phone_verified: bool = False,
    nickname: str = "",
    gender: str = "",
    date_of_birth: dt.date | None = None,
) -> User:
    """Create an app user (no password: they log in by one-time code; P2, P4)."""
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
    """Create a staff account for the admin: username, password, then a second factor (P12)."""
    user = User(username=username, is_staff=True, is_superuser=superuser)
    user.set_password(password)
    user.save()
    return user


def user_date_of_birth_declare(*, user: User, date_of_birth: dt.date) -> None:
    """Record the date of birth of an account that has none (made outside sign-up, P14).

    Never changes one already set: the app can't edit it (``MeApi``), and a verified
    ID's birth date replaces a declared one only through identity verification.
    """
    if user.date_of_birth is not None:
        raise ApplicationError(
            "date_of_birth_set",
            _("Your date of birth is already on your account."),
            param="date_of_birth",
        )
    user.date_of_birth = date_of_birth
    user.save(update_fields=["date_of_birth"])


def user_phone_set(*, user: User, phone: str, verified: bool) -> None:
    """Attach a number (E.164) to the user; allauth calls this through the adapter (P2)."""
    user.phone = phone
    user.phone_verified = verified
    if user.pk:
        user.save(update_fields=["phone", "phone_verified"])


@transaction.atomic
def user_phone_verify(*, user: User, phone: str) -> None:
    """Mark ``phone`` verified for ``user``: the code sent to it was entered (P2).

    Unverified rows of abandoned sign-ups that still hold the number let go of it,
    so the number belongs to exactly one verified account.
    """
    User.objects.filter(phone=phone, phone_verified=False).exclude(pk=user.pk).update(phone=None)
    user.phone = phone
    user.phone_verified = True
    try:
        with transaction.atomic():
            user.save(update_fields=["phone", "phone_verified"])
    except IntegrityError:
        raise ApplicationError(
            "phone_taken", _("This number belongs to another account."), param="phone"
        ) from None


_PROFILE_FIELDS = (
    "nickname",
    "gender",
    "bio",
    "push_enabled",
    "language",
    "time_zone",
    "hidden_from_discover",
    "dm_from",
)
# Profile media field -> the upload purpose it takes.
_PROFILE_MEDIA = {"avatar": Purpose.AVATAR, "voice_intro": Purpose.VOICE_INTRO}


@transaction.atomic
def user_profile_update(*, user: User, data: dict[str, Any]) -> User:
    """Change the profile fields given in ``data``; every one is optional (P4, P10).

    ``avatar`` and ``voice_intro`` take the id of the user's own upload with that
    purpose (pending or ready; it shows once processed), or ``None`` to remove it.
    A replaced or removed file is detached, so media's sweep deletes it (P15).
    ``language`` and ``time_zone`` say how later texts (SMS, pushes, notices) read.
    """
    if "language" in data and data["language"] not in dict(settings.LANGUAGES):
        raise ApplicationError("invalid_language", _("Unknown language."), param="language")
    if "time_zone" in data and not time_zone_valid(data["time_zone"]):
        raise ApplicationError("invalid_time_zone", _("Unknown time zone."), param="time_zone")
    changed = [name for name in _PROFILE_FIELDS if name in data]
    for name in changed:
        setattr(user, name, data[name])
    for name, purpose in _PROFILE_MEDIA.items():
        if name not in data:
            continue
        previous: MediaFile | None = getattr(user, name)
        new = None
        if data[name] is not None:
            try:
                new = media_file_attach(owner=user, media_uuid=data[name], purposes=(purpose,))
            except ApplicationError as exc:  # name the field the app sent
                raise ApplicationError(exc.code, exc.message, param=name) from exc
        if previous is not None and (new is None or previous.pk != new.pk):
            media_file_detach(media_file=previous)
        setattr(user, name, new)
        changed.append(name)
    if changed:
        user.save(update_fields=changed)
    return user


@transaction.atomic
def user_ban(*, user: User, ip_address: str | None = None) -> User:
    """Ban an account: its sessions end at once and its logins are refused (P6).

    The account is also made inactive, so a token that was never tracked as a session
    stops working too.
    """
    user.banned_at = timezone.now()
    user.is_active = False
    user.save(update_fields=["banned_at", "is_active"])
    sessions_end_all(user=user)
    security_event_record(user=user, kind=SecurityEventKind.ACCOUNT_BANNED, ip_address=ip_address)
    return user


@transaction.atomic
def user_unban(*, user: User) -> User:
    """Lift a ban: the person can log in again (P6)."""
    user.banned_at = None
    user.is_active = True
    user.save(update_fields=["banned_at", "is_active"])
    return user


# --- Blocks ------------------------------------------------------------------


@transaction.atomic
def block_create(*, blocker: User, blocked: User) -> Block:
    """``blocker`` no longer sees or hears from ``blocked`` (discover, chat, calls; P11)."""
    if blocker.pk == blocked.pk:
        raise ApplicationError("cannot_block_self", _("You cannot block yourself."))
    block, _created = Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    return block


@transaction.atomic
def block_delete(*, blocker: User, blocked: User) -> None:
    """Lift a block; nothing happens if there was none (P11)."""
    Block.objects.filter(blocker=blocker, blocked=blocked).delete()


# --- Devices and sessions ------------------------------------------------------

DEVICE_FIELDS = (
    "platform",
    "model",
    "os_version",
    "app_version",
    "network_type",
    "push_token",
    "push_enabled",
)


@transaction.atomic
def device_register(
    *,
    user: User,
    device_id: str,
    session_key: str,
    ip_address: str | None,
    data: dict[str, Any],
) -> tuple[Device, bool]:
    """Register or update this device with exactly the fields the policy lists (P5).

    A device the account has never used while it has others is a login from a new
    device: it is recorded as a security event and the other devices get a notice
    (P6; the notice goes out through the push task once that exists).
    """
    now = timezone.now()
    values = {name: data[name] for name in DEVICE_FIELDS if name in data}
    # get_or_create copes with two first registrations of one device racing.
    device, created = Device.objects.select_for_update().get_or_create(
        user=user,
        device_id=device_id,
        defaults={"platform": values.get("platform", ""), "created_at": now},
    )
    for name, value in values.items():
        setattr(device, name, value)
    if "push_token" in values and device.push_token:
        _push_token_claim(device=device)
    device.session_key = session_key
    device.ip_address = ip_address
    device.last_seen_at = now
    device.save()
    if created:
        others = Device.objects.filter(user=user).exclude(pk=device.pk).count()
        if others:
            security_event_record(
                user=user,
                kind=SecurityEventKind.NEW_DEVICE,
                ip_address=ip_address,
                device=device,
                detail={"platform": device.platform, "notified_devices": others},
            )
            _new_device_notice(user_id=user.pk, device_id=device.pk)
    return device, created


def _push_token_claim(*, device: Device) -> None:
    """Move ``device.push_token`` to ``device``, or refuse (P11: pushes reach only their owner).

    A push token identifies one app installation. It moves from another binding only
    when the claim comes from that same installation (the same ``device_id``: another
    account signed in on the phone) or from the same account (a reinstall). Anyone
    else who learnt the token would otherwise receive the other account's pushes:
    409 ``push_token_taken``, and the old binding stays.
    """
    holders = Device.objects.select_for_update().filter(push_token=device.push_token)
    if device.pk is not None:
        holders = holders.exclude(pk=device.pk)
    for holder in holders:
        if holder.device_id != device.device_id and holder.user_id != device.user_id:
            raise ApplicationError(
                "push_token_taken",
                _("This push token is registered to another app installation."),
                param="push_token",
                status_code=409,
            )
    holders.update(push_token="")


def device_login_record(
    *,
    user: User,
    device_id: str,
    platform: str,
    session_key: str,
    ip_address: str | None,
) -> Device | None:
    """Bind the device the app names at login (``X-Device-Id``) to the new session (P6).

    A device never seen on the account, while it has others, raises the same
    ``new_device`` security event and notice as a registration would, at login, even
    if the app never calls ``POST /api/v1/devices``. A malformed id or platform is
    ignored (the login itself must not fail on it).
    """
    device_id = device_id.strip()
    if not device_id or len(device_id) > 128 or platform not in Platform.values:
        return None
    device, _ = device_register(
        user=user,
        device_id=device_id,
        session_key=session_key,
        ip_address=ip_address,
        data={"platform": platform},
    )
    return device


def _new_device_notice(*, user_id: int, device_id: int) -> None:
    """Hand the notice to the layer that owns push, after commit (hook, DESIGN.md).

    ``MEETNOW_NEW_DEVICE_NOTIFIER`` is the dotted path of a callable
    ``(*, user_id, device_id) -> None`` (e.g. one that enqueues a push task for the
    user's other devices); empty means the security event is the only record.
    """
    path = settings.MEETNOW_NEW_DEVICE_NOTIFIER
    if not path:
        return
    notify = import_string(path)
    transaction.on_commit(lambda: notify(user_id=user_id, device_id=device_id))


@transaction.atomic
def device_remove(*, user: User, device: Device, ip_address: str | None = None) -> None:
    """Forget a device and end the session it was signed in with (P6)."""
    if device.user_id != user.pk:
        raise NotFoundError()
    if device.session_key:
        _session_end(user=user, session_key=device.session_key, ip_address=ip_address)
    device.delete()


def _session_end(*, user: User, session_key: str, ip_address: str | None) -> None:
    SessionStore().delete(session_key)
    sessions_close([session_key])  # its sockets close at once, not at the next heartbeat
    UserSession.objects.filter(user=user, session_key=session_key).delete()
    Device.objects.filter(user=user, session_key=session_key).update(session_key="")
    security_event_record(user=user, kind=SecurityEventKind.SESSION_ENDED, ip_address=ip_address)


@transaction.atomic
def session_end(*, user: User, session_id: int, ip_address: str | None = None) -> None:
    """End one of the user's sessions: its token stops working at once (P6)."""
    session = UserSession.objects.filter(user=user, pk=session_id).first()
    if session is None:
        raise NotFoundError(_("No such session."))
    _session_end(user=user, session_key=session.session_key, ip_address=ip_address)


@transaction.atomic
def sessions_end_others(*, user: User, current_session_key: str, ip_address: str | None) -> int:
    """End every session of the user but this one; returns how many ended (P6)."""
    keys = _session_keys(user=user) - {current_session_key}
    for key in keys:
        _session_end(user=user, session_key=key, ip_address=ip_address)
    return len(keys)


@transaction.atomic
def sessions_end_all(*, user: User) -> int:
    """End every session of the user at once: ban, deletion (P6, P13)."""
    keys = _session_keys(user=user)
    for key in keys:
        SessionStore().delete(key)
    sessions_close(keys)  # their sockets close at once, after commit
    UserSession.objects.filter(user=user).delete()
    Device.objects.filter(user=user).update(session_key="")
    return len(keys)


def _session_keys(*, user: User) -> set[str]:
    keys = set(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    keys |= set(
        Device.objects.filter(user=user)
        .exclude(session_key="")
        .values_list("session_key", flat=True)
    )
    return keys


# --- Social accounts ------------------------------------------------------------


@transaction.atomic
def social_account_unlink(*, user: User, account_id: int, ip_address: str | None = None) -> None:
    """Unlink a third-party account from settings (P3); the last login method stays.

    allauth's own disconnect insists on a usable password, which MeetNow users never
    have; here a verified phone or another linked provider is what keeps the account
    reachable.
    """
    from allauth.socialaccount.models import SocialAccount

    accounts = list(SocialAccount.objects.select_for_update().filter(user=user))
    account = next((a for a in accounts if a.pk == account_id), None)
    if account is None:
        raise NotFoundError(_("No such linked account."))
    if len(accounts) == 1 and not (user.phone and user.phone_verified):
        raise ApplicationError(
            "last_login_method",
            _("This is your only way to log in: add a phone number first."),
        )
    account.delete()
    security_event_record(
        user=user,
        kind=SecurityEventKind.PROVIDER_UNLINKED,
        ip_address=ip_address,
        detail={"provider": account.provider},
    )


# --- Security events ------------------------------------------------------------


def security_event_record(
    *,
    user: User | None,
    kind: str,
    ip_address: str | None = None,
    device: Device | None = None,
    detail: dict[str, Any] | None = None,
) -> SecurityEvent:
    """Append to the security log (P6). ``detail`` must never hold a number or a code."""
    return SecurityEvent.objects.create(
        user=user if user is not None and user.pk else None,
        kind=kind,
        ip_address=ip_address or None,
        device=device,
        detail=detail or {},
    )


# --- Code delivery (P2) ----------------------------------------------------------


def _code_text(purpose: str, code: str) -> str:
    minutes = max(1, settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT // 60)
    if purpose == SmsPurpose.UNKNOWN_ACCOUNT:
        return _("MeetNow: someone asked to log in with this number, but it has no account.")
    if purpose == SmsPurpose.ACCOUNT_EXISTS:
        return _("MeetNow: this number already has an account. Log in with a code instead.")
    # The one number of the texts sent later (docs/i18n.md): through ``display``.
    return ngettext(
        "Your MeetNow code is %(code)s. It expires in %(minutes)s minute. Never share it.",
        "Your MeetNow code is %(code)s. It expires in %(minutes)s minutes. Never share it.",
        minutes,
    ) % {"code": code, "minutes": display(minutes)}


def sms_send(
    *,
    phone: str,
    purpose: str,
    channel: str = SmsChannel.SMS,
    code: str = "",
    user: User | None = None,
) -> SmsDelivery:
    """Record a delivery and hand it to the ``sms`` worker after commit (P2).

    The request never talks to a provider. The delivery record keeps the masked
    number only; the number and code travel to the worker sealed (P18). The text is
    in the user's language, or the request's for a number without an account yet.
    """
    known = user is not None and user.pk
    delivery = SmsDelivery.objects.create(
        user=user if known else None,
        masked_phone=phone_mask(phone),
        purpose=purpose,
        channel=channel,
        language=user_language(user) if known else language_current(),
        backend=settings.SMS_BACKEND,
    )
    sealed = sealing.seal(to=phone, code=code)

    def enqueue() -> None:
        from accounts.tasks import sms_deliver_task

        sms_deliver_task.apply_async(kwargs={"delivery_id": delivery.pk, "sealed": sealed})

    transaction.on_commit(enqueue)
    return delivery


class SmsRetryableError(Exception):
    """The provider failed in a way worth retrying (timeout, 5xx)."""


def sms_delivery_attempt(*, delivery_id: int, sealed: str) -> SmsDelivery | None:
    """One attempt at delivering a recorded SMS or voice call (P2).

    Idempotent: a delivery already sent or failed is left alone. A 4xx from the
    provider fails the delivery for good; a timeout or 5xx raises
    :class:`SmsRetryableError` so the task retries with backoff.
    """
    from accounts.sms.backends import SmsTransientError

    with transaction.atomic():
        delivery = SmsDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status in {SmsStatus.SENT, SmsStatus.FAILED}:
            return delivery
        delivery.attempts += 1
        delivery.updated_at = timezone.now()
        delivery.save(update_fields=["attempts", "updated_at"])
    try:
        to, code = sealing.unseal(sealed, max_age=settings.SMS_DELIVERY_MAX_AGE)
    except sealing.SealBrokenError:
        return _delivery_finish(delivery, SmsStatus.FAILED, error="expired before delivery")
    with translation.override(delivery.language):
        message = OutgoingMessage(
            to=to,
            channel=delivery.channel,
            text=_code_text(delivery.purpose, code),
            code=code,
            language=delivery.language,
        )
    try:
        provider_id = get_backend(delivery.backend).send(message)
    except SmsPermanentError as exc:
        return _delivery_finish(delivery, SmsStatus.FAILED, error=str(exc))
    except SmsTransientError as exc:
        _delivery_finish(delivery, SmsStatus.RETRYING, error=str(exc))
        raise SmsRetryableError(str(exc)) from exc
    return _delivery_finish(delivery, SmsStatus.SENT, provider_id=provider_id)


def sms_delivery_give_up(*, delivery_id: int) -> None:
    """The retries ran out: the delivery failed (P2)."""
    SmsDelivery.objects.filter(pk=delivery_id).exclude(status=SmsStatus.SENT).update(
        status=SmsStatus.FAILED, updated_at=timezone.now()
    )


def _delivery_finish(
    delivery: SmsDelivery, status: str, *, error: str = "", provider_id: str = ""
) -> SmsDelivery:
    delivery.status = status
    delivery.last_error = error[:200]
    delivery.provider_id = provider_id[:128]
    delivery.updated_at = timezone.now()
    delivery.save(update_fields=["status", "last_error", "provider_id", "updated_at"])
    return delivery


# --- Notices (the in-app inbox) ---------------------------------------------------------


def notice_create(*, user_id: int, kind: str, params: dict[str, Any] | None = None) -> Notice:
    """Put a notice in the user's inbox (P13, P17). ``params`` holds ids and codes (and,
    for a refusal, the reason staff gave the user); the text is written when read.

    The caller (privacy's request outcomes, support's closed tickets) publishes the
    event and the push: ``chat.notify.notice_send`` does the three together.
    """
    return Notice.objects.create(user_id=user_id, kind=kind, params=dict(params or {}))


def notice_mark_read(*, notice: Notice) -> Notice:
    """The user read the notice (idempotent: the first reading time is kept)."""
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    return notice
