"""Admin: staff write and publish policy versions; consents are read-only records."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from meetnow.lib.adminkit import AnyModelAdmin, ReadOnlyAdmin, admin_log, audit_text
from meetnow.lib.errors import ApplicationError
from meetnow.lib.masking import mask_ip
from privacy.models import Consent, PolicyDocument
from privacy.services import document_publish


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(AnyModelAdmin):
    list_display = ("kind", "version", "title", "material_change", "published_at")
    list_filter = ("kind",)
    ordering = ("kind", "-created_at")
    actions = ("publish",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # A published version is what people agreed to: it never changes afterwards.
        if obj is not None and obj.published_at is not None:
            return (
                "kind",
                "version",
                "title",
                "body",
                "title_zh_hans",
                "body_zh_hans",
                "material_change",
                "published_at",
            )
        return ("published_at",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only staff allowed to delete documents, and only drafts.
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or obj.published_at is None

    @admin.action(description=_("Publish the selected versions (they become current)"))
    def publish(self, request: HttpRequest, queryset: QuerySet[PolicyDocument]) -> None:
        for document in queryset:
            try:
                document_publish(document=document)
            except ApplicationError as exc:
                self.message_user(
                    request,
                    _("%(document)s: %(message)s") % {"document": document, "message": exc.message},
                    messages.WARNING,
                )
            else:
                # Who published which version is in the staff audit trail (P12, P16).
                admin_log(
                    user=request.user,
                    objects=document,
                    message=audit_text(
                        gettext_noop(
                            "Published version %(version)s of %(kind)s"
                            " (material: re-consent required)."
                        )
                        if document.material_change
                        else gettext_noop(
                            "Published version %(version)s of %(kind)s (not material)."
                        ),
                        version=document.version,
                        kind=document.get_kind_display(),
                        translate=["kind"],
                    ),
                )
                self.message_user(
                    request, _("%(document)s published.") % {"document": document}, messages.SUCCESS
                )


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ("user", "kind", "version", "language", "accepted_at", "ip_address")
    masked_fields = {"ip_address": mask_ip}  # in clear for superusers only (P18)
    list_filter = ("kind", "version")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = (
        "user",
        "document",
        "kind",
        "version",
        "language",
        "accepted_at",
        "ip_address",
    )


# Privacy requests, processors, erasure ledger (issue 6); the staff console's request
# queue (issue 7).
from privacy import admin_console, admin_rights  # noqa: E402, F401
