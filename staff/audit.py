"""Read-only audit trail of staff actions: the admin's ``LogEntry`` (P12).

Every add, change and delete made through the admin forms is logged by Django;
custom actions (ban, hide, approve...) log through ``meetnow.lib.adminkit.admin_log``,
as a message code and parameters shown in the reader's language (``audit_message``).
Nobody can add, edit or delete an entry here, superusers included. The privacy
request audit events are shown on each request's own page (privacy admin).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from meetnow.lib.adminkit import ReadOnlyAdmin, audit_message

_FLAGS = {ADDITION: _("Added"), CHANGE: _("Changed"), DELETION: _("Deleted")}


class LogEntryAdmin(ReadOnlyAdmin):
    list_display = ("action_time", "user", "action", "content_type", "target", "message")
    list_filter = ("action_flag", ("user", admin.RelatedOnlyFieldListFilter), "content_type")
    list_select_related = ("user", "content_type")
    search_fields = ("object_repr", "=object_id", "change_message", "user__username")
    date_hierarchy = "action_time"
    ordering = ("-action_time", "-id")
    fields = (
        "action_time",
        "user",
        "action",
        "content_type",
        "object_id",
        "target",
        "message",
    )
    readonly_fields = fields

    @admin.display(description=_("action"), ordering="action_flag")
    def action(self, entry: LogEntry) -> str:
        return str(_FLAGS.get(entry.action_flag, entry.action_flag))

    @admin.display(description=_("object"))
    def target(self, entry: LogEntry) -> str:
        url = entry.get_admin_url() if entry.action_flag != DELETION else ""
        if url:
            return format_html('<a href="{}">{}</a>', url, entry.object_repr)
        return entry.object_repr

    @admin.display(description=_("what was done"))
    def message(self, entry: LogEntry) -> str:
        return audit_message(entry.change_message)
