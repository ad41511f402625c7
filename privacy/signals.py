"""Cache invalidation only (STYLE.md): a published policy version may gate everyone (P16)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from privacy.consents import gate_generation_invalidate
from privacy.models import PolicyDocument


def _documents_changed(**kwargs: object) -> None:
    gate_generation_invalidate()


post_save.connect(_documents_changed, sender=PolicyDocument, dispatch_uid="privacy-gate-docs")
post_delete.connect(_documents_changed, sender=PolicyDocument, dispatch_uid="privacy-gate-docs-d")
