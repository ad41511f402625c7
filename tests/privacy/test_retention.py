"""Retention purges (P15): each rule removes only what is past its period, in batches,
and running it twice changes nothing more. Anonymous statistics (P19)."""

from __future__ import annotations

import datetime as dt

import pytest
from allauth.usersessions.models import UserSession
from django.conf import LazySettings
from django.utils import timezone

from accounts.models import Device, SecurityEvent, SmsDelivery
from chat.models import Message, MessageVersion
from privacy import retention
from privacy.lifecycle import request_create
from privacy.models import ErasureLedgerEntry, PrivacyRequest
from privacy.stats import stats_messages_per_day, stats_requests_open, stats_signups_per_day
from privacy.transitions import request_complete
from tests.factories.chat import make_device, make_direct, make_user, send
from tests.helpers import session_token_for

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _old(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def test_each_purge_keeps_what_is_young_and_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "BATCH", 2)  # several batches
    user = make_user()
    for _ in range(3):
        SecurityEvent.objects.create(user=user, kind="login_succeeded", created_at=_old(400))
    young_event = SecurityEvent.objects.create(
        user=user, kind="login_succeeded", ip_address="203.0.113.7", created_at=_old(100)
    )
    fresh_event = SecurityEvent.objects.create(
        user=user, kind="login_succeeded", ip_address="203.0.113.8"
    )
    old_sms = SmsDelivery.objects.create(
        masked_phone="+86***", purpose="login", channel="sms", backend="x", created_at=_old(40)
    )
    new_sms = SmsDelivery.objects.create(
        masked_phone="+86***", purpose="login", channel="sms", backend="x"
    )
    stale_device = make_device(user, last_seen_at=_old(200))
    live_device = make_device(user)
    token = session_token_for(user)
    UserSession.objects.create(user=user, session_key=token, ip="203.0.113.9")
    UserSession.objects.create(user=user, session_key="gone-session", ip="203.0.113.9")
    other = make_user()
    conversation = make_direct(user, other)
    recalled = send(user, conversation, "recalled long ago")
    Message.objects.filter(pk=recalled.pk).update(text="", recalled_at=_old(40), edited_at=_old(41))
    MessageVersion.objects.create(message=recalled, text="old secret")
    kept = send(user, conversation, "still here")
    unverified = request_create(user=user, kind="rectification", details="x")
    PrivacyRequest.objects.filter(pk=unverified.pk).update(received_at=_old(2))
    closed = request_create(user=other, kind="rectification", details="y", identity_confirmed=True)
    PrivacyRequest.objects.filter(pk=closed.pk).update(status="approved")
    closed.refresh_from_db()
    request_complete(privacy_request=closed, actor=None)
    PrivacyRequest.objects.filter(pk=closed.pk).update(finished_at=_old(4 * 365))
    proof = ErasureLedgerEntry.objects.create(
        user_hash="h1", consent_proof=[{"document": "privacy_policy"}], consent_proof_until=_old(1)
    )

    counts = retention.retention_purge(now=NOW)

    assert counts["security_events"] == 3
    assert counts["ip_addresses"] == 1
    assert list(SecurityEvent.objects.values_list("pk", flat=True).order_by("pk")) == [
        young_event.pk,
        fresh_event.pk,
    ]
    young_event.refresh_from_db()
    assert young_event.ip_address is None
    fresh_event.refresh_from_db()
    assert fresh_event.ip_address == "203.0.113.8"
    assert not SmsDelivery.objects.filter(pk=old_sms.pk).exists()
    assert SmsDelivery.objects.filter(pk=new_sms.pk).exists()
    assert not Device.objects.filter(pk=stale_device.pk).exists()
    assert Device.objects.filter(pk=live_device.pk).exists()
    assert list(UserSession.objects.values_list("session_key", flat=True)) == [token]
    recalled.refresh_from_db()
    assert recalled.client_id is None
    assert recalled.edited_at is None
    assert not MessageVersion.objects.filter(message=recalled).exists()
    kept.refresh_from_db()
    assert kept.client_id is not None
    unverified.refresh_from_db()
    assert unverified.status == "canceled"
    assert not PrivacyRequest.objects.filter(pk=closed.pk).exists()
    proof.refresh_from_db()
    assert proof.consent_proof == []
    assert proof.user_hash == "h1"

    again = retention.retention_purge(now=NOW)
    assert set(again.values()) == {0}


def test_statistics_are_aggregates_with_small_counts_suppressed(settings: LazySettings) -> None:
    settings.MEETNOW_STATS_MIN_COUNT = 3
    users = [make_user() for _ in range(4)]
    conversation = make_direct(users[0], users[1])
    send(users[0], conversation, "a")  # one message today: suppressed
    for user in users[:3]:
        request_create(user=user, kind="rectification", details="x")
    signups = stats_signups_per_day(days=3)
    assert len(signups) == 3
    assert signups[-1]["count"] == 4
    assert signups[0]["count"] == 0
    messages = stats_messages_per_day(days=2)
    assert messages[-1]["count"] is None
    requests = stats_requests_open()
    assert requests["by_kind_and_status"]["rectification"]["identity_unverified"] == 3
    assert requests["overdue"] == 0
    text = repr((signups, messages, requests))
    for user in users:
        assert str(user.uuid) not in text
        assert str(user.phone) not in text
