"""Admin for users, devices, security events and SMS deliveries.

Phone numbers are shown masked (``+86 138****8000``) to everyone but superusers (P18);
searching by an exact number still works, typed in national or international form.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import services
from accounts.models import Device, SecurityEvent, SmsDelivery, User
from accounts.phones import InvalidPhoneError, phone_mask, phone_normalise


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = (
        "uuid",
        "nickname",
        "phone_display",
        "phone_verified",
        "gender",
        "is_active",
        "banned_at",
        "is_staff",
        "date_joined",
    )
    list_filter = ("is_active", "is_staff", "phone_verified", "gender")
    search_fields = ("nickname", "username")
    ordering = ("-date_joined",)
    actions = ("ban", "unban")
    readonly_fields = ("uuid", "date_joined", "last_login", "banned_at", "phone_display")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        phone = ["phone"] if request.user.is_superuser else ["phone_display"]
        fields = [
            "uuid",
            "username",
            *phone,
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
        ]
        if request.user.is_superuser:
            fields += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return fields

    def get_list_display(self, request: HttpRequest) -> Any:
        if request.user.is_superuser:
            return tuple("phone" if f == "phone_display" else f for f in self.list_display)
        return self.list_display

    @admin.display(description="phone")
    def phone_display(self, user: User) -> str:
        return phone_mask(str(user.phone)) if user.phone else "-"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[User], search_term: str
    ) -> tuple[QuerySet[User], bool]:
        term = search_term.strip()
        if any(ch.isdigit() for ch in term):
            try:
                phone = phone_normalise(term)
            except InvalidPhoneError:
                pass
            else:
                return queryset.filter(phone=phone), False
        return super().get_search_results(request, queryset, search_term)

    @admin.action(description="Ban the selected accounts (sessions end at once)")
    def ban(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = 0
        for user in queryset.filter(banned_at__isnull=True, is_superuser=False):
            services.user_ban(user=user)
            count += 1
        self.message_user(request, f"{count} account(s) banned.", messages.SUCCESS)

    @admin.action(description="Lift the ban of the selected accounts")
    def unban(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = 0
        for user in queryset.filter(banned_at__isnull=False):
            services.user_unban(user=user)
            count += 1
        self.message_user(request, f"{count} account(s) unbanned.", messages.SUCCESS)


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("pk", "user", "platform", "model", "os_version", "app_version", "last_seen_at")
    list_filter = ("platform",)
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    search_fields = ("device_id",)
    exclude = ("session_key", "push_token")


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "user", "ip_address", "device")
    list_filter = ("kind",)
    list_select_related = ("user", "device")
    date_hierarchy = "created_at"


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
