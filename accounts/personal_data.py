"""Accounts' personal data (DESIGN.md, docs/privacy.md): the account, its devices,
sessions, security log, SMS deliveries and blocks, and the allauth and admin rows
tied to it (accounts is where allauth and the user model are wired).

Discovered by ``privacy``. Deleting the account row itself is declared here and
always runs last (anything an undeclared model still holds cascades with it).
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount, SocialToken
from allauth.usersessions.models import UserSession
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext_lazy

from accounts.identity.models import IdentityVerification
from accounts.identity.selectors import identity_export_rows, identity_rows_count
from accounts.models import Block, Device, Notice, SecurityEvent, SmsDelivery, User
from accounts.services import sessions_end_all
from meetnow.lib.personal_data import (
    Declaration,
    EraseStep,
    ErasureContext,
    ExportRows,
    ExportSection,
    Strategy,
    chunk_delete,
    chunk_update,
    count_of,
    page,
    plain_rows,
    rows_delete_step,
    section,
    step,
)
from meetnow.lib.timestamps import iso

ERASED_REPR = "Deleted user"


def _sessions_end(ctx: ErasureContext, limit: int, _: Any) -> int:
    # The token stops working at once (P6).
    return sessions_end_all(user=ctx.user) if ctx.user is not None else 0


def _admin_log_about_user(ctx: ErasureContext, limit: int, _: Any) -> int:
    """Staff actions *about* the user stay in the audit trail, without their name (P18)."""
    about = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(ctx.user_id)
    ).exclude(object_repr=ERASED_REPR, change_message="")
    return chunk_update(about, limit, object_repr=ERASED_REPR, change_message="")


def _user_delete(ctx: ErasureContext, limit: int, _: Any) -> int:
    deleted, _rows = User.objects.filter(pk=ctx.user_id).delete()
    return 1 if deleted else 0


erase_steps: list[EraseStep] = [
    step("sessions", "end", _sessions_end),
    step(
        "accounts.Block",
        "delete",
        lambda c, n, _: chunk_delete(
            Block.objects.filter(Q(blocker_id=c.user_id) | Q(blocked_id=c.user_id)), n
        ),
    ),
    step(
        "accounts.SecurityEvent",
        "pseudonymise",
        lambda c, n, _: chunk_update(
            SecurityEvent.objects.filter(user_id=c.user_id),
            n,
            user=None,
            ip_address=None,
            device=None,
            detail={},
        ),
    ),
    rows_delete_step(Device),
    rows_delete_step(Notice),
    rows_delete_step(SmsDelivery),
    rows_delete_step(UserSession),
    rows_delete_step(EmailAddress),
    rows_delete_step(SocialAccount),
    rows_delete_step(Authenticator),
    rows_delete_step(LogEntry),
    step("admin.LogEntry", "pseudonymise", _admin_log_about_user),
    step(
        "accounts.User_groups",
        "delete",
        lambda c, n, _: chunk_delete(User.groups.through.objects.filter(user_id=c.user_id), n),
    ),
    step(
        "accounts.User_user_permissions",
        "delete",
        lambda c, n, _: chunk_delete(
            User.user_permissions.through.objects.filter(user_id=c.user_id), n
        ),
    ),
    # Identity verification (P7, P18): masked record, keyed hash, birth date.
    rows_delete_step(IdentityVerification),
    # Last of all (privacy keeps it last): the account row itself.
    step("accounts.User", "delete", _user_delete),
]


declarations: list[Declaration] = [
    Declaration(
        "accounts.IdentityVerification",
        Strategy.DELETE,
        "identity_verification.json",
        "identity_failed_attempts",
        "Masked name and ID number, the ID's keyed hash and birth date, status; never the "
        "number, the full name or face media. Failed attempts are purged after 30 days.",
        remaining=lambda uid: identity_rows_count(user_id=uid),
    ),
    Declaration(
        "accounts.User", Strategy.DELETE, "profile.json", "account", remaining=count_of(User, "pk")
    ),
    Declaration(
        "accounts.Block",
        Strategy.DELETE,
        "blocks.json",
        "account",
        "Blocks made are exported; blocks received are not (whoever blocked stays private).",
        remaining=lambda uid: Block.objects.filter(Q(blocker_id=uid) | Q(blocked_id=uid)).count(),
    ),
    Declaration(
        "accounts.Device",
        Strategy.DELETE,
        "devices.json",
        "devices",
        remaining=count_of(Device, "user_id"),
    ),
    Declaration(
        "accounts.SecurityEvent",
        Strategy.PSEUDONYMISE,
        "security_events.json",
        "security_events",
        "Detached from the user, IP and device cleared; then purged by retention.",
        remaining=count_of(SecurityEvent, "user_id"),
    ),
    Declaration(
        "accounts.Notice",
        Strategy.DELETE,
        "",
        "notices",
        "The in-app inbox (P13, P17): a kind code and ids (of the request or ticket, and a "
        "refusal's reason), when sent and read. Not a file of the export yet: each notice "
        "restates an outcome that privacy_requests.json and support_tickets.json hold, and "
        "a notices.json needs a policy version that names it (tests/privacy/"
        "test_policy_text.py).",
        remaining=count_of(Notice, "user_id"),
    ),
    Declaration(
        "accounts.SmsDelivery",
        Strategy.DELETE,
        "sms_deliveries.json",
        "sms_deliveries",
        remaining=count_of(SmsDelivery, "user_id"),
    ),
    Declaration(
        "accounts.User_groups",
        Strategy.DELETE,
        "",
        "account",
        "Staff roles only; not exported.",
        remaining=lambda uid: User.groups.through.objects.filter(user_id=uid).count(),
    ),
    Declaration(
        "accounts.User_user_permissions",
        Strategy.DELETE,
        "",
        "account",
        "Staff permissions only; not exported.",
        remaining=lambda uid: User.user_permissions.through.objects.filter(user_id=uid).count(),
    ),
    Declaration(
        "usersessions.UserSession",
        Strategy.DELETE,
        "sessions.json",
        "sessions",
        remaining=count_of(UserSession, "user_id"),
    ),
    Declaration(
        "account.EmailAddress",
        Strategy.DELETE,
        "email_addresses.json",
        "account",
        "MeetNow keeps no e-mail addresses (P3); exported if any exist.",
        remaining=count_of(EmailAddress, "user_id"),
    ),
    Declaration(
        "account.EmailConfirmation",
        Strategy.DELETE,
        "",
        "account",
        "Deleted with its EmailAddress (cascade); holds a secret key, never exported.",
        remaining=lambda uid: EmailConfirmation.objects.filter(email_address__user_id=uid).count(),
    ),
    Declaration(
        "socialaccount.SocialAccount",
        Strategy.DELETE,
        "social_accounts.json",
        "account",
        remaining=count_of(SocialAccount, "user_id"),
    ),
    Declaration(
        "socialaccount.SocialToken",
        Strategy.DELETE,
        "",
        "account",
        "Deleted with its SocialAccount (cascade); secrets are never exported (none stored).",
        remaining=lambda uid: SocialToken.objects.filter(account__user_id=uid).count(),
    ),
    Declaration(
        "mfa.Authenticator",
        Strategy.DELETE,
        "",
        "account",
        "Staff two-factor secrets: never exported.",
        remaining=count_of(Authenticator, "user_id"),
    ),
    Declaration(
        "admin.LogEntry",
        Strategy.DELETE,
        "",
        "staff_audit",
        "Admin actions of staff accounts (the staff audit); app users have none. Entries "
        "about an erased user stay without their name.",
        remaining=count_of(LogEntry, "user_id"),
    ),
]


def _profile_rows(uid: int, after: int, limit: int) -> ExportRows:
    return [
        (
            u.pk,
            {
                "uuid": str(u.uuid),
                "phone": str(u.phone) if u.phone else None,
                "phone_verified": u.phone_verified,
                "nickname": u.nickname,
                "gender": u.gender,
                "date_of_birth": iso(u.date_of_birth),
                "bio": u.bio,
                "push_enabled": u.push_enabled,
                "hidden_from_discover": u.hidden_from_discover,
                "dm_from": u.dm_from,
                "date_joined": iso(u.date_joined),
                "active": u.is_active,
                "banned_at": iso(u.banned_at),
            },
        )
        for u in page(User.objects.filter(pk=uid), after, limit)
    ]


export_sections: list[ExportSection] = [
    section(
        "profile",
        gettext_lazy(
            "Your account and profile: number, nickname, gender, date of birth, bio, settings."
        ),
        _profile_rows,
        lambda uid: 1,
    ),
    section(
        "devices",
        gettext_lazy("Phones you signed in on: model, OS and app version, network type, IP (P5)."),
        plain_rows(
            lambda uid: Device.objects.filter(user_id=uid),
            [
                "device_id",
                "platform",
                "model",
                "os_version",
                "app_version",
                "network_type",
                "ip_address",
                "push_enabled",
                "created_at",
                "last_seen_at",
            ],
        ),
        lambda uid: Device.objects.filter(user_id=uid).count(),
    ),
    section(
        "sessions",
        gettext_lazy("Your signed-in sessions: when, from which IP and app."),
        plain_rows(
            lambda uid: UserSession.objects.filter(user_id=uid),
            ["created_at", "last_seen_at", "ip", "user_agent"],
        ),
        lambda uid: UserSession.objects.filter(user_id=uid).count(),
    ),
    section(
        "security_events",
        gettext_lazy("Security log of your account: logins, new devices, ended sessions (P6)."),
        plain_rows(
            lambda uid: SecurityEvent.objects.filter(user_id=uid),
            ["kind", "ip_address", "created_at", "detail"],
        ),
        lambda uid: SecurityEvent.objects.filter(user_id=uid).count(),
    ),
    section(
        "sms_deliveries",
        gettext_lazy("Codes we sent you by SMS or voice call (never the code itself)."),
        plain_rows(
            lambda uid: SmsDelivery.objects.filter(user_id=uid),
            ["masked_phone", "purpose", "channel", "status", "created_at"],
        ),
        lambda uid: SmsDelivery.objects.filter(user_id=uid).count(),
    ),
    section(
        "blocks",
        gettext_lazy("People you blocked."),
        plain_rows(
            lambda uid: Block.objects.filter(blocker_id=uid),
            ["blocked__uuid", "created_at"],
            related=("blocked",),
        ),
        lambda uid: Block.objects.filter(blocker_id=uid).count(),
    ),
    section(
        "social_accounts",
        gettext_lazy(
            "Third-party logins linked to your account and the public data they gave (P3)."
        ),
        plain_rows(
            lambda uid: SocialAccount.objects.filter(user_id=uid),
            ["provider", "uid", "date_joined", "last_login", "extra_data"],
        ),
        lambda uid: SocialAccount.objects.filter(user_id=uid).count(),
    ),
    section(
        "email_addresses",
        gettext_lazy("E-mail addresses on the account (MeetNow normally keeps none)."),
        plain_rows(
            lambda uid: EmailAddress.objects.filter(user_id=uid),
            ["email", "verified", "primary"],
        ),
        lambda uid: EmailAddress.objects.filter(user_id=uid).count(),
    ),
    section(
        "identity_verification",
        gettext_lazy(
            "Your identity verification attempts: status, masked name and ID number (P7)."
        ),
        lambda uid, after, limit: identity_export_rows(user_id=uid, after=after, limit=limit),
        lambda uid: identity_rows_count(user_id=uid),
    ),
]
