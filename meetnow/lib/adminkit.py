"""Building blocks for MeetNow's admin pages (P12, P18): fast lists, masking, audit, reveal.

- :class:`StaffModelAdmin` — 50 rows a page, no extra full-count query, optional
  annotations (``list_annotations``) so a list costs the same few queries whatever
  its rows; personal data fields (``masked_fields``) shown masked to everyone but
  superusers, in lists, detail pages and search; a "reveal" page
  (``reveal_fields``) where a staff member with the reveal permission sees one
  value in clear after giving a reason, which is written to the audit trail.
- :func:`admin_log` — write the admin's audit trail (``LogEntry``) for custom
  actions; Django only logs what goes through its own add/change/delete forms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from meetnow.lib.masking import can_see_personal_data

Masker = Callable[[Any], str]
REVEAL_REASON_MIN_LENGTH = 10


def admin_log(
    *, user: Any, objects: Model | Iterable[Model], message: str, action_flag: int = CHANGE
) -> None:
    """Record a staff action on each of ``objects`` in the admin audit trail (P12).

    ``message`` says what was done and why; it must never hold personal values
    (a phone number, a code, message content).
    """
    items = [objects] if isinstance(objects, Model) else list(objects)
    if not items:
        return
    LogEntry.objects.log_actions(
        user_id=user.pk, queryset=items, action_flag=action_flag, change_message=message
    )


class RevealForm(forms.Form):
    field = forms.ChoiceField(label=_("Value to reveal"))
    reason = forms.CharField(
        label=_("Reason (kept in the audit trail)"),
        min_length=REVEAL_REASON_MIN_LENGTH,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, choices: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = list(choices)  # type: ignore[attr-defined]


# Django's admin and form classes are generic in django-stubs but not subscriptable at
# run time: admin pages subclass these names (typed for mypy, plain for Python).
if TYPE_CHECKING:
    AnyModelAdmin = admin.ModelAdmin[Any]
    AnyTabularInline = admin.TabularInline[Any, Any]
    AnyModelForm = forms.ModelForm[Any]
else:
    AnyModelAdmin = admin.ModelAdmin
    AnyTabularInline = admin.TabularInline
    AnyModelForm = forms.ModelForm


class StaffModelAdmin(AnyModelAdmin):
    """A ModelAdmin for busy staff pages; see the module docstring."""

    list_per_page = 50
    # The paginator's count is one query; the "N total" link would be a second one.
    show_full_result_count = False
    list_annotations: ClassVar[dict[str, Any]] = {}
    # field name -> masker, e.g. {"ip_address": mask_ip}
    masked_fields: ClassVar[dict[str, Masker]] = {}
    # key -> (label, getter on the object); revealed one at a time, with a reason.
    reveal_fields: ClassVar[dict[str, tuple[str, Callable[[Any], Any]]]] = {}
    reveal_permission: ClassVar[str] = ""  # "app_label.codename"; superusers always may

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, masker in cls.masked_fields.items():
            attr = f"masked_{name}"
            if not hasattr(cls, attr):
                setattr(cls, attr, _masked_display(name, masker))

    # --- queries --------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if self.list_annotations:
            queryset = queryset.annotate(**self.list_annotations)
        return queryset

    # --- masking ----------------------------------------------------------------

    def _masks(self, request: HttpRequest) -> bool:
        return bool(self.masked_fields) and not can_see_personal_data(request.user)

    def _swap(self, names: Iterable[Any]) -> list[Any]:
        swapped: list[Any] = []
        for name in names:
            if isinstance(name, str) and name in self.masked_fields:
                name = f"masked_{name}"
            if name not in swapped:
                swapped.append(name)
        return swapped

    def get_list_display(self, request: HttpRequest) -> Any:
        names = super().get_list_display(request)
        return self._swap(names) if self._masks(request) else names

    def get_list_display_links(self, request: HttpRequest, list_display: Any) -> Any:
        links = super().get_list_display_links(request, list_display)
        if links and self._masks(request):
            return self._swap(links)
        return links

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = super().get_list_filter(request)
        if self._masks(request):
            return [f for f in filters if not (isinstance(f, str) and f in self.masked_fields)]
        return filters

    def get_search_fields(self, request: HttpRequest) -> Any:
        fields = super().get_search_fields(request)
        if not self._masks(request):
            return fields
        # Partial matching would let anyone read a value back digit by digit; an exact
        # match ("=phone") only confirms a value the searcher already has.
        return [f for f in fields if f.startswith("=") or f.lstrip("^@") not in self.masked_fields]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_fields(request, obj)
        return self._swap(fields) if self._masks(request) else fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if not self._masks(request):
            return fieldsets
        swapped = []
        for title, original in fieldsets:
            options: dict[str, Any] = dict(original)
            options["fields"] = [
                tuple(self._swap(f)) if isinstance(f, list | tuple) else self._swap([f])[0]
                for f in options.get("fields", ())
            ]
            swapped.append((title, options))
        return swapped

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if not self._masks(request):
            return readonly
        return self._swap([*readonly, *self.masked_fields])

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # No ?phone__startswith=... probing through the changelist's query string.
        masked = request is not None and self._masks(request)
        if masked and lookup.split("__", 1)[0] in self.masked_fields:
            return False
        return super().lookup_allowed(lookup, value, request)  # type: ignore[arg-type]

    # --- audit ------------------------------------------------------------------

    def log_staff_action(
        self, request: HttpRequest, objects: Model | Iterable[Model], message: str
    ) -> None:
        admin_log(user=request.user, objects=objects, message=message)

    # --- reveal -----------------------------------------------------------------

    def has_reveal_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        if not self.reveal_fields or not user.is_active or not user.is_staff:
            return False
        if user.is_superuser:
            return True
        return bool(self.reveal_permission) and user.has_perm(self.reveal_permission)

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        extra = []
        if self.reveal_fields:
            extra.append(
                path(
                    "<path:object_id>/reveal/",
                    self.admin_site.admin_view(self.reveal_view),
                    name="%s_%s_reveal" % info,  # noqa: UP031 (Django's own naming style)
                )
            )
        return [*extra, *super().get_urls()]

    def reveal_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Show one personal value in clear after the staff member gives a reason (P12, P18).

        The value is rendered once and never stored; the reveal (what, why, who,
        when) goes to the audit trail.
        """
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        if not self.has_view_permission(request, obj) or not self.has_reveal_permission(
            request, obj
        ):
            raise PermissionDenied
        choices = [(key, label) for key, (label, _getter) in self.reveal_fields.items()]
        form = RevealForm(request.POST or None, choices=choices)
        revealed: tuple[str, Any] | None = None
        if request.method == "POST" and form.is_valid():
            key = form.cleaned_data["field"]
            label, getter = self.reveal_fields[key]
            reason = " ".join(form.cleaned_data["reason"].split())
            self.log_staff_action(request, obj, f"Revealed {label}. Reason: {reason}")
            value = getter(obj)
            revealed = (label, value if value not in (None, "") else "(empty)")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": f"Reveal personal data of {obj}",
            "form": form,
            "revealed": revealed,
        }
        response = TemplateResponse(request, "admin/meetnow/reveal.html", context)
        response["Cache-Control"] = "no-store"
        return response


def _masked_display(name: str, masker: Masker) -> Callable[[Any, Any], str]:
    def display(self: Any, obj: Any) -> str:
        return masker(getattr(obj, name, None))

    display.__name__ = f"masked_{name}"
    return admin.display(description=name.replace("_", " "))(display)


class ReadOnlyMixin:
    """Staff look but never add, change or delete rows through the admin's forms
    (an admin's own actions and pages, which call services, still work)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, StaffModelAdmin):
    """A :class:`StaffModelAdmin` that only shows (logs, deliveries, the audit trail)."""
