"""``{{ entry|audit_message }}``: an audit-trail entry in the reader's language (issue 17)."""

from __future__ import annotations

from django import template
from django.contrib.admin.models import LogEntry

from meetnow.lib.adminkit import audit_message as render

register = template.Library()


@register.filter
def audit_message(entry: LogEntry) -> str:
    return render(entry.change_message)
