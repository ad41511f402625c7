"""The retention table (P15): kind of data -> how long -> what happens, and its purges.

The table below is the single source; docs/privacy.md shows it (a test checks the
two agree). Periods come from ``MEETNOW_RETENTION_DAYS`` (env-overridable). Each
purge is idempotent (it only touches rows still past their period) and batched
(``BATCH`` rows per statement, bounded per run), run daily by the beat task
``privacy.retention_purge``; other beat tasks noted in ``enforced_by`` cover the rest.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Device, Notice, SecurityEvent, SmsDelivery, User
from chat.models import (
    Call,
    CallState,
    Message,
    MessageKind,
    MessageVersion,
    Report,
    ReportStatus,
)
from dating.models import PostReport
from media.models import MediaFile
from media.services import media_file_delete
from privacy.export import exports_expire
from privacy.lifecycle import requests_expire_unverified
from privacy.models import Consent, ErasureLedgerEntry, PrivacyRequest, RequestStatus
from support.models import SupportTicket, SupportTicketPicture, TicketStatus

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
            "task_outbox",
            "Tasks the broker refused (task name and id arguments, a user id for some)",
            "until the broker is back (handed over within "
            f"{settings.MEETNOW_OUTBOX_FLUSH_SECONDS} seconds of its return)",
            "deleted",
            "default.outbox_flush",
        ),
        Rule(
            "reports",
            "Reports about users, messages, voice posts and comments (reporter, reported "
            "user, reason, outcome, moderator's note, evidence snapshot)",
            f"while open (the evidence snapshot until resolved); {d('reports')} days after "
            "resolving",
            "deleted with what is left of the evidence",
            "privacy.retention_purge",
        ),
        Rule(
            "support_tickets",
            "Closed support tickets, their replies and pictures; tickets from the public "
            "form (no account) with the contact given",
            f"{d('support_tickets')} days after closing (a public form's ticket never "
            "closed: after its last activity)",
            "deleted, the pictures from storage too",
            "privacy.retention_purge",
        ),
        Rule(
            "staff_audit",
            "Staff audit trail (the admin's log of who did what to which record)",
            f"{d('staff_audit')} days; longer while a privacy request about that person is "
            "on legal hold",
            "deleted",
            "privacy.retention_purge",
        ),
        Rule(
            "calls",
            "Call history (who called whom, when, how long; never SDP, ICE or IP)",
            f"{d('calls')} days after the call",
            "deleted",
            "privacy.retention_purge",
        ),
        Rule(
            "consent_ips",
            "IP addresses in consent records",
            f"{d('consent_ips')} days",
            "truncated (IPv4 to /24, IPv6 to /48), consent kept",
            "privacy.retention_purge",
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
            f"{d('closed_requests')} days after closing (none on legal hold)",
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
            "notices",
            "In-app notices (outcomes of privacy requests and support tickets, exports ready)",
            f"{d('notices_read')} days after being read; {d('notices')} days if never read",
            "deleted",
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


def _in_batches(step: Callable[[], int]) -> int:
    """Run an owning app's batch purge (``step`` returns how many rows it removed) until
    a batch comes back short, at most ``MAX_BATCHES`` times."""
    total = 0
    for _ in range(MAX_BATCHES):
        done = step()
        total += done
        if done < BATCH:
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

    return _in_batches(
        lambda: deleted_posts_purge(before=_ago(now, "dating_deleted_posts"), batch=BATCH)
    )


def purge_dating_listens(now: dt.datetime) -> int:
    from dating.services import listens_compact

    return _in_batches(lambda: listens_compact(before=_ago(now, "dating_listens"), batch=BATCH))


def purge_dating_passes(now: dt.datetime) -> int:
    from dating.matching import passes_purge

    return _in_batches(lambda: passes_purge(now=now, batch=BATCH))


def purge_dating_voice_match(now: dt.datetime) -> int:
    from dating.voicematch import sessions_purge

    return _in_batches(lambda: sessions_purge(before=_ago(now, "dating_voice_match"), batch=BATCH))


def purge_chat_requests(now: dt.datetime) -> int:
    from chat.services import unanswered_requests_purge

    return _in_batches(
        lambda: unanswered_requests_purge(before=_ago(now, "chat_requests"), batch=BATCH)
    )


def purge_chat_declined_invitations(now: dt.datetime) -> int:
    from chat.services import declined_invitations_purge

    return _in_batches(
        lambda: declined_invitations_purge(
            before=_ago(now, "chat_declined_invitations"), batch=BATCH
        )
    )


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
            legal_hold_at__isnull=True,
        ),
        lambda qs: qs.delete(),
    )


def purge_consent_proof(now: dt.datetime) -> int:
    return _batched(
        ErasureLedgerEntry.objects.filter(consent_proof_until__lt=now),
        lambda qs: qs.update(consent_proof=[], consent_proof_until=None),
    )


def purge_reports(now: dt.datetime) -> int:
    """Resolved reports of chat and dating go a period after resolving (open ones stay)."""
    cutoff = _ago(now, "reports")
    done = _batched(
        Report.objects.filter(status=ReportStatus.RESOLVED, resolved_at__lt=cutoff),
        lambda qs: qs.delete(),
    )
    return done + _batched(
        PostReport.objects.filter(status=ReportStatus.RESOLVED, resolved_at__lt=cutoff),
        lambda qs: qs.delete(),
    )


def _tickets_delete(tickets: QuerySet[SupportTicket]) -> None:
    """Closed tickets go with their replies and pictures, the pictures' files from storage."""
    files = MediaFile.objects.filter(
        pk__in=SupportTicketPicture.objects.filter(ticket__in=tickets).values("media_file_id")
    )
    with transaction.atomic():
        for media_file in files:
            media_file_delete(media_file=media_file)
        tickets.delete()


def purge_support_tickets(now: dt.datetime) -> int:
    """Closed tickets after the period; a public form's ticket (no account, a contact)
    also when it sat that long without activity, closed or not (support/personal_data.py)."""
    cutoff = _ago(now, "support_tickets")
    return _batched(
        SupportTicket.objects.filter(
            Q(status=TicketStatus.CLOSED, closed_at__lt=cutoff)
            | Q(user__isnull=True, updated_at__lt=cutoff)
        ),
        _tickets_delete,
    )


def staff_audit_held() -> Q:
    """Audit entries a legal hold keeps: about a person, or a privacy request, on hold."""
    held = PrivacyRequest.objects.filter(legal_hold_at__isnull=False)
    user_type = ContentType.objects.get_for_model(User)
    request_type = ContentType.objects.get_for_model(PrivacyRequest)
    held_users = [str(pk) for pk in held.exclude(user=None).values_list("user_id", flat=True)]
    held_requests = [str(pk) for pk in held.values_list("pk", flat=True)]
    return Q(content_type=user_type, object_id__in=held_users) | Q(
        content_type=request_type, object_id__in=held_requests
    )


def purge_staff_audit(now: dt.datetime) -> int:
    return _batched(
        LogEntry.objects.filter(action_time__lt=_ago(now, "staff_audit")).exclude(
            staff_audit_held()
        ),
        lambda qs: qs.delete(),
    )


def purge_calls(now: dt.datetime) -> int:
    return _batched(
        Call.objects.filter(state=CallState.ENDED, created_at__lt=_ago(now, "calls")),
        lambda qs: qs.delete(),
    )


def consent_ip_truncated(ip: str) -> str:
    """The network of an IP address: IPv4 to /24, IPv6 to /48 (P15)."""
    address = ipaddress.ip_address(ip)
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False).network_address)


def purge_consent_ips(now: dt.datetime) -> int:
    """Consent IPs older than the period keep only their network; idempotent: rows
    already truncated are not selected again."""
    table = Consent._meta.db_table
    untruncated = Consent.objects.filter(
        accepted_at__lt=_ago(now, "consent_ips"), ip_address__isnull=False
    ).extra(  # noqa: S610  (no outside input: the table name comes from the model)
        where=[
            f"host({table}.ip_address::inet) <> host(network(set_masklen("
            f"{table}.ip_address::inet, CASE family({table}.ip_address::inet) "
            "WHEN 4 THEN 24 ELSE 48 END)))"
        ]
    )

    def truncate(qs: QuerySet[Consent]) -> None:
        for pk, ip in qs.values_list("pk", "ip_address"):
            if ip:
                Consent.objects.filter(pk=pk).update(ip_address=consent_ip_truncated(ip))

    return _batched(untruncated, truncate)


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


def purge_notices(now: dt.datetime) -> int:
    return _batched(
        Notice.objects.filter(
            Q(read_at__lt=_ago(now, "notices_read")) | Q(created_at__lt=_ago(now, "notices"))
        ),
        lambda qs: qs.delete(),
    )


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
    "reports": purge_reports,
    "support_tickets": purge_support_tickets,
    "staff_audit": purge_staff_audit,
    "calls": purge_calls,
    "consent_ips": purge_consent_ips,
    "notices": purge_notices,
}


def retention_purge(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Run every purge of the retention table once (P15); counts per rule, no values."""
    now = now or timezone.now()
    counts = {key: purge(now) for key, purge in PURGES.items()}
    logger.info("retention purge: %s", counts)
    return counts
