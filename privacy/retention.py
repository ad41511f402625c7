"""The retention table (P15): kind of data -> how long -> what happens, and its purges.

The table below is the single source; docs/privacy.md shows it (a test checks the
two agree). Periods come from ``MEETNOW_RETENTION_DAYS`` (env-overridable). Each
purge is idempotent (it only touches rows still past their period) and batched
(``BATCH`` rows per statement, bounded per run), run daily by the beat task
``privacy.retention_purge``; other beat tasks noted in ``enforced_by`` cover the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Device, SecurityEvent, SmsDelivery, User
from chat.models import Message, MessageKind, MessageVersion, Report, ReportStatus
from privacy.export import exports_expire
from privacy.lifecycle import requests_expire_unverified
from privacy.models import ErasureLedgerEntry, PrivacyRequest, RequestStatus

logger = logging.getLogger(__name__)

BATCH = 1000
MAX_BATCHES = 200  # per purge and run: a huge backlog is cleared over several nights


@dataclass(frozen=True)
class Rule:
    key: str
    data: str
    keep: str
    then: str
    enforced_by: str


def _days(key: str) -> int:
    return int(settings.MEETNOW_RETENTION_DAYS[key])


def retention_table() -> list[Rule]:
    """The table as configured now (what docs/privacy.md shows with the defaults)."""
    d = _days
    return [
        Rule(
            "security_events",
            "Security events (logins, new devices, ended sessions)",
            f"{d('security_events')} days",
            "deleted",
            "privacy.retention_purge",
        ),
        Rule(
            "ip_addresses",
            "IP addresses in security events",
            f"{d('ip_addresses')} days",
            "IP cleared, event kept",
            "privacy.retention_purge",
        ),
        Rule(
            "sms_deliveries",
            "SMS / voice code delivery records (masked number, status)",
            f"{d('sms_deliveries')} days",
            "deleted",
            "privacy.retention_purge",
        ),
        Rule(
            "codes",
            "One-time codes (only their keyed hash, inside allauth's session state)",
            f"{settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT} seconds",
            "refused by allauth, then the expired session is deleted",
            "default.sessions_clear_expired",
        ),
        Rule(
            "unverified_requests",
            "Privacy requests whose identity was never confirmed",
            f"{d('unverified_requests')} days",
            "canceled",
            "privacy.retention_purge",
        ),
        Rule(
            "exports",
            "Export archives (ZIP)",
            f"{settings.MEETNOW_PRIVACY_EXPORT_TTL_DAYS} days",
            "deleted from storage",
            "privacy.exports_expire",
        ),
        Rule(
            "devices",
            "Devices not seen for long (model, OS, app version, IP, push token)",
            f"{d('devices')} days after last seen",
            "deleted",
            "privacy.retention_purge",
        ),
        Rule(
            "sessions",
            "Sessions (tokens) and their list entries (IP, user agent)",
            f"{d('sessions')} days after last seen, or when the token expired",
            "deleted",
            "privacy.retention_purge + default.sessions_clear_expired",
        ),
        Rule(
            "tombstones",
            "What remains of removed messages (client id, edit time, earlier versions)",
            f"{d('tombstones')} days after removal",
            "cleared (the empty row keeps the history's shape)",
            "privacy.retention_purge",
        ),
        Rule(
            "unclaimed_uploads",
            "Uploads never attached to a message or profile",
            f"{int(settings.MEETNOW_MEDIA_UNATTACHED_TTL.total_seconds() // 3600)} hours",
            "deleted with every derivative",
            "media.sweep",
        ),
        Rule(
            "chat_events",
            "Sync events of devices (ids only)",
            f"{settings.CHAT_SYNC_RETENTION.days} days",
            "deleted",
            "default.chat_events_compact",
        ),
        Rule(
            "reports",
            "Reports about users and messages (moderation record, evidence snapshot)",
            "while open; the evidence snapshot until resolved",
            "snapshot wiped when resolved; erased users' fields cleared at erasure",
            "chat.report_resolve + privacy.erasure_run",
        ),
        Rule(
            "dating_deleted_posts",
            "Voice posts their author deleted (row, clip, photos, likes, comments on them)",
            f"{d('dating_deleted_posts')} days after deletion (files at once unless an open "
            "report holds them)",
            "deleted with every file",
            "privacy.retention_purge",
        ),
        Rule(
            "dating_listens",
            "Who played a voice post to the end",
            f"{d('dating_listens')} days",
            "deleted; the post's listen count keeps the number",
            "privacy.retention_purge",
        ),
        Rule(
            "dating_passes",
            "Passes (who a person chose not to see in discover)",
            f"{settings.DATING_PASS_DAYS} days (the hiding period)",
            "deleted",
            "privacy.retention_purge",
        ),
        Rule(
            "dating_voice_match",
            "Voice matches (who was paired with whom, when, their likes); the waiting queue itself",
            f"{d('dating_voice_match')} days after the pairing; a queue entry "
            f"{settings.DATING_VOICE_MATCH_WAIT_SECONDS} seconds",
            "deleted (a match made by one stays a match)",
            "privacy.retention_purge; the queue expires by itself",
        ),
        Rule(
            "chat_requests",
            "Message requests never accepted (declined or still pending): the conversation, "
            "the sender's messages and files in it, where the request stands",
            f"{d('chat_requests')} days after its last message",
            "deleted (declined or not alike: the sender cannot tell)",
            "privacy.retention_purge",
        ),
        Rule(
            "chat_declined_invitations",
            "Group invitations the invitee declined (who, which group, when)",
            f"{d('chat_declined_invitations')} days after the decline",
            "deleted (the group may invite them again)",
            "privacy.retention_purge",
        ),
        Rule(
            "closed_requests",
            "Closed privacy requests, their audit trail and erasure step logs",
            f"{d('closed_requests')} days after closing",
            "deleted",
            "privacy.retention_purge",
        ),
        Rule(
            "consent_proof",
            "Proof of consent of erased accounts (versions, times; no IP) in the ledger",
            f"{d('consent_proof')} days after erasure",
            "emptied (the ledger's hashes stay)",
            "privacy.retention_purge",
        ),
        Rule(
            "identity_failed_attempts",
            "Failed identity verification attempts (masked name and ID number, ID hash, reason)",
            f"{d('identity_failed_attempts')} days",
            "deleted",
            "privacy.retention_purge",
        ),
        Rule(
            "abandoned_signups",
            "Sign-ups whose code was never entered (number, date of birth, consents)",
            f"{d('abandoned_signups') * 24} hours",
            "deleted with everything attached",
            "privacy.retention_purge",
        ),
        Rule(
            "account",
            "Account, profile, files, conversations' links, consents",
            "until the account is deleted",
            "erased (registry, docs/privacy.md)",
            "privacy.erasure_run",
        ),
    ]


def _batched(queryset: QuerySet[Any], action: Callable[[QuerySet[Any]], Any]) -> int:
    total = 0
    model = queryset.model
    for _ in range(MAX_BATCHES):
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        action(model._default_manager.filter(pk__in=ids))
        total += len(ids)
        if len(ids) < BATCH:
            break
    return total


def _ago(now: dt.datetime, key: str) -> dt.datetime:
    return now - dt.timedelta(days=_days(key))


def purge_security_events(now: dt.datetime) -> int:
    return _batched(
        SecurityEvent.objects.filter(created_at__lt=_ago(now, "security_events")),
        lambda qs: qs.delete(),
    )


def purge_ip_addresses(now: dt.datetime) -> int:
    return _batched(
        SecurityEvent.objects.filter(
            created_at__lt=_ago(now, "ip_addresses"), ip_address__isnull=False
        ),
        lambda qs: qs.update(ip_address=None),
    )


def purge_sms_deliveries(now: dt.datetime) -> int:
    return _batched(
        SmsDelivery.objects.filter(created_at__lt=_ago(now, "sms_deliveries")),
        lambda qs: qs.delete(),
    )


def purge_devices(now: dt.datetime) -> int:
    return _batched(
        Device.objects.filter(last_seen_at__lt=_ago(now, "devices")), lambda qs: qs.delete()
    )


def purge_sessions(now: dt.datetime) -> int:
    live = Session.objects.filter(expire_date__gt=now).values("session_key")
    stale = UserSession.objects.filter(
        Q(last_seen_at__lt=_ago(now, "sessions")) | ~Q(session_key__in=live)
    )
    return _batched(stale, lambda qs: qs.delete())


def purge_tombstones(now: dt.datetime) -> int:
    cutoff = _ago(now, "tombstones")
    removed = (
        Q(recalled_at__lt=cutoff)
        | Q(moderated_at__lt=cutoff)
        | (Q(sender__isnull=True) & ~Q(kind=MessageKind.SYSTEM) & Q(created_at__lt=cutoff))
    )
    held = Report.objects.filter(status=ReportStatus.OPEN).values("message_id")
    versions = _batched(
        MessageVersion.objects.filter(message__in=Message.objects.filter(removed)).exclude(
            message_id__in=held
        ),
        lambda qs: qs.delete(),
    )
    rows = _batched(
        Message.objects.filter(removed).filter(
            Q(client_id__isnull=False) | Q(edited_at__isnull=False)
        ),
        lambda qs: qs.update(client_id=None, edited_at=None),
    )
    return versions + rows


def purge_dating_deleted_posts(now: dt.datetime) -> int:
    from dating.services import deleted_posts_purge

    total = 0
    for _ in range(MAX_BATCHES):
        done = deleted_posts_purge(before=_ago(now, "dating_deleted_posts"), batch=BATCH)
        total += done
        if done < BATCH:
            break
    return total


def purge_dating_listens(now: dt.datetime) -> int:
    from dating.services import listens_compact

    total = 0
    for _ in range(MAX_BATCHES):
        done = listens_compact(before=_ago(now, "dating_listens"), batch=BATCH)
        total += done
        if done < BATCH:
            break
    return total


def purge_dating_passes(now: dt.datetime) -> int:
    from dating.matching import passes_purge

    total = 0
    for _ in range(MAX_BATCHES):
        done = passes_purge(now=now, batch=BATCH)
        total += done
        if done < BATCH:
            break
    return total


def purge_dating_voice_match(now: dt.datetime) -> int:
    from dating.voicematch import sessions_purge

    total = 0
    for _ in range(MAX_BATCHES):
        done = sessions_purge(before=_ago(now, "dating_voice_match"), batch=BATCH)
        total += done
        if done < BATCH:
            break
    return total


def purge_chat_requests(now: dt.datetime) -> int:
    from chat.services import unanswered_requests_purge

    total = 0
    for _ in range(MAX_BATCHES):
        done = unanswered_requests_purge(before=_ago(now, "chat_requests"), batch=BATCH)
        total += done
        if done < BATCH:
            break
    return total


def purge_chat_declined_invitations(now: dt.datetime) -> int:
    from chat.services import declined_invitations_purge

    total = 0
    for _ in range(MAX_BATCHES):
        done = declined_invitations_purge(
            before=_ago(now, "chat_declined_invitations"), batch=BATCH
        )
        total += done
        if done < BATCH:
            break
    return total


def purge_closed_requests(now: dt.datetime) -> int:
    return _batched(
        PrivacyRequest.objects.filter(
            status__in=[
                RequestStatus.COMPLETE,
                RequestStatus.DENIED,
                RequestStatus.CANCELED,
                RequestStatus.DUPLICATE,
            ],
            finished_at__lt=_ago(now, "closed_requests"),
        ),
        lambda qs: qs.delete(),
    )


def purge_consent_proof(now: dt.datetime) -> int:
    return _batched(
        ErasureLedgerEntry.objects.filter(consent_proof_until__lt=now),
        lambda qs: qs.update(consent_proof=[], consent_proof_until=None),
    )


def abandoned_signups(now: dt.datetime) -> QuerySet[User]:
    """Users a sign-up created whose code was never entered (P1, P15).

    The sign-up form records the consents with the user row, so the shape is: consents,
    number never verified, never logged in, no social account, not staff. Accounts made
    in the admin or a shell have no consent and are left alone.
    """
    return (
        User.objects.filter(
            date_joined__lt=_ago(now, "abandoned_signups"),
            phone_verified=False,
            last_login__isnull=True,
            is_staff=False,
            consents__isnull=False,
        )
        .exclude(socialaccount__isnull=False)
        .distinct()
    )


def purge_abandoned_signups(now: dt.datetime) -> int:
    return _batched(abandoned_signups(now), lambda qs: qs.delete())


def purge_unverified_requests(now: dt.datetime) -> int:
    return requests_expire_unverified(now=now)


def purge_identity_failed_attempts(now: dt.datetime) -> int:
    from accounts.identity.services import identity_attempts_purge

    return identity_attempts_purge(before=_ago(now, "identity_failed_attempts"))


def purge_exports(now: dt.datetime) -> int:
    return exports_expire(now=now)


PURGES: dict[str, Callable[[dt.datetime], int]] = {
    "security_events": purge_security_events,
    "ip_addresses": purge_ip_addresses,
    "sms_deliveries": purge_sms_deliveries,
    "unverified_requests": purge_unverified_requests,
    "exports": purge_exports,
    "devices": purge_devices,
    "sessions": purge_sessions,
    "tombstones": purge_tombstones,
    "dating_deleted_posts": purge_dating_deleted_posts,
    "dating_listens": purge_dating_listens,
    "dating_passes": purge_dating_passes,
    "dating_voice_match": purge_dating_voice_match,
    "chat_requests": purge_chat_requests,
    "chat_declined_invitations": purge_chat_declined_invitations,
    "closed_requests": purge_closed_requests,
    "consent_proof": purge_consent_proof,
    "identity_failed_attempts": purge_identity_failed_attempts,
    "abandoned_signups": purge_abandoned_signups,
}


def retention_purge(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Run every purge of the retention table once (P15); counts per rule, no values."""
    now = now or timezone.now()
    counts = {key: purge(now) for key, purge in PURGES.items()}
    logger.info("retention purge: %s", counts)
    return counts
