"""Support sees identity verifications masked, reveals with a logged reason (issue 18, P18)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.identity.idnumber import id_number_hash
from accounts.identity.models import IdentityVerification
from accounts.models import User
from meetnow.lib.adminkit import audit_message
from tests.accounts.identity_helpers import make_id
from tests.admin.conftest import login_mfa_passed

pytestmark = [pytest.mark.django_db, pytest.mark.urls("meetnow.urls")]

ID_NUMBER = make_id(region="310104", birth="19851111", seq="777")
URL = "/admin/accounts/identityverification/"


def _attempt(user: User, **fields: object) -> IdentityVerification:
    values: dict[str, object] = {
        "provider": "console",
        "status": "verified",
        "id_hash": id_number_hash(ID_NUMBER),
        "birth_date": dt.date(1985, 11, 11),
        "masked_name": "王*",
        "masked_id_number": "**************" + ID_NUMBER[-4:],
        "verified_at": timezone.now(),
        **fields,
    }
    return IdentityVerification.objects.create(user=user, **values)


@pytest.fixture
def duplicate() -> tuple[IdentityVerification, IdentityVerification]:
    holder = User.objects.create_user(nickname="holder")
    other = User.objects.create_user(nickname="other")
    verified = _attempt(holder)
    refused = _attempt(
        other, status="failed", reason_code="duplicate_id", verified_at=None, masked_name="王*"
    )
    return verified, refused


def test_support_sees_the_duplicate_but_no_number_and_reveals_with_a_logged_reason(
    client: Client, support_agent: User, duplicate: tuple[IdentityVerification, ...]
) -> None:
    verified, refused = duplicate
    login_mfa_passed(client, support_agent)
    page = client.get(URL).content.decode()
    assert "duplicate_id" in page or "already verifies another account" in page
    assert str(verified.user.uuid) in page  # "same ID as": the holder of the verified record
    assert ID_NUMBER[-4:] not in page  # even the masked forms wait for a reveal
    assert "王*" not in page
    assert verified.id_hash not in page

    found = client.get(URL, {"q": str(verified.user.uuid)}).content.decode()
    assert str(verified.user.uuid) in found
    assert client.get(URL, {"q": ID_NUMBER}).status_code == 200  # no search by number

    detail = client.get(f"{URL}{refused.pk}/change/").content.decode()
    assert ID_NUMBER[-4:] not in detail
    assert refused.id_hash not in detail

    reveal = f"{URL}{refused.pk}/reveal/"
    assert client.post(reveal, {"field": "masked_id_number", "reason": "why"}).status_code == 200
    assert not LogEntry.objects.exists()
    shown = client.post(
        reveal, {"field": "masked_id_number", "reason": "Ticket 7: user says the ID is theirs"}
    ).content.decode()
    assert f'id="revealed-value">**************{ID_NUMBER[-4:]}<' in shown
    assert ID_NUMBER not in shown
    entry = LogEntry.objects.get()
    assert entry.user_id == support_agent.pk
    assert audit_message(entry.change_message) == (
        "Revealed masked ID number. Reason: Ticket 7: user says the ID is theirs"
    )


def test_list_costs_the_same_queries_whatever_its_size(client: Client, support_agent: User) -> None:
    login_mfa_passed(client, support_agent)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    users = [User.objects.create_user(nickname=f"u{i}") for i in range(12)]
    _attempt(users[0])
    small = count()
    for index, user in enumerate(users[1:], start=1):
        _attempt(
            user,
            status="failed",
            reason_code="duplicate_id",
            verified_at=None,
            masked_name=f"{index}*",
        )
    assert count() == small


def test_superusers_see_the_masked_forms_never_the_number(
    client: Client, superuser: User, duplicate: tuple[IdentityVerification, ...]
) -> None:
    login_mfa_passed(client, superuser)
    page = client.get(URL).content.decode()
    assert "**************" + ID_NUMBER[-4:] in page
    assert ID_NUMBER not in page
    assert "王*" in page
    assert client.get(f"{URL}add/").status_code == 403
