"""Cache invalidation only (STYLE.md): a published policy version may gate everyone (P16);
open sockets are told to re-check."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from privacy.consents import gate_generation_invalidate, gate_sockets_recheck
from privacy.models import PolicyDocument


def _documents_changed(**kwargs: object) -> None:
    gate_generation_invalidate()
    document = kwargs.get("instance")
    if getattr(document, "published_at", None) is not None and getattr(
        document, "material_change", False
    ):
        # Open sockets check their session against the gate again (a material version
        # gates everyone who has not accepted it; sends over the socket stop at once).
        transaction.on_commit(gate_sockets_recheck, robust=True)


post_save.connect(_documents_changed, sender=PolicyDocument, dispatch_uid="privacy-gate-docs")
post_delete.connect(_documents_changed, sender=PolicyDocument, dispatch_uid="privacy-gate-docs-d")
