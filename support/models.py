"""Support tickets (P17): the app's "contact customer service", with up to 5 pictures.

A user opens a ticket with text and pictures (uploaded first through the media API
with purpose ``support``); support staff answer in the admin; the answer reaches
the app through ``GET /api/v1/support/tickets/{uuid}`` and a push. They hold what
the user wrote: they are in the export and deleted by erasure
(``support/personal_data.py``).

The models keep ``app_label = "privacy"`` (where they were born): their tables,
migrations (``privacy/migrations``), permissions (``privacy.view_supportticket``),
admin URLs and erasure-log labels (``privacy.SupportTicket``) stay as they were, with
no migration. A model change here is a migration in ``privacy/migrations``. Writes are
in ``support/services.py``, reads in ``support/selectors.py``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PICTURES_MAX = 5
TEXT_MAX = 4000
CONTACT_MAX = 200


class TicketTopic(models.TextChoices):
    """What a ticket from the public form is about (app tickets have none)."""

    LOST_NUMBER = "lost_number", _("I lost my phone number")
    ACCOUNT_ACCESS = "account_access", _("I can't get into my account")
    PRIVACY_REQUEST = "privacy_request", _("A request about my personal data")
    OTHER = "other", _("Something else")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Waiting for support")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class SupportTicket(models.Model):
    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("uuid"))
    # Null for a ticket from the public form (``support_ticket_create_public``): a
    # person without an account, or who lost its number, reached through the contact.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="support_tickets",
        verbose_name=_("user"),
    )
    topic = models.CharField(
        max_length=20, choices=TicketTopic.choices, blank=True, verbose_name=_("topic")
    )
    # How to reach the person of a public ticket (at least one of the two; empty on app
    # tickets): a phone number in E.164, and/or what they wrote (e-mail, other number).
    contact_phone = models.CharField(max_length=32, blank=True, verbose_name=_("contact phone"))
    contact = models.CharField(max_length=CONTACT_MAX, blank=True, verbose_name=_("contact"))
    text = models.TextField(max_length=TEXT_MAX, verbose_name=_("text"))
    status = models.CharField(
        max_length=10,
        choices=TicketStatus.choices,
        default=TicketStatus.OPEN,
        verbose_name=_("status"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))
    answered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("answered at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))
    # Answer due by (``MEETNOW_SUPPORT_SLA_DAYS`` working days after the user's last
    # message, meetnow/lib/deadlines.py); empty on tickets from before deadlines.
    due_at = models.DateTimeField(null=True, blank=True, verbose_name=_("due at"))

    class Meta:
        verbose_name = _("support ticket")
        verbose_name_plural = _("support tickets")
        app_label = "privacy"
        indexes = [
            models.Index(fields=["user", "-id"], name="privacy_ticket_user_idx"),
            models.Index(fields=["status", "created_at"], name="privacy_ticket_queue_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(contact_phone="") | ~Q(contact=""),
                name="privacy_ticket_user_or_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"ticket {self.uuid}"


class SupportTicketPicture(models.Model):
    """A picture of a ticket: a media file of the ticket's user, purpose ``support``."""

    ticket = models.ForeignKey(
        SupportTicket, on_delete=models.CASCADE, related_name="pictures", verbose_name=_("ticket")
    )
    media_file = models.ForeignKey(
        "media.MediaFile", on_delete=models.CASCADE, related_name="+", verbose_name=_("media file")
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        verbose_name = _("support ticket picture")
        verbose_name_plural = _("support ticket pictures")
        app_label = "privacy"
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "media_file"], name="privacy_ticket_picture_once"
            ),
        ]

    def __str__(self) -> str:
        return f"picture {self.position} of ticket {self.ticket_id}"


class SupportReply(models.Model):
    """A message in a ticket: an answer from support, or a follow-up from the user."""

    ticket = models.ForeignKey(
        SupportTicket, on_delete=models.CASCADE, related_name="replies", verbose_name=_("ticket")
    )
    # Staff member who answered; null for the user's own follow-ups (and once erased).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    from_staff = models.BooleanField(default=True, verbose_name=_("from staff"))
    text = models.TextField(max_length=TEXT_MAX, verbose_name=_("text"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    # When the user's app first fetched a staff answer.
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))

    class Meta:
        verbose_name = _("support reply")
        verbose_name_plural = _("support replies")
        app_label = "privacy"
        ordering = ["id"]
        indexes = [models.Index(fields=["ticket", "id"], name="privacy_reply_ticket_idx")]

    def __str__(self) -> str:
        return f"reply {self.pk} to ticket {self.ticket_id}"
