"""Every kind of personal data has a bounded retention (P15): the registry walk, and the
purges of resolved reports, closed tickets, the staff audit, call history and consent IPs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accounts.models import User
from chat.models import Call, CallState, Report, ReportStatus
from dating.models import PostReport
from media.models import MediaFile
from meetnow.lib.personal_data import Strategy
from privacy import retention
from privacy.lifecycle import request_create
from privacy.models import Consent, PrivacyRequest
from privacy.registry import get_registry, models_referencing_user
from privacy.selectors import documents_current
from support.models import SupportReply, SupportTicket, SupportTicketPicture, TicketStatus
from tests.factories.chat import make_direct, make_user
from tests.factories.privacy import ready_file, storage_keys

NOW = timezone.now()

# Rules enforced by a task of their own rather than privacy.retention_purge.
ENFORCED_ELSEWHERE = {
    "codes",
    "exports",
    "unclaimed_uploads",
    "chat_events",
    "account",
    "task_outbox",
}

# Kept after erasure without anything of the erased user: the others' shared record.
SHARED_AFTER_ERASURE = {
    # A group's title and photo belong to the group; the creator link is cleared.
    "chat.Conversation",
}

# What issue 19 found kept with no period, and the rule each one now has.
EXPECTED = {
    "chat.Report": "reports",
    "dating.PostReport": "reports",
    "privacy.SupportTicket": "support_tickets",
    "privacy.SupportTicketPicture": "support_tickets",
    "privacy.SupportReply": "support_tickets",
    "admin.LogEntry": "staff_audit",
    "chat.Call": "calls",
    "accounts.SecurityEvent": "security_events",
}


def test_every_model_holding_personal_data_has_a_retention_rule() -> None:
    registry = get_registry()
    rules = {rule.key: rule for rule in retention.retention_table()}
    holders = set(models_referencing_user()) | set(registry.declarations)
    for label in sorted(holders):
        declaration = registry.declarations.get(label)
        assert declaration is not None, f"{label} holds personal data and is not declared"
        assert declaration.retention in rules, f"{label}: no retention rule {declaration.retention}"
        key = declaration.retention
        assert key in retention.PURGES or key in ENFORCED_ELSEWHERE, (
            f"{label}: rule {key} has no purge"
        )
        # "Until the account is deleted" bounds only rows that go with the account.
        if key == "account" and label not in SHARED_AFTER_ERASURE:
            assert declaration.erase == Strategy.DELETE, (
                f"{label} outlives the account ({declaration.erase}) and needs a period"
            )
    for label, key in EXPECTED.items():
        assert registry.declarations[label].retention == key, label
    # Field-level rules: consent IPs, security event IPs, abandoned sign-ups.
    for key in ("consent_ips", "ip_addresses", "abandoned_signups", *EXPECTED.values()):
        assert key in retention.PURGES, key
    # Every rule the table shows is enforced somewhere.
    for key in rules:
        assert key in retention.PURGES or key in ENFORCED_ELSEWHERE, key


def _old(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


@pytest.mark.django_db
def test_resolved_reports_closed_tickets_audit_calls_and_consent_ips_are_purged(
    django_capture_on_commit_callbacks: Any,
) -> None:
    user, other, staff = make_user(), make_user(), make_user()
    resolved = {"status": ReportStatus.RESOLVED, "outcome": "no_action"}
    Report.objects.create(
        reporter=user, reported_user=other, reason="spam", resolved_at=_old(400), **resolved
    )
    young_report = Report.objects.create(
        reporter=user, reported_user=other, reason="spam", resolved_at=_old(10), **resolved
    )
    open_report = Report.objects.create(
        reporter=user, reported_user=other, reason="spam", created_at=_old(900)
    )
    old_post_report = PostReport.objects.create(
        reporter=user, reported_user=other, reason="spam", evidence_kind="post",
        resolved_at=_old(400), **resolved,
    )  # fmt: skip
    open_post_report = PostReport.objects.create(
        reporter=user, reported_user=other, reason="spam", evidence_kind="post"
    )

    closed = SupportTicket.objects.create(
        user=user, text="help", status=TicketStatus.CLOSED, closed_at=_old(400)
    )
    picture = ready_file(user, purpose="support")
    assert storage_keys(picture)
    SupportTicketPicture.objects.create(ticket=closed, media_file=picture)
    SupportReply.objects.create(ticket=closed, text="answer", from_staff=True)
    recently_closed = SupportTicket.objects.create(
        user=user, text="thanks", status=TicketStatus.CLOSED, closed_at=_old(30)
    )
    open_ticket = SupportTicket.objects.create(user=user, text="still", created_at=_old(900))

    user_type = ContentType.objects.get_for_model(User)

    def audit(about: User, days: int) -> LogEntry:
        return LogEntry.objects.create(
            user=staff,
            content_type=user_type,
            object_id=str(about.pk),
            object_repr="someone",
            action_flag=CHANGE,
            change_message="banned",
            action_time=_old(days),
        )

    old_audit, young_audit = audit(user, 1200), audit(user, 100)
    held_person = make_user()
    held_audit = audit(held_person, 1200)
    held = request_create(user=held_person, kind="erasure", details="")
    PrivacyRequest.objects.filter(pk=held.pk).update(legal_hold_at=NOW, legal_hold_reason="court")

    conversation = make_direct(user, other)
    old_call = Call.objects.create(
        conversation=conversation, caller=user, callee=other, media="audio",
        state=CallState.ENDED, outcome="completed", created_at=_old(400), ended_at=_old(400),
    )  # fmt: skip
    young_call = Call.objects.create(
        conversation=conversation, caller=other, callee=user, media="audio",
        state=CallState.ENDED, outcome="completed", created_at=_old(20), ended_at=_old(20),
    )  # fmt: skip

    policy = documents_current()["privacy_policy"]

    def consent_of(person: User, ip: str, accepted_at: dt.datetime) -> Consent:
        return Consent.objects.create(
            user=person,
            document=policy,
            kind=policy.kind,
            version=policy.version,
            ip_address=ip,
            accepted_at=accepted_at,
        )

    consent = consent_of(user, "203.0.113.77", _old(91))
    v6 = consent_of(other, "2001:db8:1234:5678::9", _old(91))
    fresh = consent_of(staff, "198.51.100.23", NOW)

    with django_capture_on_commit_callbacks(execute=True):
        counts = retention.retention_purge(now=NOW)
    assert counts["reports"] == 2
    assert counts["support_tickets"] == 1
    assert counts["staff_audit"] == 1
    assert counts["calls"] == 1
    assert counts["consent_ips"] == 2

    assert set(Report.objects.values_list("pk", flat=True)) == {young_report.pk, open_report.pk}
    assert list(PostReport.objects.values_list("pk", flat=True)) == [open_post_report.pk]
    assert not PostReport.objects.filter(pk=old_post_report.pk).exists()
    assert set(SupportTicket.objects.values_list("pk", flat=True)) == {
        recently_closed.pk,
        open_ticket.pk,
    }
    assert not SupportReply.objects.filter(ticket_id=closed.pk).exists()
    assert not MediaFile.objects.filter(pk=picture.pk).exists()
    assert storage_keys(picture) == []  # the picture left storage too
    assert set(LogEntry.objects.values_list("pk", flat=True)) == {young_audit.pk, held_audit.pk}
    assert not LogEntry.objects.filter(pk=old_audit.pk).exists()
    assert list(Call.objects.values_list("pk", flat=True)) == [young_call.pk]
    assert not Call.objects.filter(pk=old_call.pk).exists()
    consent.refresh_from_db()
    v6.refresh_from_db()
    fresh.refresh_from_db()
    assert consent.ip_address == "203.0.113.0"
    assert v6.ip_address == "2001:db8:1234::"
    assert fresh.ip_address == "198.51.100.23"

    # Idempotent: a second run changes nothing more.
    again = retention.retention_purge(now=NOW)
    for key in ("reports", "support_tickets", "staff_audit", "calls", "consent_ips"):
        assert again[key] == 0, key
