"""Project-wide writes that belong to no single app."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.utils import timezone


def sessions_clear_expired() -> int:
    """Delete expired app sessions (session tokens) from the database; returns the count."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
