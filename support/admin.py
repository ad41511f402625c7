"""Support queue (P17): tickets waiting for an answer first, oldest first; answer in place.

The answer box on a ticket's page calls ``support_ticket_answer`` (the user's app
gets a push). The ticket's text and the conversation are read-only; the user's
phone number can be revealed with a logged reason. A ticket from the public form
(no account, "from" = "public form") has a topic and a contact: the list shows the
contact number masked; the number and the free contact are revealed with a logged
reason, and support answers the person through them (the answer is kept on the ticket).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.phones import phone_mask
from media.models import Status as MediaStatus
from media.services import media_file_signed_urls
from meetnow.lib.adminkit import AnyModelForm, StaffModelAdmin, audit_text
from meetnow.lib.i18n import display
from support.models import TEXT_MAX, SupportTicket, TicketStatus
from support.services import support_ticket_answer, support_ticket_close


class SupportTicketForm(AnyModelForm):
    answer = forms.CharField(
        label=_("Answer to the user"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text=_("Sent to the user's app (with a push) when you save."),
    )
    close_ticket = forms.BooleanField(label=_("Close the ticket with this answer"), required=False)

    class Meta:
        model = SupportTicket
        fields: list[str] = []


@admin.register(SupportTicket)
class SupportTicketAdmin(StaffModelAdmin):
    form = SupportTicketForm
    list_display = (
        "uuid",
        "status",
        "deadline",
        "waiting",
        "origin",
        "topic",
        "user",
        "picture_count",
        "reply_count",
    )
    list_filter = ("status", "topic")
    list_select_related = ("user",)
    list_annotations = {
        "picture_count_n": Count("pictures", distinct=True),
        "reply_count_n": Count("replies", distinct=True),
        "queue_order": Case(
            When(status=TicketStatus.OPEN, then=Value(0)),
            When(status=TicketStatus.ANSWERED, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
    }
    search_fields = ("=uuid", "=user__uuid")
    date_hierarchy = "created_at"
    actions = ("close_tickets",)
    fields = (
        "uuid",
        "user",
        "topic",
        "public_contact",
        "status",
        "created_at",
        "due_at",
        "text",
        "picture_links",
        "conversation",
        "answer",
        "close_ticket",
    )
    readonly_fields = (
        "uuid",
        "user",
        "topic",
        "public_contact",
        "status",
        "created_at",
        "due_at",
        "text",
        "picture_links",
        "conversation",
    )
    reveal_fields = {
        "phone": (
            _("phone number"),
            lambda t: t.user.phone if t.user_id else (t.contact_phone or None),
        ),
        "contact": (_("contact (public form)"), lambda t: t.contact or None),
    }
    reveal_permission = "privacy.reveal_personal_data"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Waiting for support first (earliest deadline first), then answered, then closed.
        return super().get_queryset(request).order_by("queue_order", "due_at", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("deadline"), ordering="due_at")
    def deadline(self, ticket: SupportTicket) -> str:
        """The answer's deadline (P17), marked when an open ticket is past it."""
        if ticket.due_at is None:
            return "-"
        # In the staff member's language and zone (the admin activates both).
        text = display(ticket.due_at)
        if ticket.status == TicketStatus.OPEN and ticket.due_at < timezone.now():
            return format_html(
                '<strong class="overdue" style="color: var(--error-fg)">{}</strong>',
                _("OVERDUE %(deadline)s") % {"deadline": text},
            )
        return text

    @admin.display(description=_("from"), ordering="user")
    def origin(self, ticket: SupportTicket) -> str:
        return str(_("app") if ticket.user_id else _("public form"))

    @admin.display(description=_("contact"))
    def public_contact(self, ticket: SupportTicket) -> str:
        """A public ticket's contact as staff see it before revealing: the number
        masked, the free contact only said to be there."""
        if ticket.user_id:
            return "-"
        parts = [phone_mask(ticket.contact_phone)] if ticket.contact_phone else []
        if ticket.contact:
            parts.append(str(_("other contact given (reveal to read)")))
        return " · ".join(parts) or "-"

    @admin.display(description=_("waiting"), ordering="created_at")
    def waiting(self, ticket: SupportTicket) -> str:
        if ticket.status != TicketStatus.OPEN:
            return "-"
        return timesince(ticket.updated_at)

    @admin.display(description=_("pictures"), ordering="picture_count_n")
    def picture_count(self, ticket: Any) -> int:
        return int(ticket.picture_count_n)

    @admin.display(description=_("messages"), ordering="reply_count_n")
    def reply_count(self, ticket: Any) -> int:
        return int(ticket.reply_count_n)

    @admin.display(description=_("pictures"))
    def picture_links(self, ticket: SupportTicket) -> str:
        items = []
        for picture in ticket.pictures.select_related("media_file"):
            media_file = picture.media_file
            urls = (
                media_file_signed_urls(media_file=media_file)
                if media_file.status == MediaStatus.READY
                else {}
            )
            thumb = urls.get("256") or urls.get("original")
            if thumb:
                items.append((urls.get("original", thumb), thumb))
        if not items:
            return "-"
        return format_html_join(
            " ",
            '<a href="{}" target="_blank"><img src="{}" alt="{}" height="128"></a>',
            ((original, thumb, _("picture")) for original, thumb in items),
        )

    @admin.display(description=_("conversation"))
    def conversation(self, ticket: SupportTicket) -> str:
        replies = list(ticket.replies.select_related("author").order_by("id"))
        if not replies:
            return "-"
        return format_html(
            "<ol>{}</ol>",
            format_html_join(
                "",
                "<li><strong>{}</strong> ({}): {}</li>",
                (
                    (
                        (r.author.username or _("support"))
                        if r.from_staff and r.author
                        else (_("support") if r.from_staff else _("user")),
                        display(r.created_at),
                        r.text,
                    )
                    for r in replies
                ),
            ),
        )

    def save_model(self, request: HttpRequest, obj: SupportTicket, form: Any, change: bool) -> None:
        answer = (form.cleaned_data.get("answer") or "").strip()
        staff = request.user
        if answer and isinstance(staff, User):
            support_ticket_answer(
                ticket=obj, staff=staff, text=answer, close=form.cleaned_data.get("close_ticket")
            )
            if obj.user_id:
                self.message_user(request, _("Answer sent to the user."), messages.SUCCESS)
            else:
                self.message_user(
                    request,
                    _("Answer kept on the ticket: reach the person through their contact."),
                    messages.WARNING,
                )
        elif form.cleaned_data.get("close_ticket"):
            support_ticket_close(ticket=obj)

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> Any:
        # The answer's text stays in the ticket, not in the audit trail.
        answered = bool((form.cleaned_data.get("answer") or "").strip())
        closed = bool(form.cleaned_data.get("close_ticket"))
        if answered and closed:
            return audit_text(gettext_noop("Answered and closed the ticket.")).stored()
        if answered:
            return audit_text(gettext_noop("Answered the ticket.")).stored()
        if closed:
            return audit_text(gettext_noop("Closed the ticket.")).stored()
        return audit_text(gettext_noop("Saved the ticket without changes.")).stored()

    @admin.action(description=_("Close the selected tickets"), permissions=["change"])
    def close_tickets(self, request: HttpRequest, queryset: QuerySet[SupportTicket]) -> None:
        tickets = list(queryset.exclude(status=TicketStatus.CLOSED))
        for ticket in tickets:
            support_ticket_close(ticket=ticket)
        self.log_staff_action(request, tickets, audit_text(gettext_noop("Closed the ticket.")))
        self.message_user(
            request, _("%(count)d ticket(s) closed.") % {"count": len(tickets)}, messages.SUCCESS
        )
