"""Admin for privacy requests, processors and the erasure ledger (imported by admin.py).

The staff console (next issue) builds the full workflow on the services of
``privacy.lifecycle``; here staff can already see every request with its audit
trail and step log, and run the actions that need no reason. Deny, extend and
legal holds need a reason and are done from the console (or the shell).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from meetnow.lib.adminkit import AnyModelAdmin, AnyTabularInline
from meetnow.lib.errors import ApplicationError
from privacy.lifecycle import DUPLICATE_NOTE_PREFIX, request_approve, request_retry
from privacy.models import (
    ConsentWithdrawal,
    ErasureLedgerEntry,
    ErasureStep,
    PrivacyRequest,
    PrivacyRequestEvent,
    Processor,
    RequestStatus,
)


class _ReadOnlyInline(AnyTabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The request's audit events store codes; staff read them in their own language.
EVENT_ACTIONS = {
    "created": _("created"),
    "created_by_staff": _("created by staff"),
    "identity_verified": _("identity verified"),
    "minor_verified": _("minor verified"),
    "approved": _("approved"),
    "denied": _("denied"),
    "extended": _("deadline extended"),
    "legal_hold_placed": _("legal hold placed"),
    "legal_hold_lifted": _("legal hold lifted"),
    "scheduled": _("scheduled"),
    "started": _("started"),
    "started_by_staff": _("started by staff"),
    "retried": _("retried"),
    "failed": _("failed"),
    "completed": _("completed"),
    "canceled": _("canceled"),
    "marked_duplicate": _("closed as a duplicate"),
}
# Notes the system writes (the others are a staff member's reason, shown as typed).
SYSTEM_NOTES = {
    "no account": _("no account"),
    "cooling-off ended early (development command)": _(
        "cooling-off ended early (development command)"
    ),
}


def system_note_label(note: str) -> str:
    """A stored event note as the staff member reads it: the system's own in their language."""
    if note.startswith(DUPLICATE_NOTE_PREFIX):
        return _("duplicate of request %(request)s") % {
            "request": note.removeprefix(DUPLICATE_NOTE_PREFIX)
        }
    return str(SYSTEM_NOTES.get(note, note))


def _status_label(code: str) -> str:
    return str(RequestStatus(code).label) if code in RequestStatus.values else code


class EventInline(_ReadOnlyInline):
    model = PrivacyRequestEvent
    fields = ("created_at", "actor_role", "actor", "what", "from_label", "to_label", "remark")
    readonly_fields = fields
    ordering = ("id",)

    @admin.display(description=_("action"))
    def what(self, event: PrivacyRequestEvent) -> str:
        return str(EVENT_ACTIONS.get(event.action, event.action))

    @admin.display(description=_("from status"))
    def from_label(self, event: PrivacyRequestEvent) -> str:
        return _status_label(event.from_status)

    @admin.display(description=_("to status"))
    def to_label(self, event: PrivacyRequestEvent) -> str:
        return _status_label(event.to_status)

    @admin.display(description=_("note"))
    def remark(self, event: PrivacyRequestEvent) -> str:
        return system_note_label(event.note)


class StepInline(_ReadOnlyInline):
    model = ErasureStep
    fields = ("model", "action", "count", "updated_at")
    readonly_fields = fields


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(AnyModelAdmin):
    list_display = (
        "uuid",
        "kind",
        "status",
        "received_at",
        "due_at",
        "extended_due_at",
        "legal_hold_at",
        "progress",
    )
    list_filter = ("kind", "status")
    search_fields = ("=uuid",)
    ordering = ("-received_at",)
    raw_id_fields = ("user", "reviewed_by", "duplicate_of")
    inlines = (EventInline, StepInline)
    actions = ("approve", "retry")
    exclude = ("cursor", "lease_token")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in PrivacyRequest._meta.concrete_fields if f.name not in self.exclude]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _run(self, request: HttpRequest, queryset: QuerySet[PrivacyRequest], fn: Any) -> None:
        actor = request.user if isinstance(request.user, User) else None
        for privacy_request in queryset:
            try:
                fn(privacy_request=privacy_request, actor=actor)
            except ApplicationError as exc:
                self.message_user(
                    request,
                    _("%(privacy_request)s: %(message)s")
                    % {"privacy_request": privacy_request, "message": exc.message},
                    messages.WARNING,
                )
            else:
                self.message_user(
                    request,
                    _("%(privacy_request)s: done.") % {"privacy_request": privacy_request},
                    messages.SUCCESS,
                )

    @admin.action(description=_("Approve the selected pending requests"))
    def approve(self, request: HttpRequest, queryset: QuerySet[PrivacyRequest]) -> None:
        self._run(request, queryset, request_approve)

    @admin.action(description=_("Retry the selected requests in error"))
    def retry(self, request: HttpRequest, queryset: QuerySet[PrivacyRequest]) -> None:
        self._run(request, queryset, request_retry)


@admin.register(Processor)
class ProcessorAdmin(AnyModelAdmin):
    list_display = (
        "name",
        "purpose",
        "country",
        "backend",
        "is_active",
        "position",
        "updated_at",
    )
    list_editable = ("is_active", "position")
    readonly_fields = ("updated_at",)

    def save_model(self, request: HttpRequest, obj: Processor, form: Any, change: bool) -> None:
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(ErasureLedgerEntry)
class ErasureLedgerEntryAdmin(AnyModelAdmin):
    list_display = ("user_hash", "erased_at", "reapplied_at", "consent_proof_until")
    readonly_fields = (
        "user_hash",
        "phone_hash",
        "request_uuid",
        "erased_at",
        "reapplied_at",
        "consent_proof",
        "consent_proof_until",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ConsentWithdrawal)
class ConsentWithdrawalAdmin(AnyModelAdmin):
    list_display = ("kind", "version", "withdrawn_at", "restored_at")
    readonly_fields = ("user", "document", "kind", "version", "withdrawn_at", "restored_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
