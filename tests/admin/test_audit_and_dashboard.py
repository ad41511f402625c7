"""The audit trail is read-only and cheap to list; the dashboard shows queues by role."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.admin.models import CHANGE, LogEntry
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from accounts.models import User
from chat.models import Report
from meetnow.lib.adminkit import admin_log, audit_message, audit_text
from meetnow.lib.i18n import display
from tests.admin.conftest import login_mfa_passed
from tests.factories.chat import make_direct, make_user, send

pytestmark = pytest.mark.django_db


def test_admin_log_records_custom_actions(superuser: User) -> None:
    users = [User.objects.create_user(nickname=f"u{i}") for i in range(3)]
    admin_log(user=superuser, objects=users, message=audit_text("Banned: spam wave"))
    admin_log(user=superuser, objects=users[0], message=audit_text("Unbanned: appeal accepted"))
    admin_log(user=superuser, objects=[], message=audit_text("nothing"))
    assert LogEntry.objects.count() == 4
    entry = LogEntry.objects.filter(object_id=str(users[0].pk)).latest("id")
    assert entry.action_flag == CHANGE
    assert audit_message(entry.change_message) == "Unbanned: appeal accepted"


def test_audit_trail_lists_50_entries_in_fixed_queries(
    client: Client, superuser: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    staff = [User.objects.create_user(username=f"staff{i}", is_staff=True) for i in range(5)]
    targets = [User.objects.create_user(nickname=f"t{i}") for i in range(10)]
    for i in range(50):
        admin_log(
            user=staff[i % 5], objects=targets[i % 10], message=audit_text("action %(i)s", i=i)
        )
    login_mfa_passed(client, superuser)
    client.get("/admin/admin/logentry/")  # warm caches (content types, session)

    # signed-in user, user filter choices, content type choices, count, the 50 rows (users
    # and content types joined), date hierarchy (range + days): the same for any number.
    with django_assert_num_queries(7):
        response = client.get("/admin/admin/logentry/")
    assert response.status_code == 200
    assert response.content.decode().count('class="field-action_time') == 50


def test_audit_trail_is_read_only_even_for_superusers(client: Client, superuser: User) -> None:
    target = User.objects.create_user(nickname="t")
    admin_log(user=superuser, objects=target, message=audit_text("Warned: rude"))
    entry = LogEntry.objects.get()
    login_mfa_passed(client, superuser)
    page = client.get(f"/admin/admin/logentry/{entry.pk}/change/")
    assert page.status_code == 200
    assert b"Warned: rude" in page.content
    assert b'name="_save"' not in page.content
    assert client.post(f"/admin/admin/logentry/{entry.pk}/change/", {}).status_code == 403
    assert (
        client.post(f"/admin/admin/logentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert client.get("/admin/admin/logentry/add/").status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def _report(**kwargs: Any) -> Report:
    reporter = User.objects.create_user(nickname="reporter")
    return Report.objects.create(reporter=reporter, reason="spam", **kwargs)


def test_dashboard_shows_the_moderation_queue_to_moderators(
    client: Client, moderator: User, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    _report(created_at=timezone.now() - timedelta(hours=3))
    _report()
    _report(status="resolved")
    login_mfa_passed(client, moderator)
    with django_assert_max_num_queries(8):
        page = client.get("/admin/").content.decode()
    assert 'id="dashboard"' in page
    assert "Open reports" in page
    assert (
        '<td class="dashboard-value" style="color: var(--error-fg); font-weight: bold;">2</td>'
        in page
    )
    assert "oldest waiting 3" in page
    assert "privacy requests" not in page


def test_staff_without_queues_see_only_anonymous_statistics(
    client: Client, make_staff: Callable[..., User], settings: LazySettings
) -> None:
    settings.MEETNOW_STATS_MIN_COUNT = 5
    for i in range(6):
        make_user(f"new{i}")
    a, b = make_user("a"), make_user("b")
    send(a, make_direct(a, b), "hi")
    login_mfa_passed(client, make_staff("nobody"))
    page = client.get("/admin/").content.decode()
    assert 'id="dashboard-queues"' not in page
    today = display(timezone.now().date())  # as the staff member reads dates
    row = page[page.index(f"<td>{today}</td>") :].split("</tr>")[0]
    # 8 sign-ups today; 1 message is too few to show (it could point at a person).
    assert "<td>8</td>" in row
    assert "fewer than 5" in row
    assert "hi" not in row


def test_publishing_a_policy_version_is_in_the_audit_trail(
    client: Client, superuser: User, celery_eager: None
) -> None:
    from privacy.models import PolicyDocument

    draft = PolicyDocument.objects.create(
        kind="user_agreement",
        version="1.7",
        title="Agreement",
        body="Text.",
        body_zh_hans="文本。",
        material_change=False,
    )
    login_mfa_passed(client, superuser)
    response = client.post(
        "/admin/privacy/policydocument/",
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.published_at is not None
    entry = LogEntry.objects.get(object_id=str(draft.pk), content_type__model="policydocument")
    assert entry.user == superuser
    assert (
        audit_message(entry.change_message)
        == "Published version 1.7 of User service agreement (not material)."
    )
