"""Declarations of the personal-data registry: every model that holds data about a user.

For each model: how it is exported (a JSON file of the ZIP), erased (chunked steps,
in the order below) and kept (the retention table). The steps call the owning
apps' services where one fits the chunked, idempotent shape, and otherwise use
their models directly (noted per step). Every step changes only rows that still
identify the user, so running it again changes nothing (nothing erased twice).
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount, SocialToken
from allauth.usersessions.models import UserSession
from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.db.models import CharField, F, Model, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from accounts.models import Block, Device, SecurityEvent, SmsDelivery, User
from accounts.services import sessions_end_all
from chat.models import (
    ChatSettings,
    Conversation,
    Event,
    EventStream,
    Membership,
    Message,
    MessageHidden,
    MessageVersion,
    Report,
)
from media.models import MediaFile
from media.services import StorageNotEmptyError, media_file_storage_purge
from privacy.models import (
    Consent,
    ConsentWithdrawal,
    ErasureStep,
    PrivacyRequest,
    PrivacyRequestEvent,
)
from privacy.registry import Declaration, EraseStep, ExportSection, Strategy, registry


@dataclass
class ErasureContext:
    user_id: int
    user: User | None
    request: PrivacyRequest | None


def _ids(queryset: QuerySet[Any], limit: int) -> list[int]:
    return list(queryset.order_by("pk").values_list("pk", flat=True)[:limit])


def _delete(queryset: QuerySet[Any], limit: int) -> int:
    ids = _ids(queryset, limit)
    if ids:
        queryset.model.objects.filter(pk__in=ids).delete()
    return len(ids)


def _update(queryset: QuerySet[Any], limit: int, **values: Any) -> int:
    ids = _ids(queryset, limit)
    if ids:
        queryset.model.objects.filter(pk__in=ids).update(**values)
    return len(ids)


def _count(model: type[Model], lookup: str) -> Any:
    """``remaining`` for a model with a direct link to the user."""
    return lambda uid: model._default_manager.filter(**{lookup: uid}).count()


def _dt(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


# --- Erasure steps (in order) -------------------------------------------------------------


ERASED_REPR = "Deleted user"


def _admin_log_about_user(ctx: ErasureContext, limit: int, _: Any) -> int:
    """Staff actions *about* the user stay in the audit trail, without their name (P18)."""
    about = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(ctx.user_id)
    ).exclude(object_repr=ERASED_REPR, change_message="")
    return _update(about, limit, object_repr=ERASED_REPR, change_message="")


def _sessions_end(ctx: ErasureContext, limit: int, _: Any) -> int:
    # accounts.services.sessions_end_all: the token stops working at once (P6).
    return sessions_end_all(user=ctx.user) if ctx.user is not None else 0


def _message_fk_nulls() -> dict[str, Any]:
    """Attachments: any link from a message to a stored file is cut on a tombstone."""
    return {
        f.name: None
        for f in Message._meta.concrete_fields
        if f.is_relation and f.related_model is MediaFile and f.null
    }


def _messages_tombstone(ctx: ErasureContext, limit: int, _: Any) -> int:
    # The row stays so the others' history keeps its shape; sender shown as "Deleted user".
    return _update(
        Message.objects.filter(sender_id=ctx.user_id),
        limit,
        sender=None,
        text="",
        system=None,
        client_id=None,
        edited_at=None,
        **_message_fk_nulls(),
    )


def _conversations_direct_keys(ctx: ErasureContext, limit: int, _: Any) -> int:
    uid = ctx.user_id
    return _update(
        Conversation.objects.filter(
            Q(direct_key__startswith=f"{uid}:") | Q(direct_key__endswith=f":{uid}")
        ),
        limit,
        direct_key=Concat(Value("erased-"), Cast(F("id"), output_field=CharField())),
    )


def _media_prepare(ctx: ErasureContext, limit: int) -> list[int]:
    """Delete each file's objects (upload, original, every derivative) from storage and
    check the storage really holds nothing under its prefix before the rows go."""
    files = list(
        MediaFile.objects.filter(owner_id=ctx.user_id)
        .only("pk", "storage_prefix", "upload_key", "variants")
        .order_by("pk")[:limit]
    )
    for media_file in files:
        media_file_storage_purge(media_file=media_file)  # raises StorageNotEmptyError
    return [media_file.pk for media_file in files]


def _media_apply(ctx: ErasureContext, limit: int, ids: list[int]) -> int:
    # Rows go only after the storage was verified empty; media.services deletes on
    # commit and would not let us verify first, so this uses the model (noted).
    if not ids:
        return 0
    deleted, _ = MediaFile.objects.filter(pk__in=ids, owner_id=ctx.user_id).delete()
    return min(deleted, len(ids))


def _archives_prepare(ctx: ErasureContext, limit: int) -> list[int]:
    """Export archives (and parts staged by unfinished exports) of the user leave storage."""
    from privacy.export import PREFIX as EXPORT_PREFIX
    from privacy.export import _delete_staging

    found = list(
        PrivacyRequest.objects.filter(user_id=ctx.user_id, kind="access")
        .filter(~Q(archive_key="") | Q(cursor__has_key="phase"))
        .order_by("pk")
        .values_list("pk", "uuid", "archive_key")[:limit]
    )
    for _pk, request_uuid, key in found:
        if key:
            default_storage.delete(key)
        _delete_staging(str(request_uuid))
        if key and default_storage.exists(key):
            raise StorageNotEmptyError(f"export archive still in {EXPORT_PREFIX}")
    return [pk for pk, *_ in found]


def _archives_apply(ctx: ErasureContext, limit: int, ids: list[int]) -> int:
    if not ids:
        return 0
    return PrivacyRequest.objects.filter(pk__in=ids).update(
        archive_key="", archive_deleted_at=timezone.now(), cursor={}
    )


def _user_groups(ctx: ErasureContext, limit: int, _: Any) -> int:
    through = User.groups.through
    return _delete(through.objects.filter(user_id=ctx.user_id), limit)


def _user_permissions(ctx: ErasureContext, limit: int, _: Any) -> int:
    through = User.user_permissions.through
    return _delete(through.objects.filter(user_id=ctx.user_id), limit)


def _user_delete(ctx: ErasureContext, limit: int, _: Any) -> int:
    deleted, _rows = User.objects.filter(pk=ctx.user_id).delete()
    return 1 if deleted else 0


def _s(model: str, action: str, fn: Any, prepare: Any = None) -> EraseStep:
    return EraseStep(model=model, action=action, apply=fn, prepare=prepare)


registry.step(
    _s("sessions", "end", _sessions_end),
    _s(
        "chat.MessageVersion",
        "delete",
        lambda c, n, _: _delete(MessageVersion.objects.filter(message__sender_id=c.user_id), n),
    ),
    _s(
        "chat.Report",
        "pseudonymise_reported",
        lambda c, n, _: _update(
            Report.objects.filter(
                Q(reported_user_id=c.user_id)
                | (Q(message__sender_id=c.user_id) & ~Q(evidence_text=""))
            ),
            n,
            reported_user=None,
            evidence_text="",
            evidence_attachment=None,
        ),
    ),
    _s(
        "chat.Report",
        "pseudonymise_reporter",
        lambda c, n, _: _update(Report.objects.filter(reporter_id=c.user_id), n, reporter=None),
    ),
    _s(
        "chat.Report",
        "pseudonymise_moderator",
        lambda c, n, _: _update(
            Report.objects.filter(resolved_by_id=c.user_id), n, resolved_by=None
        ),
    ),
    _s("chat.Message", "tombstone", _messages_tombstone),
    _s(
        "chat.MessageHidden",
        "delete",
        lambda c, n, _: _delete(MessageHidden.objects.filter(user_id=c.user_id), n),
    ),
    _s(
        "chat.Conversation",
        "pseudonymise_owner",
        lambda c, n, _: _update(Conversation.objects.filter(owner_id=c.user_id), n, owner=None),
    ),
    _s("chat.Conversation", "pseudonymise_direct_key", _conversations_direct_keys),
    _s(
        "chat.Membership",
        "delete",
        lambda c, n, _: _delete(Membership.objects.filter(user_id=c.user_id), n),
    ),
    _s("chat.Event", "delete", lambda c, n, _: _delete(Event.objects.filter(user_id=c.user_id), n)),
    _s(
        "chat.EventStream",
        "delete",
        lambda c, n, _: _delete(EventStream.objects.filter(user_id=c.user_id), n),
    ),
    _s(
        "chat.ChatSettings",
        "delete",
        lambda c, n, _: _delete(ChatSettings.objects.filter(user_id=c.user_id), n),
    ),
    _s("media.MediaFile", "delete", _media_apply, prepare=_media_prepare),
    _s(
        "accounts.Block",
        "delete",
        lambda c, n, _: _delete(
            Block.objects.filter(Q(blocker_id=c.user_id) | Q(blocked_id=c.user_id)), n
        ),
    ),
    _s(
        "accounts.SecurityEvent",
        "pseudonymise",
        lambda c, n, _: _update(
            SecurityEvent.objects.filter(user_id=c.user_id),
            n,
            user=None,
            ip_address=None,
            device=None,
            detail={},
        ),
    ),
    _s(
        "accounts.Device",
        "delete",
        lambda c, n, _: _delete(Device.objects.filter(user_id=c.user_id), n),
    ),
    _s(
        "accounts.SmsDelivery",
        "delete",
        lambda c, n, _: _delete(SmsDelivery.objects.filter(user_id=c.user_id), n),
    ),
    _s(
        "usersessions.UserSession",
        "delete",
        lambda c, n, _: _delete(UserSession.objects.filter(user_id=c.user_id), n),
    ),
    _s(
        "account.EmailAddress",
        "delete",
        lambda c, n, _: _delete(EmailAddress.objects.filter(user_id=c.user_id), n),
    ),
    _s(
        "socialaccount.SocialAccount",
        "delete",
        lambda c, n, _: _delete(SocialAccount.objects.filter(user_id=c.user_id), n),
    ),
    _s(
        "mfa.Authenticator",
        "delete",
        lambda c, n, _: _delete(Authenticator.objects.filter(user_id=c.user_id), n),
    ),
    _s(
        "admin.LogEntry",
        "delete",
        lambda c, n, _: _delete(LogEntry.objects.filter(user_id=c.user_id), n),
    ),
    _s("admin.LogEntry", "pseudonymise", _admin_log_about_user),
    _s("accounts.User_groups", "delete", _user_groups),
    _s("accounts.User_user_permissions", "delete", _user_permissions),
    _s(
        "privacy.Consent",
        "delete",
        lambda c, n, _: _delete(Consent.objects.filter(user_id=c.user_id), n),
    ),
    _s(
        "privacy.ConsentWithdrawal",
        "delete",
        lambda c, n, _: _delete(ConsentWithdrawal.objects.filter(user_id=c.user_id), n),
    ),
    _s("privacy.PrivacyRequest", "delete_archives", _archives_apply, prepare=_archives_prepare),
    _s(
        "privacy.PrivacyRequest",
        "pseudonymise",
        lambda c, n, _: _update(
            PrivacyRequest.objects.filter(user_id=c.user_id).exclude(details=""), n, details=""
        ),
    ),
    _s(
        "privacy.PrivacyRequestEvent",
        "pseudonymise",
        lambda c, n, _: _update(
            PrivacyRequestEvent.objects.filter(actor_id=c.user_id), n, actor=None
        ),
    ),
    # Last: the account row itself (anything an undeclared model still holds cascades).
    _s("accounts.User", "delete", _user_delete),
)


# --- Declarations ------------------------------------------------------------------------

D = Declaration
registry.declare(
    D("accounts.User", Strategy.DELETE, "profile.json", "account", remaining=_count(User, "pk")),
    D(
        "accounts.Block",
        Strategy.DELETE,
        "blocks.json",
        "account",
        "Blocks made are exported; blocks received are not (whoever blocked stays private).",
        remaining=lambda uid: Block.objects.filter(Q(blocker_id=uid) | Q(blocked_id=uid)).count(),
    ),
    D(
        "accounts.Device",
        Strategy.DELETE,
        "devices.json",
        "devices",
        remaining=_count(Device, "user_id"),
    ),
    D(
        "accounts.SecurityEvent",
        Strategy.PSEUDONYMISE,
        "security_events.json",
        "security_events",
        "Detached from the user, IP and device cleared; then purged by retention.",
        remaining=_count(SecurityEvent, "user_id"),
    ),
    D(
        "accounts.SmsDelivery",
        Strategy.DELETE,
        "sms_deliveries.json",
        "sms_deliveries",
        remaining=_count(SmsDelivery, "user_id"),
    ),
    D(
        "accounts.User_groups",
        Strategy.DELETE,
        "",
        "account",
        "Staff roles only; not exported.",
        remaining=lambda uid: User.groups.through.objects.filter(user_id=uid).count(),
    ),
    D(
        "accounts.User_user_permissions",
        Strategy.DELETE,
        "",
        "account",
        "Staff permissions only; not exported.",
        remaining=lambda uid: User.user_permissions.through.objects.filter(user_id=uid).count(),
    ),
    D(
        "usersessions.UserSession",
        Strategy.DELETE,
        "sessions.json",
        "sessions",
        remaining=_count(UserSession, "user_id"),
    ),
    D(
        "account.EmailAddress",
        Strategy.DELETE,
        "email_addresses.json",
        "account",
        "MeetNow keeps no e-mail addresses (P3); exported if any exist.",
        remaining=_count(EmailAddress, "user_id"),
    ),
    D(
        "account.EmailConfirmation",
        Strategy.DELETE,
        "",
        "account",
        "Deleted with its EmailAddress (cascade); holds a secret key, never exported.",
        remaining=lambda uid: EmailConfirmation.objects.filter(email_address__user_id=uid).count(),
    ),
    D(
        "socialaccount.SocialAccount",
        Strategy.DELETE,
        "social_accounts.json",
        "account",
        remaining=_count(SocialAccount, "user_id"),
    ),
    D(
        "socialaccount.SocialToken",
        Strategy.DELETE,
        "",
        "account",
        "Deleted with its SocialAccount (cascade); secrets are never exported (none stored).",
        remaining=lambda uid: SocialToken.objects.filter(account__user_id=uid).count(),
    ),
    D(
        "mfa.Authenticator",
        Strategy.DELETE,
        "",
        "account",
        "Staff two-factor secrets: never exported.",
        remaining=_count(Authenticator, "user_id"),
    ),
    D(
        "admin.LogEntry",
        Strategy.DELETE,
        "",
        "account",
        "Admin actions of staff accounts only; app users have none.",
        remaining=_count(LogEntry, "user_id"),
    ),
    D(
        "media.MediaFile",
        Strategy.DELETE,
        "files.json + files/",
        "account",
        "Original, raw upload and every derivative deleted from storage, verified empty.",
        remaining=_count(MediaFile, "owner_id"),
    ),
    D(
        "chat.Conversation",
        Strategy.PSEUDONYMISE,
        "conversations.json",
        "account",
        "Kept for the other members; owner cleared, the direct key no longer holds the id.",
        remaining=lambda uid: Conversation.objects.filter(
            Q(owner_id=uid)
            | Q(direct_key__startswith=f"{uid}:")
            | Q(direct_key__endswith=f":{uid}")
        ).count(),
    ),
    D(
        "chat.Membership",
        Strategy.DELETE,
        "conversations.json",
        "account",
        remaining=_count(Membership, "user_id"),
    ),
    D(
        "chat.Message",
        Strategy.TOMBSTONE,
        "messages.json",
        "tombstones",
        "Sent: content and attachments removed, sender shown as 'Deleted user'. "
        "Received: kept for the others.",
        remaining=_count(Message, "sender_id"),
    ),
    D(
        "chat.MessageVersion",
        Strategy.DELETE,
        "message_versions.json",
        "account",
        "Earlier texts of the user's edited messages.",
    ),
    D(
        "chat.MessageHidden",
        Strategy.DELETE,
        "messages_hidden.json",
        "account",
        remaining=_count(MessageHidden, "user_id"),
    ),
    D(
        "chat.EventStream",
        Strategy.DELETE,
        "",
        "account",
        "Sync counter of the user's devices: no content.",
        remaining=_count(EventStream, "user_id"),
    ),
    D(
        "chat.Event",
        Strategy.DELETE,
        "",
        "chat_events",
        "Delivery queue of the user's devices (ids only), compacted by chat; the data "
        "it points to is exported from messages and conversations.",
        remaining=_count(Event, "user_id"),
    ),
    D(
        "chat.ChatSettings",
        Strategy.DELETE,
        "chat_settings.json",
        "account",
        remaining=_count(ChatSettings, "user_id"),
    ),
    D(
        "chat.Report",
        Strategy.PSEUDONYMISE,
        "reports.json",
        "reports",
        "Reports made: exported, reporter cleared on erasure. Reports about the user: "
        "kept for moderation without the reported user or the evidence text.",
        remaining=lambda uid: Report.objects.filter(
            Q(reporter_id=uid) | Q(reported_user_id=uid) | Q(resolved_by_id=uid)
        ).count(),
    ),
    D(
        "privacy.Consent",
        Strategy.DELETE,
        "consents.json",
        "consent_proof",
        "Versions and times copied (without IP) to the erasure ledger as proof, kept for "
        "the legal retention.",
        remaining=_count(Consent, "user_id"),
    ),
    D(
        "privacy.ConsentWithdrawal",
        Strategy.DELETE,
        "consent_withdrawals.json",
        "consent_proof",
        remaining=_count(ConsentWithdrawal, "user_id"),
    ),
    D(
        "privacy.PrivacyRequest",
        Strategy.PSEUDONYMISE,
        "privacy_requests.json",
        "closed_requests",
        "Kept as proof of handling: user detached, details blanked.",
        remaining=_count(PrivacyRequest, "user_id"),
    ),
    D(
        "privacy.PrivacyRequestEvent",
        Strategy.PSEUDONYMISE,
        "privacy_requests.json",
        "closed_requests",
        "Audit trail: actor detached; never holds personal values.",
        remaining=_count(PrivacyRequestEvent, "actor_id"),
    ),
    D(
        "privacy.ErasureStep",
        Strategy.KEEP,
        "",
        "closed_requests",
        "Model, action and row count of an erasure step: no personal value.",
    ),
)


# --- Export sections ------------------------------------------------------------------------


def _page(queryset: QuerySet[Any], after: int, limit: int) -> list[Any]:
    return list(queryset.filter(pk__gt=after).order_by("pk")[:limit])


def _profile_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    return [
        (
            u.pk,
            {
                "uuid": str(u.uuid),
                "phone": str(u.phone) if u.phone else None,
                "phone_verified": u.phone_verified,
                "nickname": u.nickname,
                "gender": u.gender,
                "date_of_birth": _dt(u.date_of_birth),
                "bio": u.bio,
                "push_enabled": u.push_enabled,
                "date_joined": _dt(u.date_joined),
                "active": u.is_active,
                "banned_at": _dt(u.banned_at),
            },
        )
        for u in _page(User.objects.filter(pk=uid), after, limit)
    ]


def _simple(queryset_for: Any, fields: list[str], *, related: tuple[str, ...] = ()) -> Any:
    def rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        qs = queryset_for(uid)
        if related:
            qs = qs.select_related(*related)
        out = []
        for obj in _page(qs, after, limit):
            item: dict[str, Any] = {}
            for name in fields:
                value: Any = obj
                for part in name.split("__"):
                    value = getattr(value, part, None) if value is not None else None
                if hasattr(value, "isoformat"):
                    value = value.isoformat()
                elif value is not None and not isinstance(
                    value, bool | int | float | str | dict | list
                ):
                    value = str(value)
                item[name.replace("__", "_")] = value
            out.append((obj.pk, item))
        return out

    return rows


def _visible_messages(uid: int) -> QuerySet[Message]:
    """What the user could see: conversations they are in (minus messages they hid),
    and every message they sent."""
    member_of = Membership.objects.filter(user_id=uid, left_at__isnull=True).values(
        "conversation_id"
    )
    hidden = MessageHidden.objects.filter(user_id=uid).values("message_id")
    return Message.objects.filter(
        (Q(conversation_id__in=member_of) & ~Q(pk__in=hidden)) | Q(sender_id=uid)
    )


def _message_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    # Plain values, no model instances: 100,000 messages stay cheap to read.
    rows = (
        _visible_messages(uid)
        .filter(pk__gt=after)
        .order_by("pk")
        .values_list(
            "pk",
            "conversation__uuid",
            "sender_id",
            "sender__uuid",
            "kind",
            "text",
            "system",
            "created_at",
            "edited_at",
            "recalled_at",
            "moderated_at",
            "attachment__uuid",
        )[:limit]
    )
    out = []
    for row in rows:
        pk, conv, sender_id, sender_uuid, kind, text, system, created, edited = row[:9]
        recalled, moderated, attachment = row[9:]
        removed = recalled is not None or moderated is not None
        mine = sender_id == uid
        out.append(
            (
                pk,
                {
                    "id": pk,
                    "conversation": str(conv),
                    "sender": "me" if mine else (str(sender_uuid) if sender_uuid else None),
                    "kind": kind,
                    "text": "" if removed and not mine else text,
                    "system": system,
                    "created_at": _dt(created),
                    "edited_at": _dt(edited),
                    "recalled": recalled is not None,
                    "removed_by_moderator": moderated is not None,
                    # The file itself is in files/ when it is one of the user's uploads.
                    "attachment": str(attachment) if attachment and not removed else None,
                },
            )
        )
    return out


def _file_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for f in _page(MediaFile.objects.filter(owner_id=uid), after, limit):
        original = (f.variants or {}).get("original") or {}
        key = original.get("key", "") if isinstance(original, dict) else ""
        ext = mimetypes.guess_extension(original.get("content_type", "")) if key else None
        out.append(
            (
                f.pk,
                {
                    "uuid": str(f.uuid),
                    "purpose": f.purpose,
                    "kind": f.kind,
                    "status": f.status,
                    "size": f.size,
                    "width": f.width,
                    "height": f.height,
                    "duration_ms": f.duration_ms,
                    "created_at": _dt(f.created_at),
                    "file": f"files/{f.uuid}{ext or ''}" if key else None,
                    "_key": key,
                },
            )
        )
    return out


def _file_members(row: dict[str, Any]) -> list[tuple[str, str]]:
    key = row.pop("_key", "")
    return [(row["file"], key)] if key and row.get("file") else []


def _request_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for r in _page(PrivacyRequest.objects.filter(user_id=uid), after, limit):
        out.append(
            (
                r.pk,
                {
                    "uuid": str(r.uuid),
                    "kind": r.kind,
                    "status": r.status,
                    "details": r.details,
                    "received_at": _dt(r.received_at),
                    "due_at": _dt(r.effective_due_at),
                    "finished_at": _dt(r.finished_at),
                    "denial_reason": r.denial_reason,
                    "extension_reason": r.extension_reason,
                    "events": [
                        {"action": e.action, "status": e.to_status, "at": _dt(e.created_at)}
                        for e in r.events.order_by("id")
                    ],
                },
            )
        )
    return out


def _consent_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
    return [
        (
            c.pk,
            {
                "document": c.kind,
                "version": c.version,
                "accepted_at": _dt(c.accepted_at),
                "ip_address": c.ip_address,
            },
        )
        for c in _page(Consent.objects.filter(user_id=uid), after, limit)
    ]


def _section(
    name: str,
    description: str,
    rows: Any,
    count: Any,
    files: Any = None,
) -> ExportSection:
    return ExportSection(
        name=name,
        filename=f"{name}.json",
        description=description,
        rows=rows,
        count=count,
        files=files,
    )


registry.section(
    _section(
        "profile",
        "Your account and profile: number, nickname, gender, date of birth, bio, settings.",
        _profile_rows,
        lambda uid: 1,
    ),
    _section(
        "consents",
        "Every version of the privacy policy and agreement you accepted, with time and IP.",
        _consent_rows,
        lambda uid: Consent.objects.filter(user_id=uid).count(),
    ),
    _section(
        "consent_withdrawals",
        "Consents you withdrew, and when you accepted again.",
        _simple(
            lambda uid: ConsentWithdrawal.objects.filter(user_id=uid),
            ["kind", "version", "withdrawn_at", "restored_at"],
        ),
        lambda uid: ConsentWithdrawal.objects.filter(user_id=uid).count(),
    ),
    _section(
        "devices",
        "Phones you signed in on: model, OS and app version, network type, IP (P5).",
        _simple(
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
    _section(
        "sessions",
        "Your signed-in sessions: when, from which IP and app.",
        _simple(
            lambda uid: UserSession.objects.filter(user_id=uid),
            ["created_at", "last_seen_at", "ip", "user_agent"],
        ),
        lambda uid: UserSession.objects.filter(user_id=uid).count(),
    ),
    _section(
        "security_events",
        "Security log of your account: logins, new devices, ended sessions (P6).",
        _simple(
            lambda uid: SecurityEvent.objects.filter(user_id=uid),
            ["kind", "ip_address", "created_at", "detail"],
        ),
        lambda uid: SecurityEvent.objects.filter(user_id=uid).count(),
    ),
    _section(
        "sms_deliveries",
        "Codes we sent you by SMS or voice call (never the code itself).",
        _simple(
            lambda uid: SmsDelivery.objects.filter(user_id=uid),
            ["masked_phone", "purpose", "channel", "status", "created_at"],
        ),
        lambda uid: SmsDelivery.objects.filter(user_id=uid).count(),
    ),
    _section(
        "blocks",
        "People you blocked.",
        _simple(
            lambda uid: Block.objects.filter(blocker_id=uid),
            ["blocked__uuid", "created_at"],
            related=("blocked",),
        ),
        lambda uid: Block.objects.filter(blocker_id=uid).count(),
    ),
    _section(
        "social_accounts",
        "Third-party logins linked to your account and the public data they gave (P3).",
        _simple(
            lambda uid: SocialAccount.objects.filter(user_id=uid),
            ["provider", "uid", "date_joined", "last_login", "extra_data"],
        ),
        lambda uid: SocialAccount.objects.filter(user_id=uid).count(),
    ),
    _section(
        "email_addresses",
        "E-mail addresses on the account (MeetNow normally keeps none).",
        _simple(
            lambda uid: EmailAddress.objects.filter(user_id=uid),
            ["email", "verified", "primary"],
        ),
        lambda uid: EmailAddress.objects.filter(user_id=uid).count(),
    ),
    _section(
        "chat_settings",
        "Your chat preferences: read receipts, push previews.",
        _simple(
            lambda uid: ChatSettings.objects.filter(user_id=uid),
            ["share_read_receipts", "push_previews"],
        ),
        lambda uid: ChatSettings.objects.filter(user_id=uid).count(),
    ),
    _section(
        "conversations",
        "Conversations you are or were in: kind, title, your role, when you joined and left.",
        _simple(
            lambda uid: Membership.objects.filter(user_id=uid),
            [
                "conversation__uuid",
                "conversation__kind",
                "conversation__title",
                "role",
                "joined_at",
                "left_at",
                "muted",
                "last_read_id",
            ],
            related=("conversation",),
        ),
        lambda uid: Membership.objects.filter(user_id=uid).count(),
    ),
    _section(
        "messages",
        "Messages you can see: all you sent, and those of others in your conversations "
        "(minus those you deleted for yourself). Senders are 'me' or a user id.",
        _message_rows,
        lambda uid: _visible_messages(uid).count(),
    ),
    _section(
        "message_versions",
        "Earlier texts of messages you edited.",
        _simple(
            lambda uid: MessageVersion.objects.filter(message__sender_id=uid),
            ["message_id", "text", "created_at"],
        ),
        lambda uid: MessageVersion.objects.filter(message__sender_id=uid).count(),
    ),
    _section(
        "messages_hidden",
        "Messages you deleted for yourself (ids).",
        _simple(
            lambda uid: MessageHidden.objects.filter(user_id=uid), ["message_id", "created_at"]
        ),
        lambda uid: MessageHidden.objects.filter(user_id=uid).count(),
    ),
    _section(
        "reports",
        "Reports you made about users or messages, and their status.",
        _simple(
            lambda uid: Report.objects.filter(reporter_id=uid),
            [
                "uuid",
                "reason",
                "details",
                "reported_user__uuid",
                "message_id",
                "status",
                "created_at",
                "resolved_at",
            ],
            related=("reported_user",),
        ),
        lambda uid: Report.objects.filter(reporter_id=uid).count(),
    ),
    _section(
        "privacy_requests",
        "Your privacy requests (export, correction, deletion, consent) and their history.",
        _request_rows,
        lambda uid: PrivacyRequest.objects.filter(user_id=uid).count(),
    ),
    _section(
        "files",
        "Files you uploaded (photos, voice, video); the originals are in files/.",
        _file_rows,
        lambda uid: MediaFile.objects.filter(owner_id=uid).count(),
        files=_file_members,
    ),
)

# --- Models that land later in other apps (declared as soon as they exist) -------------------


def _optional_model(label: str) -> type[Model] | None:
    try:
        return apps.get_model(label)
    except LookupError:
        return None


Call = _optional_model("chat.Call")
if Call is not None:
    _calls: Any = Call._default_manager

    def _call_rows(uid: int, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        rows = (
            _calls.filter(Q(caller_id=uid) | Q(callee_id=uid), pk__gt=after)
            .order_by("pk")
            .values_list(
                "pk",
                "uuid",
                "conversation__uuid",
                "caller_id",
                "media",
                "outcome",
                "created_at",
                "accepted_at",
                "ended_at",
                "duration_seconds",
            )[:limit]
        )
        return [
            (
                pk,
                {
                    "uuid": str(call_uuid),
                    "conversation": str(conv),
                    "direction": "outgoing" if caller == uid else "incoming",
                    "media": media,
                    "outcome": outcome,
                    "created_at": _dt(created),
                    "accepted_at": _dt(accepted),
                    "ended_at": _dt(ended),
                    "duration_seconds": duration,
                },
            )
            for (
                pk,
                call_uuid,
                conv,
                caller,
                media,
                outcome,
                created,
                accepted,
                ended,
                duration,
            ) in rows
        ]

    registry.step(
        _s(
            "chat.Call",
            "pseudonymise_caller",
            lambda c, n, _: _update(_calls.filter(caller_id=c.user_id), n, caller=None),
        ),
        _s(
            "chat.Call",
            "pseudonymise_callee",
            lambda c, n, _: _update(_calls.filter(callee_id=c.user_id), n, callee=None),
        ),
    )
    registry.declare(
        D(
            "chat.Call",
            Strategy.PSEUDONYMISE,
            "calls.json",
            "account",
            "Call history: kept for the other side without the erased user (no SDP, ICE or "
            "IP is ever stored).",
            remaining=lambda uid: _calls.filter(Q(caller_id=uid) | Q(callee_id=uid)).count(),
        )
    )
    registry.section(
        _section(
            "calls",
            "Your voice and video calls: when, with whom (conversation), outcome, duration.",
            _call_rows,
            lambda uid: _calls.filter(Q(caller_id=uid) | Q(callee_id=uid)).count(),
        )
    )

# ErasureStep is reachable from the user only through PrivacyRequest; imported for mypy.
_ = ErasureStep

# Support tickets (issue 7) declare themselves; their erase steps go before the account's.
# Identity verification (issue 18) declares itself the same way.
import privacy.identity_handlers  # noqa: E402
import privacy.support_handlers  # noqa: E402, F401
