"""Admin for users, devices, security events and SMS deliveries (P6, P12, P18).

Built on :class:`meetnow.lib.adminkit.StaffModelAdmin`: phone numbers, IPs and
device ids are shown masked (``+86 138****8000``) to everyone but superusers, and a
staff member with the reveal permission sees one in clear after giving a logged
reason. Searching by an exact number still works, typed in national or
international form; a partial number finds nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from accounts import services
from accounts.models import Device, SecurityEvent, SmsDelivery, User
from accounts.phones import InvalidPhoneError, phone_mask, phone_normalise
from meetnow.lib.adminkit import (
    ReadOnlyAdmin,
    StaffModelAdmin,
    audit_text,
    group_label,
    translate_role_choices,
)
from meetnow.lib.masking import can_see_personal_data, mask_device_id, mask_ip


def _phone_mask(value: Any) -> str:
    return phone_mask(str(value)) if value else "-"


@admin.register(User)
class UserAdmin(StaffModelAdmin):
    list_display = (
        "uuid",
        "nickname",
        "phone",
        "phone_verified",
        "gender",
        "is_active",
        "banned_at",
        "is_staff",
        "date_joined",
    )
    list_filter = ("is_active", "is_staff", "phone_verified", "gender")
    search_fields = ("=phone", "nickname", "username")
    ordering = ("-date_joined",)
    actions = ("ban", "unban")
    fields = (
        "uuid",
        "username",
        "phone",
        "phone_verified",
        "nickname",
        "gender",
        "bio",
        "date_of_birth",
        "push_enabled",
        "is_active",
        "banned_at",
        "date_joined",
        "last_login",
        "is_staff",
        "is_superuser",
        "groups",
        "user_permissions",
    )
    masked_fields = {"phone": _phone_mask}
    reveal_fields = {"phone": (_("phone number"), lambda user: user.phone)}
    reveal_permission = "privacy.reveal_personal_data"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = ["uuid", "date_joined", "last_login", "banned_at"]
        if not can_see_personal_data(request.user):
            # Moderators may fix an offensive nickname or bio and ban (actions), no more.
            editable = {"nickname", "bio"}
            readonly = [f for f in self.fields if f not in editable]
        return self._swap([*readonly, *super().get_readonly_fields(request, obj)])

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        term = search_term.strip()
        try:  # a user's UUID (issue 7: search by exact phone, nickname or UUID)
            return queryset.filter(uuid=uuid.UUID(term)), False
        except ValueError:
            pass
        if sum(ch.isdigit() for ch in term) >= 6:
            try:
                phone = phone_normalise(term)
            except InvalidPhoneError:
                pass
            else:
                return queryset.filter(phone=phone), False
        return super().get_search_results(request, queryset, search_term)

    @admin.action(description=_("Ban the selected accounts (sessions end at once)"))
    def ban(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        banned = []
        for user in queryset.filter(banned_at__isnull=True, is_superuser=False):
            services.user_ban(user=user)
            banned.append(user)
        self.log_staff_action(request, banned, audit_text(gettext_noop("Banned (sessions ended).")))
        self.message_user(
            request, _("%(count)d account(s) banned.") % {"count": len(banned)}, messages.SUCCESS
        )

    @admin.action(description=_("Lift the ban of the selected accounts"))
    def unban(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        lifted = []
        for user in queryset.filter(banned_at__isnull=False):
            services.user_unban(user=user)
            lifted.append(user)
        self.log_staff_action(request, lifted, audit_text(gettext_noop("Ban lifted.")))
        self.message_user(
            request, _("%(count)d account(s) unbanned.") % {"count": len(lifted)}, messages.SUCCESS
        )


@admin.register(Device)
class DeviceAdmin(StaffModelAdmin):
    list_display = (
        "pk",
        "user",
        "platform",
        "model",
        "os_version",
        "app_version",
        "ip_address",
        "last_seen_at",
    )
    list_filter = ("platform",)
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    search_fields = ("=device_id",)
    fields = (
        "user",
        "device_id",
        "platform",
        "model",
        "os_version",
        "app_version",
        "ip_address",
        "push_enabled",
        "created_at",
        "last_seen_at",
    )
    readonly_fields = ("created_at", "last_seen_at")
    masked_fields = {"device_id": mask_device_id, "ip_address": mask_ip}


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "user", "ip_address", "device")
    list_filter = ("kind",)
    list_select_related = ("user", "device")
    date_hierarchy = "created_at"
    masked_fields = {"ip_address": mask_ip}


@admin.register(SmsDelivery)
class SmsDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "masked_phone",
        "purpose",
        "channel",
        "backend",
        "status",
        "attempts",
        "provider_id",
    )
    list_filter = ("status", "channel", "purpose", "backend")


# Identity verification (issue 18): its admin lives with it.
class RoleAdmin(GroupAdmin):
    """The staff groups (staff.roles), named and their permissions listed in the reader's
    language; the stored names stay the English keys ``setup_roles`` finds them by."""

    list_display = ("name", "role")

    @admin.display(description=_("role"))
    def role(self, group: Group) -> str:
        return group_label(group)

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest | None = None, **kwargs: Any
    ) -> Any:
        return translate_role_choices(super().formfield_for_manytomany(db_field, request, **kwargs))


admin.site.unregister(Group)
admin.site.register(Group, RoleAdmin)

import accounts.identity.admin  # noqa: E402, F401
