"""Staff roles (P12): the groups and the least permissions each job needs.

``python manage.py setup_roles`` makes the database match :data:`ROLES` exactly
(idempotent: extra permissions a group picked up by hand are removed). Run it after
every ``migrate``. Superusers have every permission and need no group.

- **Moderators** review reports (P8): see and resolve reports, see the reported
  messages, search users and ban/unban them, take down uploaded files.
- **Support** handles privacy requests and support tickets (P13, P17): see and act
  on requests, read their audit events and execution log, read consents, look up
  the requester, answer tickets, reveal a masked value with a logged reason.

Neither role can delete anything, edit message content or consents, publish policy
versions, manage staff accounts or read the admin audit trail (superusers only).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext_noop

# Stored as these English names (code and docs find the groups by them); the admin
# shows them translated (``meetnow.lib.adminkit.group_label``).
MODERATORS = gettext_noop("Moderators")
SUPPORT = gettext_noop("Support")

ROLES: dict[str, frozenset[str]] = {
    MODERATORS: frozenset(
        {
            "accounts.view_user",
            "accounts.change_user",  # ban / unban (actions), never phone or staff fields
            "chat.view_report",
            "chat.change_report",  # resolve: hide message, warn, ban, dismiss
            "chat.view_message",
            "dating.view_postreport",
            "dating.change_postreport",  # resolve: take down, warn, ban, dismiss
            "dating.view_voicepost",
            "dating.view_postcomment",
            "dating.take_down_voicepost",
            "media.view_mediafile",
            "media.take_down_mediafile",
        }
    ),
    SUPPORT: frozenset(
        {
            "accounts.view_user",
            "privacy.view_privacyrequest",
            "privacy.change_privacyrequest",  # approve, deny, extend, hold, retry
            "privacy.reveal_personal_data",  # logged, with a reason
            "privacy.view_privacyrequestevent",
            "privacy.view_erasurestep",
            "privacy.view_consent",
            "privacy.view_consentwithdrawal",
            "privacy.view_supportticket",
            "privacy.change_supportticket",
            "accounts.view_identityverification",  # masked; reveal logged (issue 18)
        }
    ),
}

# Permissions that no model declares in its Meta: (model, codename) -> name.
EXTRA_PERMISSIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("privacy", "privacyrequest"): (
        "reveal_personal_data",
        gettext_noop("Can reveal a requester's masked personal data (logged with a reason)"),
    ),
}


@dataclass
class RolesReport:
    created_groups: list[str]
    missing: list[str]  # permissions whose model does not exist (yet)


def _extra_permissions_ensure() -> None:
    for (app_label, model), (codename, name) in EXTRA_PERMISSIONS.items():
        try:
            content_type = ContentType.objects.get_by_natural_key(app_label, model)
        except ContentType.DoesNotExist:
            continue
        Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )


@transaction.atomic
def roles_sync() -> RolesReport:
    """Create the staff groups and give each exactly the permissions in :data:`ROLES`."""
    _extra_permissions_ensure()
    wanted = set().union(*ROLES.values())
    available = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.filter(
            content_type__app_label__in={p.split(".", 1)[0] for p in wanted}
        ).values_list("pk", "content_type__app_label", "codename")
    }
    created: list[str] = []
    for name, permissions in ROLES.items():
        group, was_created = Group.objects.get_or_create(name=name)
        if was_created:
            created.append(name)
        group.permissions.set([available[p] for p in sorted(permissions) if p in available])
    return RolesReport(created_groups=created, missing=sorted(wanted - available.keys()))
