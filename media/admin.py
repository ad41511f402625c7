"""Moderators' view of uploads: previews through the same signing, take-down action."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from media.models import MediaFile, Status, Variant
from media.services import media_file_signed_url, media_file_take_down
from meetnow.lib.adminkit import AnyModelAdmin, ReadOnlyMixin, admin_log, audit_text

PREVIEW_TTL = 300


def mask_owner(owner: Any) -> str:
    """A stable, non-identifying label: never the phone or nickname (P11, P18)."""
    public_id = str(getattr(owner, "uuid", owner.pk))
    return _("user …%(id)s") % {"id": public_id[-6:]}


@admin.register(MediaFile)
class MediaFileAdmin(ReadOnlyMixin, AnyModelAdmin):
    # Read-only: deleting rows would skip storage; take-down is the moderator's tool.
    list_display = (
        "preview",
        "uuid",
        "kind",
        "purpose",
        "status",
        "reject_reason",
        "owner_masked",
        "size",
        "created_at",
    )
    list_filter = ("status", "kind", "purpose")
    list_select_related = ("owner",)
    search_fields = ("=uuid",)
    ordering = ("-id",)
    actions = ("take_down",)
    show_full_result_count = False
    fields = (
        "preview_large",
        "uuid",
        "kind",
        "purpose",
        "status",
        "reject_reason",
        "owner_masked",
        "size",
        "width",
        "height",
        "duration_ms",
        "created_at",
        "processed_at",
        "attached_at",
        "removed_at",
    )
    readonly_fields = fields

    @admin.display(description=_("preview"))
    def preview(self, obj: MediaFile) -> str:
        return self._img(obj, Variant.SMALL, 96)

    @admin.display(description=_("preview"))
    def preview_large(self, obj: MediaFile) -> str:
        if obj.status == Status.READY and obj.kind in {"audio", "video"}:
            url = media_file_signed_url(media_file=obj, ttl=PREVIEW_TTL)
            tag = "audio" if obj.kind == "audio" else "video"
            return format_html('<{} controls preload="none" src="{}"></{}>', tag, url, tag)
        return self._img(obj, Variant.LARGE, 512)

    def _img(self, obj: MediaFile, variant: str, size: int) -> str:
        if obj.status != Status.READY or variant not in obj.variants:
            return "—"
        url = media_file_signed_url(media_file=obj, variant=variant, ttl=PREVIEW_TTL)
        return format_html(
            '<img src="{}" style="max-width:{}px;max-height:{}px" alt="">', url, size, size
        )

    @admin.display(description=_("owner"))
    def owner_masked(self, obj: MediaFile) -> str:
        return mask_owner(obj.owner)

    def has_take_down_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("media.take_down_mediafile")

    @admin.action(description=_("Take down (remove from storage)"), permissions=["take_down"])
    def take_down(self, request: HttpRequest, queryset: QuerySet[MediaFile]) -> None:
        done = []
        for media_file in queryset.exclude(status=Status.REMOVED_BY_MODERATOR):
            media_file_take_down(media_file=media_file, moderator=request.user)
            done.append(media_file)
        # audit (issue 7)
        admin_log(user=request.user, objects=done, message=audit_text(gettext_noop("Taken down.")))
        self.message_user(
            request, _("%(count)d file(s) taken down.") % {"count": len(done)}, messages.SUCCESS
        )
