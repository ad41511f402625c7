"""Moderation of voice posts (P8): the reports queue, and take-downs of posts and comments.

Like chat's queue: lists show no caption or comment text (P18); a moderator opens a
report to read its evidence (the snapshot taken when it was reported, kept after
the author deletes the post). Every change goes through dating's services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from accounts.models import User
from chat.models import ReportStatus
from dating import reports
from dating.models import PostComment, PostReport, PostReportOutcome, VoicePost
from media.models import MediaFile
from media.services import media_file_signed_urls
from meetnow.lib.adminkit import (
    AnyModelAdmin,
    ReadOnlyMixin,
    admin_log,
    audit_text,
    resolved_audit_text,
)


class ReportActionForm(ActionForm):
    note = forms.CharField(label=_("Outcome note"), required=False, max_length=500)


def _moderator(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None


@admin.register(PostReport)
class PostReportAdmin(AnyModelAdmin):
    action_form = ReportActionForm
    show_facets = admin.ShowFacets.ALWAYS
    list_per_page = 50
    show_full_result_count = False
    list_display = (
        "uuid",
        "created_at",
        "waiting",
        "reason",
        "evidence_kind",
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
    actions = ("resolve_no_action", "resolve_warned", "resolve_take_down", "resolve_ban_user")
    fields = (
        "uuid",
        "created_at",
        "reporter",
        "reported_user",
        "reason",
        "details",
        "post",
        "comment",
        "evidence_kind",
        "evidence_created_at",
        "evidence_text",
        "evidence",
        "status",
        "outcome",
        "moderator_note",
        "resolved_by",
        "resolved_at",
    )
    readonly_fields = tuple(f for f in fields if f != "moderator_note")
    raw_id_fields = ("reporter", "reported_user", "post", "comment")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("Waiting"), ordering="created_at")
    def waiting(self, obj: PostReport) -> str:
        return timesince(obj.created_at) if obj.status == ReportStatus.OPEN else "-"

    @admin.display(description=_("Reported files (links valid 5 min)"))
    def evidence(self, obj: PostReport) -> str:
        files = MediaFile.objects.filter(pk__in=obj.evidence_files or []).order_by("pk")
        links = []
        for media_file in files:
            urls = media_file_signed_urls(media_file=media_file)
            url = urls.get("original") or next(iter(urls.values()), "")
            if url:
                links.append((url, media_file.kind))
        if not links:
            return "-"
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", '<li><a href="{}" target="_blank">{}</a></li>', links),
        )

    def _resolve(self, request: HttpRequest, queryset: QuerySet[PostReport], outcome: str) -> None:
        moderator = _moderator(request)
        if moderator is None:
            return
        note = " ".join(str(request.POST.get("note", "")).split())
        done = []
        for report in queryset.filter(status=ReportStatus.OPEN):
            reports.post_report_resolve(
                report=report, moderator=moderator, outcome=outcome, note=note
            )
            done.append(report)
        admin_log(
            user=moderator,
            objects=done,
            message=resolved_audit_text(PostReportOutcome(outcome).label, note),
        )
        self.message_user(
            request,
            _g("%(count)d report(s) resolved: %(outcome)s.")
            % {"count": len(done), "outcome": PostReportOutcome(outcome).label},
            messages.SUCCESS,
        )

    @admin.action(description=_("Resolve: no action needed"), permissions=["change"])
    def resolve_no_action(self, request: HttpRequest, queryset: QuerySet[PostReport]) -> None:
        self._resolve(request, queryset, PostReportOutcome.NO_ACTION)

    @admin.action(description=_("Resolve: user warned"), permissions=["change"])
    def resolve_warned(self, request: HttpRequest, queryset: QuerySet[PostReport]) -> None:
        self._resolve(request, queryset, PostReportOutcome.USER_WARNED)

    @admin.action(
        description=_("Take the reported post or comment down and resolve"), permissions=["change"]
    )
    def resolve_take_down(self, request: HttpRequest, queryset: QuerySet[PostReport]) -> None:
        self._resolve(request, queryset, PostReportOutcome.TAKEN_DOWN)

    @admin.action(description=_("Ban the reported user and resolve"), permissions=["change"])
    def resolve_ban_user(self, request: HttpRequest, queryset: QuerySet[PostReport]) -> None:
        self._resolve(request, queryset, PostReportOutcome.USER_BANNED)


class _TakeDownAdmin(ReadOnlyMixin, AnyModelAdmin):
    actions = ("take_down",)
    show_full_result_count = False

    def has_take_down_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("dating.take_down_voicepost")

    def _take_down_one(self, obj: Any, moderator: User) -> None:
        raise NotImplementedError

    @admin.action(description=_("Take down (hidden from everyone else)"), permissions=["take_down"])
    def take_down(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        moderator = _moderator(request)
        if moderator is None:
            return
        items = list(queryset)
        for obj in items:
            self._take_down_one(obj, moderator)
        admin_log(user=moderator, objects=items, message=audit_text(gettext_noop("Taken down.")))
        self.message_user(
            request, _g("%(count)d taken down.") % {"count": len(items)}, messages.SUCCESS
        )


@admin.register(VoicePost)
class VoicePostAdmin(_TakeDownAdmin):
    """Posts, read-only; the caption only on the detail page."""

    list_display = ("uuid", "author", "created_at", "audience", "like_count", "taken_down_at")
    list_filter = ("audience",)
    list_select_related = ("author",)
    search_fields = ("=uuid", "=author__uuid")
    ordering = ("-id",)
    fields = (
        "uuid",
        "author",
        "caption",
        "audience",
        "voice",
        "created_at",
        "deleted_at",
        "taken_down_at",
        "like_count",
        "comment_count",
        "listen_count",
    )
    readonly_fields = fields

    def _take_down_one(self, obj: Any, moderator: User) -> None:
        reports.post_take_down(post=obj, moderator=moderator)


@admin.register(PostComment)
class PostCommentAdmin(_TakeDownAdmin):
    """Comments, read-only; the text only on the detail page."""

    list_display = ("uuid", "post", "author", "created_at", "taken_down_at")
    list_select_related = ("post", "author")
    search_fields = ("=uuid", "=author__uuid", "=post__uuid")
    ordering = ("-id",)
    fields = ("uuid", "post", "author", "text", "created_at", "taken_down_at")
    readonly_fields = fields

    def _take_down_one(self, obj: Any, moderator: User) -> None:
        reports.comment_take_down(comment=obj, moderator=moderator)
