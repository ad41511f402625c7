"""The support queue of privacy requests (P13, P17): overdue first, actions with reasons,
audit in both trails, export download only for access requests, logged reveal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from accounts.models import User
from meetnow.lib.adminkit import audit_message
from privacy.lifecycle import request_create
from privacy.models import PrivacyRequest, PrivacyRequestEvent, RequestKind, RequestStatus
from tests.admin.conftest import login_mfa_passed

pytestmark = pytest.mark.django_db

LIST = "/admin/privacy/privacyrequest/"


def make_request(
    user: User | None = None, *, kind: str = RequestKind.RECTIFICATION, overdue: bool = False
) -> PrivacyRequest:
    user = user or User.objects.create_user(nickname="requester", phone="+8613800138000")
    request = request_create(user=user, kind=kind, details="fix my name", identity_confirmed=True)
    if overdue:
        PrivacyRequest.objects.filter(pk=request.pk).update(
            due_at=timezone.now() - timedelta(days=1)
        )
    request.refresh_from_db()
    return request


def act(
    client: Client, request: PrivacyRequest, action: str, data: dict[str, Any] | None = None
) -> Any:
    return client.post(f"{LIST}{request.pk}/act/{action}/", data or {})


@pytest.fixture
def agent_client(client: Client, support_agent: User) -> Client:
    return login_mfa_passed(client, support_agent)


def test_overdue_requests_come_first_in_fixed_queries(
    agent_client: Client, django_assert_num_queries: Any
) -> None:
    users = [User.objects.create_user(nickname=f"u{i}") for i in range(10)]
    for i in range(48):
        make_request(users[i % 10])
    late = make_request(users[0], overdue=True)
    closed = make_request(users[1])
    PrivacyRequest.objects.filter(pk=closed.pk).update(
        status=RequestStatus.DENIED, due_at=timezone.now() - timedelta(days=30)
    )
    agent_client.get(LIST)

    # user, permissions (2), deadline-filter-free count, rows with users, date hierarchy (2)
    with django_assert_num_queries(7):
        response = agent_client.get(LIST)
    page = response.content.decode()
    assert page.count('class="field-kind"') == 50
    first_row = page.split('class="field-uuid"')[1]
    assert str(late.uuid) in first_row
    assert "OVERDUE" in first_row
    assert str(closed.uuid) in page.split('class="field-uuid"')[-1]

    overdue_only = agent_client.get(LIST + "?deadline=overdue").content.decode()
    assert overdue_only.count('class="field-kind"') == 1


def test_approve_from_the_request_page(agent_client: Client, support_agent: User) -> None:
    request = make_request(overdue=True)
    page = agent_client.get(f"{LIST}{request.pk}/change/").content.decode()
    for label in ("Approve", "Deny", "Extend the deadline", "Place a legal hold"):
        assert f">{label}</a>" in page
    assert "Retry the job" not in page
    assert 'name="_save"' not in page  # nothing is edited in place
    assert "Download export" not in page
    assert "fix my name" in page  # what the user asked to correct
    assert agent_client.get(f"{LIST}{request.pk}/act/approve/").status_code == 200

    response = act(agent_client, request, "approve")
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status in (RequestStatus.APPROVED, RequestStatus.IN_PROCESSING)
    assert request.reviewed_by == support_agent
    event = PrivacyRequestEvent.objects.get(request=request, action="approved")
    assert event.actor == support_agent
    assert (
        audit_message(LogEntry.objects.get(object_id=str(request.pk)).change_message) == "Approve."
    )
    # The request page shows its audit events.
    assert "approved" in agent_client.get(f"{LIST}{request.pk}/change/").content.decode()


def test_deny_needs_a_reason(agent_client: Client) -> None:
    request = make_request()
    response = act(agent_client, request, "deny", {"reason": ""})
    assert response.status_code == 200
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING

    act(agent_client, request, "deny", {"reason": "We could not confirm it is your account."})
    request.refresh_from_db()
    assert request.status == RequestStatus.DENIED
    assert request.denial_reason == "We could not confirm it is your account."
    entry = LogEntry.objects.get(object_id=str(request.pk))
    assert (
        audit_message(entry.change_message)
        == "Deny. Reason: We could not confirm it is your account."
    )


def test_extend_hold_and_lift(agent_client: Client) -> None:
    request = make_request()
    due = request.effective_due_at
    act(agent_client, request, "extend", {"days": 10, "reason": "Complex request."})
    request.refresh_from_db()
    assert request.extended_due_at == due + timedelta(days=10)
    assert request.extension_reason == "Complex request."

    act(agent_client, request, "hold", {"reason": "Open abuse report."})
    request.refresh_from_db()
    assert request.legal_hold_at is not None
    page = agent_client.get(f"{LIST}{request.pk}/change/").content.decode()
    assert ">Lift the legal hold</a>" in page
    assert ">Place a legal hold</a>" not in page

    act(agent_client, request, "lift_hold", {"reason": "Report closed."})
    request.refresh_from_db()
    assert request.legal_hold_at is None
    actions = list(
        PrivacyRequestEvent.objects.filter(request=request).values_list("action", flat=True)
    )
    assert actions[-3:] == ["extended", "legal_hold_placed", "legal_hold_lifted"]


def test_an_action_the_state_does_not_allow_is_refused(agent_client: Client) -> None:
    request = make_request()
    response = act(agent_client, request, "retry")
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert act(agent_client, request, "explode").status_code == 404


def test_export_download_only_for_a_finished_access_request(agent_client: Client) -> None:
    access = make_request(kind=RequestKind.ACCESS)
    empty_zip = b"PK\x05\x06" + b"\0" * 18
    key = default_storage.save(f"exports/{access.uuid}.zip", ContentFile(empty_zip))
    PrivacyRequest.objects.filter(pk=access.pk).update(
        status=RequestStatus.COMPLETE,
        archive_key=key,
        archive_expires_at=timezone.now() + timedelta(days=3),
    )
    page = agent_client.get(f"{LIST}{access.pk}/change/").content.decode()
    assert ">Download export</a>" in page
    response = agent_client.get(f"{LIST}{access.pk}/export/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert body.startswith(b"PK")
    entry = LogEntry.objects.get(object_id=str(access.pk))
    assert audit_message(entry.change_message) == "Downloaded the export archive."

    rectification = make_request()
    assert agent_client.get(f"{LIST}{rectification.pk}/export/").status_code == 404


def test_support_reveals_the_phone_with_a_logged_reason(
    agent_client: Client, support_agent: User
) -> None:
    request = make_request()
    page = agent_client.get(f"{LIST}{request.pk}/change/").content.decode()
    assert "13800138000" not in page
    assert ">Reveal phone number</a>" in page
    shown = agent_client.post(
        f"{LIST}{request.pk}/reveal/",
        {"field": "phone", "reason": "Calling back to confirm identity"},
    ).content.decode()
    assert "+8613800138000" in shown
    entry = LogEntry.objects.get(object_id=str(request.pk), user=support_agent)
    assert "Calling back to confirm identity" in audit_message(entry.change_message)
    assert "13800138000" not in entry.change_message


def test_moderators_cannot_act_on_privacy_requests(client: Client, moderator: User) -> None:
    request = make_request()
    login_mfa_passed(client, moderator)
    assert act(client, request, "approve").status_code == 403
    assert client.get(f"{LIST}{request.pk}/reveal/").status_code == 403


def test_bulk_approve_from_the_list_is_audited(agent_client: Client, support_agent: User) -> None:
    first, second = make_request(), make_request()
    denied = make_request()
    PrivacyRequest.objects.filter(pk=denied.pk).update(status=RequestStatus.DENIED)
    response = agent_client.post(
        LIST, {"action": "approve", "_selected_action": [first.pk, second.pk, denied.pk]}
    )
    assert response.status_code == 302
    logged = {
        (object_id, audit_message(message))
        for object_id, message in LogEntry.objects.filter(user=support_agent).values_list(
            "object_id", "change_message"
        )
    }
    assert logged == {(str(first.pk), "Approve."), (str(second.pk), "Approve.")}
    denied.refresh_from_db()
    assert denied.status == RequestStatus.DENIED


def test_close_a_request_as_a_duplicate_of_another(
    agent_client: Client, support_agent: User
) -> None:
    first = make_request()
    second = make_request(first.user)
    other = make_request(User.objects.create_user(nickname="someone else"))
    page = agent_client.get(f"{LIST}{second.pk}/change/").content.decode()
    assert ">Close as a duplicate</a>" in page

    # Another user's request is refused, and nothing changes.
    act(agent_client, second, "duplicate", {"original": str(other.uuid)})
    second.refresh_from_db()
    assert second.status == RequestStatus.PENDING

    response = act(agent_client, second, "duplicate", {"original": str(first.uuid)})
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == RequestStatus.DUPLICATE
    assert second.duplicate_of == first
    event = PrivacyRequestEvent.objects.get(request=second, action="marked_duplicate")
    assert event.actor == support_agent
    assert audit_message(LogEntry.objects.get(object_id=str(second.pk)).change_message) == (
        f"Close as a duplicate. Duplicate of {first.uuid}."
    )
    # A closed request offers it no more.
    page = agent_client.get(f"{LIST}{second.pk}/change/").content.decode()
    assert ">Close as a duplicate</a>" not in page
