"""Models of the project package itself (rows that belong to no single app)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TaskOutbox(models.Model):
    """A task the broker could not take when it was sent (meetnow.lib.outbox).

    Ids only, never content; the beat task ``default.outbox_flush`` hands it to the
    broker once it is back and deletes the row.
    """

    id = models.BigAutoField(primary_key=True)
    task = models.CharField(max_length=200, verbose_name=_("task"))
    args = models.JSONField(default=list, blank=True, verbose_name=_("arguments"))
    kwargs = models.JSONField(default=dict, blank=True, verbose_name=_("keyword arguments"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("task waiting for the broker")
        verbose_name_plural = _("tasks waiting for the broker")

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"
