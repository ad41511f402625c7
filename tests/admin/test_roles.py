"""The staff groups and their least permissions are pinned here (P12)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from staff.roles import MODERATORS, ROLES, SUPPORT, roles_sync
from tests.admin.conftest import login_mfa_passed

pytestmark = pytest.mark.django_db

EXPECTED = {
    MODERATORS: {
        "accounts.view_user",
        "accounts.change_user",
        "chat.view_report",
        "chat.change_report",
        "chat.view_message",
        "dating.view_postreport",
        "dating.change_postreport",
        "dating.view_voicepost",
        "dating.view_postcomment",
        "dating.take_down_voicepost",
        "media.view_mediafile",
        "media.take_down_mediafile",
    },
    SUPPORT: {
        "accounts.view_user",
        "privacy.view_privacyrequest",
        "privacy.change_privacyrequest",
        "privacy.reveal_personal_data",
        "privacy.view_privacyrequestevent",
        "privacy.view_erasurestep",
        "privacy.view_consent",
        "privacy.view_consentwithdrawal",
        "privacy.view_supportticket",
        "privacy.change_supportticket",
        "accounts.view_identityverification",
    },
}


def group_permissions(name: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_each_group_has_exactly_its_pinned_permissions() -> None:
    assert {name: set(perms) for name, perms in ROLES.items()} == EXPECTED
    report = roles_sync()
    assert report.missing == []
    for name, expected in EXPECTED.items():
        assert group_permissions(name) == expected, name


def test_no_role_can_delete_or_manage_staff() -> None:
    for perms in ROLES.values():
        for perm in perms:
            assert ".delete_" not in perm
            assert not perm.startswith(("auth.", "admin.", "mfa.", "usersessions."))
            assert perm not in {
                "privacy.change_consent",
                "privacy.change_policydocument",
                "chat.change_message",
            }


def test_setup_roles_is_idempotent_and_removes_extra_permissions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("setup_roles")
    moderators = Group.objects.get(name=MODERATORS)
    moderators.permissions.add(Permission.objects.get(codename="delete_user"))
    call_command("setup_roles")
    out = capsys.readouterr().out
    assert "Group 'Moderators' created." in out
    assert "Group 'Moderators' updated." in out
    assert Group.objects.filter(name__in=[MODERATORS, SUPPORT]).count() == 2
    assert "accounts.delete_user" not in group_permissions(MODERATORS)


def test_each_role_sees_only_its_queues(
    client: Client, moderator: User, support_agent: User
) -> None:
    login_mfa_passed(client, moderator)
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/privacy/consent/").status_code == 403
    assert client.get("/admin/admin/logentry/").status_code == 403

    support = Client()
    login_mfa_passed(support, support_agent)
    assert support.get("/admin/privacy/consent/").status_code == 200
    assert support.get("/admin/accounts/device/").status_code == 403
    assert support.get("/admin/accounts/user/").status_code == 200


def test_staff_without_the_permission_cannot_delete_a_draft_policy(
    client: Client, support_agent: User
) -> None:
    from privacy.models import PolicyDocument

    draft = PolicyDocument.objects.create(
        kind="privacy_policy", version="9.9", title="Draft", body="..."
    )
    login_mfa_passed(client, support_agent)
    response = client.post(f"/admin/privacy/policydocument/{draft.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert PolicyDocument.objects.filter(pk=draft.pk).exists()
