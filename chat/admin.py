"""The moderation queue (P8): reports, with the evidence the reporter saw.

Lists show no message text (P18: communication records are never in admin lists in
clear); a moderator opens a report to read its evidence. Every change goes through
the chat services: hide the message, ban the user (accounts service), resolve with
an outcome.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import User
from chat import services
from chat.models import Message, Report, ReportOutcome, ReportStatus


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = (
        "uuid",
        "created_at",
        "reason",
        "target",
        "reported_user",
        "status",
        "outcome",
        "resolved_at",
    )
    list_filter = ("status", "reason", "outcome", "evidence_kind")
    list_select_related = ("reported_user", "reporter")
    search_fields = ("=uuid", "=reported_user__uuid", "=reporter__uuid")
    ordering = ("status", "-created_at")
    date_hierarchy = "created_at"
    actions = ("resolve_no_action", "resolve_warned", "resolve_hide_message", "resolve_ban_user")
    fields = (
        "uuid",
        "created_at",
        "reporter",
        "reported_user",
        "reason",
        "details",
        "conversation",
        "message",
        "evidence_kind",
        "evidence_sent_at",
        "evidence_text",
        "evidence_file",
        "previous_versions",
        "status",
        "outcome",
        "moderator_note",
        "resolved_by",
        "resolved_at",
    )
    readonly_fields = tuple(f for f in fields if f != "moderator_note")
    raw_id_fields = ("reporter", "reported_user", "message", "conversation")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Target")
    def target(self, obj: Report) -> str:
        return f"message {obj.message_id}" if obj.message_id else "user"

    @admin.display(description="Reported attachment")
    def evidence_file(self, obj: Report) -> str:
        from django.utils.html import format_html

        from media.services import media_file_signed_urls

        media_file = obj.evidence_attachment
        if media_file is None:
            return "-"
        urls = media_file_signed_urls(media_file=media_file)
        url = urls.get("original") or next(iter(urls.values()), "")
        if not url:
            return f"{media_file.kind} ({media_file.status})"
        return format_html(
            '<a href="{}" target="_blank">{} (link valid 5 min)</a>', url, media_file.kind
        )

    @admin.display(description="Earlier versions of the message")
    def previous_versions(self, obj: Report) -> str:
        if obj.message_id is None:
            return "-"
        versions = obj.message.versions.order_by("id") if obj.message else []
        return "\n---\n".join(v.text for v in versions) or "-"

    def _resolve(self, request: HttpRequest, queryset: QuerySet[Report], outcome: str) -> None:
        moderator = request.user
        if not isinstance(moderator, User):
            return
        done = 0
        for report in queryset.filter(status=ReportStatus.OPEN):
            services.report_resolve(report=report, moderator=moderator, outcome=outcome)
            done += 1
        self.message_user(request, f"{done} report(s) resolved: {outcome}.", messages.SUCCESS)

    @admin.action(description="Resolve: no action needed", permissions=["change"])
    def resolve_no_action(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._resolve(request, queryset, ReportOutcome.NO_ACTION)

    @admin.action(description="Resolve: user warned", permissions=["change"])
    def resolve_warned(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._resolve(request, queryset, ReportOutcome.USER_WARNED)

    @admin.action(description="Hide the reported message and resolve", permissions=["change"])
    def resolve_hide_message(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._resolve(request, queryset, ReportOutcome.MESSAGE_HIDDEN)

    @admin.action(description="Ban the reported user and resolve", permissions=["change"])
    def resolve_ban_user(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._resolve(request, queryset, ReportOutcome.USER_BANNED)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Read-only view of messages for moderators; the text only on the detail page."""

    list_display = ("id", "conversation", "sender", "kind", "created_at", "removed")
    list_filter = ("kind",)
    list_select_related = ("conversation", "sender")
    search_fields = ("=id", "=sender__uuid", "=conversation__uuid")
    fields = (
        "id",
        "conversation",
        "sender",
        "kind",
        "text",
        "system",
        "created_at",
        "edited_at",
        "recalled_at",
        "moderated_at",
    )
    readonly_fields = fields
    actions = ("hide",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_hide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("chat.change_report")

    @admin.display(boolean=True, description="Removed")
    def removed(self, obj: Message) -> bool:
        return obj.is_removed

    @admin.action(description="Remove the message for everyone", permissions=["hide"])
    def hide(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        moderator = request.user
        if not isinstance(moderator, User):
            return
        for message in queryset:
            services.message_moderate_hide(message=message, moderator=moderator)
        self.message_user(request, "Removed.", messages.SUCCESS)
