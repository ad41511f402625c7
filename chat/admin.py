"""The moderation queue (P8): reports, with the evidence the reporter saw.

Lists show no message text (P18: communication records are never in admin lists in
clear); a moderator opens a report to read its evidence. Every change goes through
the chat services: hide the message, ban the user (accounts service), resolve with
an outcome.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from accounts.models import User
from chat import services
from chat.models import Call, Message, Report, ReportOutcome, ReportStatus
from meetnow.lib.adminkit import (
    AnyModelAdmin,
    ReadOnlyMixin,
    admin_log,
    audit_text,
    resolved_audit_text,
)
from meetnow.lib.i18n import display

CONTEXT_AROUND = 3  # messages shown before and after the reported one


class ReportActionForm(ActionForm):
    note = forms.CharField(label=_("Outcome note"), required=False, max_length=500)


@admin.register(Report)
class ReportAdmin(AnyModelAdmin):
    # Staff console (issue 7): counts per filter value, the outcome note with the
    # actions, the waiting time, the conversation around the reported message.
    action_form = ReportActionForm
    show_facets = admin.ShowFacets.ALWAYS
    list_per_page = 50
    show_full_result_count = False
    list_display = (
        "uuid",
        "created_at",
        "waiting",
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
        "context",
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

    @admin.display(description=_("Target"))
    def target(self, obj: Report) -> str:
        return f"message {obj.message_id}" if obj.message_id else "user"

    @admin.display(description=_("Reported attachment"))
    def evidence_file(self, obj: Report) -> str:
        from django.utils.html import format_html

        from media.services import media_file_signed_urls

        media_file = obj.evidence_attachment
        if media_file is None:
            return "-"
        urls = media_file_signed_urls(media_file=media_file)
        url = urls.get("original") or next(iter(urls.values()), "")
        if not url:
            return f"{media_file.get_kind_display()} ({media_file.get_status_display()})"
        return format_html(
            '<a href="{}" target="_blank">{}</a>',
            url,
            _("%(kind)s (link valid 5 min)") % {"kind": media_file.get_kind_display()},
        )

    @admin.display(description=_("Earlier versions of the message"))
    def previous_versions(self, obj: Report) -> str:
        if obj.message_id is None:
            return "-"
        versions = obj.message.versions.order_by("id") if obj.message else []
        return "\n---\n".join(v.text for v in versions) or "-"

    @admin.display(description=_("Waiting"), ordering="created_at")
    def waiting(self, obj: Report) -> str:
        return timesince(obj.created_at) if obj.status == ReportStatus.OPEN else "-"

    @admin.display(description=_("Context (messages around the reported one)"))
    def context(self, obj: Report) -> str:
        reported = obj.message
        if reported is None:
            return "-"
        around = Message.objects.filter(conversation_id=reported.conversation_id).select_related(
            "sender"
        )
        rows = [
            *reversed(around.filter(id__lt=reported.pk).order_by("-id")[:CONTEXT_AROUND]),
            reported,
            *around.filter(id__gt=reported.pk).order_by("id")[:CONTEXT_AROUND],
        ]
        return format_html(
            "<ol class='report-context'>{}</ol>",
            format_html_join(
                "",
                "<li{}>{} {}: {}</li>",
                (
                    (
                        mark_safe(" style='font-weight:bold'") if m.pk == reported.pk else "",
                        display(m.created_at),
                        m.sender.nickname if m.sender else _("(system)"),
                        _("(removed)") if m.is_removed else (m.text or f"[{m.get_kind_display()}]"),
                    )
                    for m in rows
                ),
            ),
        )

    def _resolve(self, request: HttpRequest, queryset: QuerySet[Report], outcome: str) -> None:
        moderator = request.user
        if not isinstance(moderator, User):
            return
        note = " ".join(str(request.POST.get("note", "")).split())
        done = []
        for report in queryset.filter(status=ReportStatus.OPEN):
            services.report_resolve(report=report, moderator=moderator, outcome=outcome, note=note)
            done.append(report)
        admin_log(
            user=moderator,
            objects=done,
            message=resolved_audit_text(ReportOutcome(outcome).label, note),
        )
        self.message_user(
            request,
            _("%(count)d report(s) resolved: %(outcome)s.")
            % {"count": len(done), "outcome": ReportOutcome(outcome).label},
            messages.SUCCESS,
        )

    @admin.action(description=_("Resolve: no action needed"), permissions=["change"])
    def resolve_no_action(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._resolve(request, queryset, ReportOutcome.NO_ACTION)

    @admin.action(description=_("Resolve: user warned"), permissions=["change"])
    def resolve_warned(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._resolve(request, queryset, ReportOutcome.USER_WARNED)

    @admin.action(description=_("Hide the reported message and resolve"), permissions=["change"])
    def resolve_hide_message(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._resolve(request, queryset, ReportOutcome.MESSAGE_HIDDEN)

    @admin.action(description=_("Ban the reported user and resolve"), permissions=["change"])
    def resolve_ban_user(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._resolve(request, queryset, ReportOutcome.USER_BANNED)


@admin.register(Message)
class MessageAdmin(ReadOnlyMixin, AnyModelAdmin):
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

    def has_hide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("chat.change_report")

    @admin.display(boolean=True, description=_("Removed"))
    def removed(self, obj: Message) -> bool:
        return obj.is_removed

    @admin.action(description=_("Remove the message for everyone"), permissions=["hide"])
    def hide(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        moderator = request.user
        if not isinstance(moderator, User):
            return
        for message in queryset:
            services.message_moderate_hide(message=message, moderator=moderator)
        admin_log(
            user=moderator,
            objects=queryset,
            message=audit_text(gettext_noop("Removed for everyone.")),
        )
        self.message_user(request, _("Removed."), messages.SUCCESS)


@admin.register(Call)
class CallAdmin(ReadOnlyMixin, AnyModelAdmin):
    """Read-only call history (issue 8): who called whom, when, outcome, duration. There
    is nothing else to show: no SDP, candidate or IP is ever stored (P11). Superusers
    only (no staff role holds ``chat.view_call``)."""

    list_display = ("uuid", "created_at", "media", "state", "outcome", "duration_seconds")
    list_filter = ("media", "state", "outcome")
    search_fields = ("=uuid", "=caller__uuid", "=callee__uuid", "=conversation__uuid")
    date_hierarchy = "created_at"
    ordering = ("-id",)
    show_full_result_count = False
    fields = (
        "uuid",
        "conversation",
        "caller",
        "callee",
        "media",
        "state",
        "outcome",
        "created_at",
        "accepted_at",
        "ended_at",
        "duration_seconds",
    )
    readonly_fields = fields
