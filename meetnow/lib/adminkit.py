"""Building blocks for MeetNow's admin pages (P12, P18): fast lists, masking, audit, reveal.

- :class:`StaffModelAdmin` — 50 rows a page, no extra full-count query, optional
  annotations (``list_annotations``) so a list costs the same few queries whatever
  its rows; personal data fields (``masked_fields``) shown masked to everyone but
  superusers, in lists, detail pages and search; a "reveal" page
  (``reveal_fields``) where a staff member with the reveal permission sees one
  value in clear after giving a reason, which is written to the audit trail.
- :func:`admin_log` — write the admin's audit trail (``LogEntry``) for custom
  actions; Django only logs what goes through its own add/change/delete forms. The
  message is an :func:`audit_text` (a marked source text and parameters) that
  :func:`audit_message` renders in each reader's language (docs/i18n.md).
- :func:`group_label`, :func:`permission_label` — staff groups and permissions, stored
  with English names, labelled in the reader's language.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from meetnow.lib.masking import can_see_personal_data

Masker = Callable[[Any], str]
REVEAL_REASON_MIN_LENGTH = 10


# The key of MeetNow's own entries inside a ``LogEntry.change_message`` JSON list
# (Django's own entries use "added", "changed", "deleted").
AUDIT_KEY = "meetnow"


@dataclass(frozen=True)
class AuditText:
    """What a staff action did, for the audit trail, in no particular language.

    Stored as its English source text (a msgid marked with ``gettext_noop``) and
    parameters; :func:`audit_message` renders it in the reader's language. The
    parameters named in ``translate`` are msgids too (a label, an outcome); the
    others (a reason, a note, an id) are shown as written.
    """

    message: str
    params: Mapping[str, str] = field(default_factory=dict)
    translate: tuple[str, ...] = ()

    def stored(self) -> str:
        entry = {"message": self.message, "params": dict(self.params)}
        if self.translate:
            entry["translate"] = list(self.translate)
        # Unescaped, so the admin's search finds a reason written in Chinese.
        return json.dumps([{AUDIT_KEY: entry}], ensure_ascii=False)


def audit_text(message: str, *, translate: Iterable[str] = (), **params: Any) -> AuditText:
    """``AuditText(message, params)``; a lazy parameter is stored as its English source."""
    with translation.override(settings.LANGUAGE_CODE):
        values = {name: str(value) for name, value in params.items()}
    return AuditText(message=message, params=values, translate=tuple(translate))


def audit_message(change_message: str) -> str:
    """An audit entry's message in the active language (the staff member's, on admin pages).

    MeetNow's entries (:class:`AuditText`) are translated; Django's own JSON entries
    ("Changed name.") go through Django's rendering, which translates them too; an
    older entry stored as plain text is shown as stored.
    """
    if not change_message.startswith("["):
        return change_message
    try:
        items = json.loads(change_message)
    except ValueError:
        return change_message
    if not isinstance(items, list) or not any(
        isinstance(i, dict) and AUDIT_KEY in i for i in items
    ):
        return str(LogEntry(change_message=change_message).get_change_message())
    parts: list[str] = []
    for item in items:
        entry = item.get(AUDIT_KEY) if isinstance(item, dict) else None
        if not isinstance(entry, dict) or not isinstance(entry.get("message"), str):
            continue
        params = {str(k): str(v) for k, v in (entry.get("params") or {}).items()}
        for name in entry.get("translate") or ():
            if name in params:
                params[name] = gettext(params[name])
        text = gettext(entry["message"])
        try:
            parts.append(text % params if params else text)
        except (KeyError, ValueError, TypeError):
            parts.append(entry["message"] % params if params else entry["message"])
    return " ".join(parts)


def resolved_audit_text(outcome: Any, note: str) -> AuditText:
    """A report resolved with ``outcome`` (its choice label), with the moderator's note."""
    if note:
        return audit_text(
            gettext_noop("Resolved: %(outcome)s. Note: %(note)s"),
            outcome=outcome,
            note=note,
            translate=["outcome"],
        )
    return audit_text(
        gettext_noop("Resolved: %(outcome)s."), outcome=outcome, translate=["outcome"]
    )


def admin_log(
    *, user: Any, objects: Model | Iterable[Model], message: AuditText, action_flag: int = CHANGE
) -> None:
    """Record a staff action on each of ``objects`` in the admin audit trail (P12).

    ``message`` says what was done and why (:func:`audit_text`); it must never hold
    personal values (a phone number, a code, message content).
    """
    items = [objects] if isinstance(objects, Model) else list(objects)
    if not items:
        return
    LogEntry.objects.log_actions(
        user_id=user.pk, queryset=items, action_flag=action_flag, change_message=message.stored()
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


# Django names a model's default permissions "Can view user" in English when it
# creates them (stored); staff read them in their own language.
_DEFAULT_PERMISSIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def group_label(group: Any) -> str:
    """A staff group's name in the reader's language (stored in English: a key for code)."""
    return gettext(group.name)


def permission_label(permission: Any) -> str:
    """``app | model | what it allows``, in the reader's language.

    A default permission is named from the model's translated verbose name; a custom
    one (``Meta.permissions``, the roles' extra permission) by its ``gettext_noop``
    marked name.
    """
    content_type = permission.content_type
    model = content_type.model_class()
    if model is None:
        return str(permission)
    action = permission.codename.split("_", 1)[0]
    if action in _DEFAULT_PERMISSIONS and permission.codename == (
        f"{action}_{model._meta.model_name}"
    ):
        what = str(_DEFAULT_PERMISSIONS[action]) % {"model": model._meta.verbose_name}
    else:
        what = gettext(permission.name)
    app = model._meta.app_config.verbose_name
    return f"{app} | {model._meta.verbose_name} | {what}"


def translate_role_choices(formfield: Any) -> Any:
    """Group and permission choices of an admin form, labelled in the reader's language."""
    if formfield is None:
        return formfield
    model = getattr(getattr(formfield, "queryset", None), "model", None)
    if model is not None and model._meta.label == "auth.Group":
        formfield.label_from_instance = group_label
    elif model is not None and model._meta.label == "auth.Permission":
        formfield.label_from_instance = permission_label
    return formfield


class StaffModelAdmin(AnyModelAdmin):
    """A ModelAdmin for busy staff pages; see the module docstring."""

    list_per_page = 50
    # The paginator's count is one query; the "N total" link would be a second one.
    show_full_result_count = False
    list_annotations: ClassVar[dict[str, Any]] = {}
    # field name -> masker, e.g. {"ip_address": mask_ip}
    masked_fields: ClassVar[dict[str, Masker]] = {}
    # key -> (label, getter on the object); revealed one at a time, with a reason. The
    # label is marked with gettext_lazy (the form and the audit trail translate it).
    reveal_fields: ClassVar[dict[str, tuple[Any, Callable[[Any], Any]]]] = {}
    reveal_permission: ClassVar[str] = ""  # "app_label.codename"; superusers always may

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, masker in cls.masked_fields.items():
            attr = f"masked_{name}"
            if not hasattr(cls, attr):
                setattr(cls, attr, _masked_display(name, masker))

    def __init__(self, model: Any, admin_site: Any) -> None:
        super().__init__(model, admin_site)
        for name in self.masked_fields:
            label = getattr(getattr(type(self), f"masked_{name}", None), "short_description", None)
            if isinstance(label, _MaskedLabel) and label.model is None:
                label.model = model

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        return translate_role_choices(super().formfield_for_manytomany(db_field, request, **kwargs))

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
        self, request: HttpRequest, objects: Model | Iterable[Model], message: AuditText
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
            self.log_staff_action(
                request,
                obj,
                audit_text(
                    gettext_noop("Revealed %(field)s. Reason: %(reason)s"),
                    field=label,
                    reason=reason,
                    translate=["field"],
                ),
            )
            value = getter(obj)
            revealed = (str(label), value if value not in (None, "") else _("(empty)"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": _("Reveal personal data of %(object)s") % {"object": obj},
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
    display.short_description = _MaskedLabel(name)  # type: ignore[attr-defined]
    return display


class _MaskedLabel:
    """A masked column's header: the field's own (translated) verbose name.

    The admin class does not know its model when it is defined; the label is looked up
    when the page asks for it, from the model the admin was registered for.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.model: Any = None

    def __str__(self) -> str:
        if self.model is not None:
            try:
                return str(self.model._meta.get_field(self.name).verbose_name)
            except FieldDoesNotExist:
                pass
        return self.name.replace("_", " ")


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
