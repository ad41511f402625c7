"""Support queue for privacy requests (issue 7; P13, P17): the staff console.

Extends ``privacy.admin_rights.PrivacyRequestAdmin`` (its audit-event and step-log
inlines, read-only fields) and takes its place in the admin:

- the list puts overdue requests first, then open ones by deadline, then the rest;
  deadlines are highlighted; filters by status, kind and deadline;
- each request page has buttons for what its state allows: approve, deny (reason),
  extend the deadline (reason), place or lift a legal hold (reason), retry an
  errored job, download the export (access requests only), reveal the requester's
  phone number (reason, logged);
- every action goes through ``privacy.lifecycle`` (which writes the request's own
  audit events) and is also written to the admin's audit trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from accounts.models import User
from meetnow.lib.adminkit import AuditText, StaffModelAdmin, audit_text
from meetnow.lib.deadlines import effective_due_expression
from meetnow.lib.errors import ApplicationError
from meetnow.lib.i18n import display
from privacy import lifecycle
from privacy.admin_rights import PrivacyRequestAdmin
from privacy.models import OPEN_REQUEST_STATUSES, PrivacyRequest, RequestKind, RequestStatus
from privacy.transitions import REASON_MAX

S = RequestStatus
DUE_SOON = dt.timedelta(days=3)


class ActionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (the user sees it; no personal data)"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
    )


class ExtendForm(ActionForm):
    days = forms.IntegerField(
        label=_("Extend by (days from the current deadline)"), min_value=1, max_value=60
    )


class DuplicateForm(forms.Form):
    original = forms.UUIDField(
        label=_("The request this one repeats (its UUID: same user, same kind)")
    )


@dataclass(frozen=True)
class ConsoleAction:
    label: Any  # gettext_lazy: the button, the page's title, the messages
    allowed: Callable[[PrivacyRequest], bool]
    form: type[forms.Form] | None  # None: a confirmation only
    # What the audit trail says (a gettext_noop msgid; its %(reason)s / %(original)s
    # come from the form), rendered in the reader's language.
    logged: str = ""


def _is_open(r: PrivacyRequest) -> bool:
    return r.status in OPEN_REQUEST_STATUSES


APPROVED = gettext_noop("Approve.")
RETRIED = gettext_noop("Retry the job.")

ACTIONS: dict[str, ConsoleAction] = {
    "approve": ConsoleAction(_("Approve"), lambda r: r.status == S.PENDING, None, APPROVED),
    "deny": ConsoleAction(
        _("Deny"),
        lambda r: r.status in (S.PENDING, S.IDENTITY_UNVERIFIED),
        ActionForm,
        gettext_noop("Deny. Reason: %(reason)s"),
    ),
    "extend": ConsoleAction(
        _("Extend the deadline"),
        _is_open,
        ExtendForm,
        gettext_noop("Extend the deadline. Reason: %(reason)s"),
    ),
    "hold": ConsoleAction(
        _("Place a legal hold"),
        lambda r: _is_open(r) and r.legal_hold_at is None,
        ActionForm,
        gettext_noop("Place a legal hold. Reason: %(reason)s"),
    ),
    "lift_hold": ConsoleAction(
        _("Lift the legal hold"),
        lambda r: r.legal_hold_at is not None,
        ActionForm,
        gettext_noop("Lift the legal hold. Reason: %(reason)s"),
    ),
    "retry": ConsoleAction(_("Retry the job"), lambda r: r.status == S.ERROR, None, RETRIED),
    "duplicate": ConsoleAction(
        _("Close as a duplicate"),
        lambda r: r.status in lifecycle.DUPLICATE_FROM,
        DuplicateForm,
        gettext_noop("Close as a duplicate. Duplicate of %(original)s."),
    ),
}


def export_downloadable(r: PrivacyRequest) -> bool:
    """Only an access request's finished, live archive can be downloaded by staff."""
    return (
        r.kind == RequestKind.ACCESS
        and r.status == S.COMPLETE
        and bool(r.archive_key)
        and r.archive_deleted_at is None
        and (r.archive_expires_at is None or r.archive_expires_at > timezone.now())
    )


def _run(action: str, r: PrivacyRequest, staff: User, data: dict[str, Any]) -> PrivacyRequest:
    reason = data.get("reason", "")
    if action == "approve":
        return lifecycle.request_approve(privacy_request=r, actor=staff)
    if action == "deny":
        return lifecycle.request_deny(privacy_request=r, actor=staff, reason=reason)
    if action == "extend":
        until = r.effective_due_at + dt.timedelta(days=int(data["days"]))
        return lifecycle.request_extend(privacy_request=r, actor=staff, until=until, reason=reason)
    if action == "hold":
        return lifecycle.request_hold_place(privacy_request=r, actor=staff, reason=reason)
    if action == "lift_hold":
        return lifecycle.request_hold_lift(privacy_request=r, actor=staff, reason=reason)
    if action == "retry":
        return lifecycle.request_retry(privacy_request=r, actor=staff)
    if action == "duplicate":
        original = PrivacyRequest.objects.filter(uuid=data["original"]).first()
        if original is None:
            raise ApplicationError(
                "invalid_duplicate", _("There is no request with this UUID."), param="original"
            )
        return lifecycle.request_mark_duplicate(privacy_request=r, actor=staff, original=original)
    raise Http404


class StartErasureForm(forms.Form):
    user = forms.UUIDField(label=_("Account id (uuid)"))
    ground = forms.ChoiceField(
        label=_("Ground"), choices=list(lifecycle.STAFF_ERASURE_GROUNDS.items())
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("How it was established (e.g. the verified request's reference)."),
    )


def _logged(spec: ConsoleAction, data: dict[str, Any]) -> AuditText:
    """The audit trail's entry of a console action, with the reason or original given."""
    params: dict[str, Any] = {}
    if data.get("reason"):
        params["reason"] = " ".join(data["reason"].split())
    if data.get("original"):
        params["original"] = data["original"]
    return audit_text(spec.logged, **params)


class DeadlineFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("overdue", str(_("Overdue"))),
            ("soon", str(_("Due within 3 days"))),
            ("hold", str(_("On legal hold"))),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        open_ = Q(status__in=OPEN_REQUEST_STATUSES)
        if self.value() == "overdue":
            return queryset.filter(open_, effective_due__lt=now)
        if self.value() == "soon":
            return queryset.filter(open_, effective_due__gte=now, effective_due__lt=now + DUE_SOON)
        if self.value() == "hold":
            return queryset.filter(legal_hold_at__isnull=False)
        return queryset


class PrivacyRequestConsoleAdmin(StaffModelAdmin, PrivacyRequestAdmin):
    list_display = (
        "uuid",
        "kind",
        "status",
        "deadline",
        "received_at",
        "user",
        "on_hold",
        "progress",
    )
    list_display_links = ("uuid",)
    list_filter = (DeadlineFilter, "status", "kind")  # type: ignore[assignment]
    list_select_related = ("user",)
    search_fields = ("=uuid", "=user__uuid")  # type: ignore[assignment]
    date_hierarchy = "received_at"
    ordering = None  # type: ignore[assignment]  # see get_queryset: overdue first
    change_form_template = "admin/privacy/privacyrequest/console_change_form.html"
    reveal_fields = {
        "phone": (_("requester's phone number"), lambda r: r.user.phone if r.user_id else None),
    }
    reveal_permission = "privacy.reveal_personal_data"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        now = timezone.now()
        open_ = Q(status__in=OPEN_REQUEST_STATUSES)
        queryset: QuerySet[Any] = (
            super()
            .get_queryset(request)
            .annotate(effective_due=effective_due_expression())
            .annotate(
                queue_rank=Case(
                    When(open_ & Q(effective_due__lt=now), then=Value(0)),
                    When(open_, then=Value(1)),
                    default=Value(2),
                    output_field=IntegerField(),
                )
            )
            .order_by("queue_rank", "effective_due")
        )
        return queryset

    def _run(self, request: HttpRequest, queryset: QuerySet[PrivacyRequest], fn: Any) -> None:
        """The bulk actions (approve, retry) of the list, with the admin audit trail."""
        actor = request.user if isinstance(request.user, User) else None
        done = []
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
                done.append(privacy_request)
        logged = {"request_approve": APPROVED, "request_retry": RETRIED}[fn.__name__]
        self.log_staff_action(request, done, audit_text(logged))
        self.message_user(
            request, _("%(count)d request(s) done.") % {"count": len(done)}, messages.SUCCESS
        )

    @admin.display(description=_("deadline"), ordering="effective_due")
    def deadline(self, r: Any) -> str:
        due = r.effective_due
        # In the staff member's language and zone (the admin activates both).
        text = display(due)
        if r.extended_due_at:
            text = _("%(deadline)s (extended)") % {"deadline": text}
        if r.status in OPEN_REQUEST_STATUSES and due < timezone.now():
            return format_html(
                '<strong class="overdue" style="color: var(--error-fg)">{}</strong>',
                _("OVERDUE %(deadline)s") % {"deadline": text},
            )
        return str(text)

    @admin.display(description=_("hold"), boolean=True)
    def on_hold(self, r: PrivacyRequest) -> bool:
        return r.legal_hold_at is not None

    # --- the request page's buttons ---------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/act/<str:action>/",
                self.admin_site.admin_view(self.console_action_view),
                name="%s_%s_act" % info,  # noqa: UP031
            ),
            path(
                "start-erasure/",
                self.admin_site.admin_view(self.start_erasure_view),
                name="%s_%s_start_erasure" % info,  # noqa: UP031
            ),
            path(
                "<path:object_id>/export/",
                self.admin_site.admin_view(self.export_download_view),
                name="%s_%s_export" % info,  # noqa: UP031
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        buttons: list[tuple[str, Any]] = []
        if obj is not None and self.has_change_permission(request, obj):
            buttons = [
                (reverse("admin:privacy_privacyrequest_act", args=[obj.pk, key]), a.label)
                for key, a in ACTIONS.items()
                if a.allowed(obj)
            ]
            if export_downloadable(obj):
                buttons.append(
                    (
                        reverse("admin:privacy_privacyrequest_export", args=[obj.pk]),
                        _("Download export"),
                    )
                )
        if obj is not None and self.has_reveal_permission(request, obj):
            buttons.append(
                (
                    reverse("admin:privacy_privacyrequest_reveal", args=[obj.pk]),
                    _("Reveal phone number"),
                )
            )
        context = {
            "console_buttons": buttons,
            # Nothing on the page is edited in place: every change is a button above.
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def _staff_request(self, request: HttpRequest, object_id: str) -> tuple[User, PrivacyRequest]:
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj) or not isinstance(request.user, User):
            raise PermissionDenied
        return request.user, obj

    def console_action_view(
        self, request: HttpRequest, object_id: str, action: str
    ) -> HttpResponse:
        staff, obj = self._staff_request(request, object_id)
        spec = ACTIONS.get(action)
        if spec is None:
            raise Http404
        change_url = reverse("admin:privacy_privacyrequest_change", args=[obj.pk])
        if not spec.allowed(obj):
            self.message_user(
                request,
                _("%(label)s: not possible in this state.") % {"label": spec.label},
                messages.WARNING,
            )
            return HttpResponseRedirect(change_url)
        form = spec.form(request.POST or None) if spec.form else None
        if request.method == "POST" and (form is None or form.is_valid()):
            data = form.cleaned_data if form is not None else {}
            try:
                _run(action, obj, staff, data)
            except ApplicationError as exc:
                self.message_user(
                    request,
                    _("%(label)s: %(message)s") % {"label": spec.label, "message": exc.message},
                    messages.ERROR,
                )
            else:
                self.log_staff_action(request, obj, _logged(spec, data))
                self.message_user(
                    request, _("%(label)s: done.") % {"label": spec.label}, messages.SUCCESS
                )
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": _("%(label)s: %(request)s") % {"label": spec.label, "request": obj},
            "due_display": display(obj.effective_due_at),
            "form": form,
            "action_label": spec.label,
        }
        return TemplateResponse(
            request, "admin/privacy/privacyrequest/console_action.html", context
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {
            "start_erasure_url": reverse("admin:privacy_privacyrequest_start_erasure")
            if self.has_change_permission(request)
            else "",
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def start_erasure_view(self, request: HttpRequest) -> HttpResponse:
        """Staff start an erasure now (a minor, a banned account, a verified request that
        came another way), with a ground and a reason; audited on the request and in
        the admin log."""
        if not self.has_change_permission(request) or not isinstance(request.user, User):
            raise PermissionDenied
        form = StartErasureForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            user = User.objects.filter(uuid=form.cleaned_data["user"], is_staff=False).first()
            if user is None:
                form.add_error("user", _("No app account with this id."))
            else:
                try:
                    privacy_request = lifecycle.erasure_start_by_staff(
                        user=user,
                        actor=request.user,
                        ground=form.cleaned_data["ground"],
                        reason=form.cleaned_data["reason"],
                    )
                except ApplicationError as exc:
                    form.add_error(None, exc.message)
                else:
                    reason = " ".join(form.cleaned_data["reason"].split())
                    self.log_staff_action(
                        request,
                        privacy_request,
                        audit_text(
                            gettext_noop("Started the erasure (%(ground)s). Reason: %(reason)s"),
                            ground=lifecycle.STAFF_ERASURE_GROUNDS[form.cleaned_data["ground"]],
                            reason=reason,
                            translate=["ground"],
                        ),
                    )
                    self.message_user(request, _("Erasure started."), messages.SUCCESS)
                    return HttpResponseRedirect(
                        reverse("admin:privacy_privacyrequest_change", args=[privacy_request.pk])
                    )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Start an erasure"),
            "form": form,
        }
        return TemplateResponse(request, "admin/privacy/privacyrequest/start_erasure.html", context)

    def export_download_view(self, request: HttpRequest, object_id: str) -> HttpResponseBase:
        """Staff download an access request's archive (to hand it over another way); logged."""
        _staff, obj = self._staff_request(request, object_id)
        if not export_downloadable(obj):
            raise Http404
        self.log_staff_action(
            request, obj, audit_text(gettext_noop("Downloaded the export archive."))
        )
        response = FileResponse(
            default_storage.open(obj.archive_key, "rb"),
            as_attachment=True,
            filename=f"meetnow-export-{obj.uuid}.zip",
        )
        response["Cache-Control"] = "no-store"
        return response


admin.site.unregister(PrivacyRequest)
admin.site.register(PrivacyRequest, PrivacyRequestConsoleAdmin)
