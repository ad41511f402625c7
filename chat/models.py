"""Chat: conversations, members, messages, the per-user event stream, reports.

Layout follows research/chat.md: keyset history on ``(conversation, id)``, read state
as one ``last_read_id`` per member (no per-recipient message rows), an idempotent
send backed by a database unique constraint, and a per-user numbered event stream
(``Event.seq``) that is the source of truth for catch-up (``GET /api/v1/sync``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ConversationKind(models.TextChoices):
    DIRECT = "direct", _("Direct")
    GROUP = "group", _("Group")


class Conversation(models.Model):
    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("uuid"))
    kind = models.CharField(max_length=8, choices=ConversationKind.choices, verbose_name=_("kind"))
    title = models.CharField(max_length=80, blank=True, verbose_name=_("title"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    # "<smaller user id>:<larger user id>" for direct conversations: the unique
    # constraint makes "exactly one per pair" true even under concurrent creates.
    direct_key = models.CharField(  # noqa: DJ001 (NULL for groups, outside the unique index)
        max_length=48, null=True, blank=True, editable=False, verbose_name=_("direct key")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    # Bumped by every message: the conversation list's sort key. The UPDATE also
    # takes the row lock that orders concurrent sends into one conversation.
    last_activity_at = models.DateTimeField(
        default=timezone.now, verbose_name=_("last activity at")
    )
    # Set when a layer above closes the conversation (dating: the match ended): the
    # history stays readable to its members, nobody can send into it.
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.UniqueConstraint(
                fields=["direct_key"],
                condition=Q(direct_key__isnull=False),
                name="chat_conversation_one_direct_per_pair",
            ),
            models.CheckConstraint(
                condition=Q(kind="direct", direct_key__isnull=False)
                | Q(kind="group", direct_key__isnull=True),
                name="chat_conversation_direct_key_iff_direct",
            ),
        ]
        indexes = [
            models.Index(fields=["-last_activity_at", "-id"], name="chat_conv_activity_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} conversation {self.uuid}"


class MemberRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    MEMBER = "member", _("Member")


class RequestState(models.TextChoices):
    """Where a direct conversation stands for its recipient (issue 15, message requests)."""

    ACCEPTED = "", _("Accepted")
    PENDING = "pending", _("Pending")
    DECLINED = "declined", _("Declined")


class Membership(models.Model):
    """A user in a conversation, with their read state and mute flag.

    Leaving or being removed sets ``left_at``; the row stays so that the history of
    membership is kept, but a former member sees nothing (404) until added again.

    ``request_state`` is set on the recipient's row of a direct conversation a
    stranger started (a message request): ``pending`` (in their requests list, not in
    their conversations; no events per message), ``declined`` (``left_at`` set too:
    they see nothing; the sender can send no more). The send path reads it with the
    members it already reads, so an accepted conversation pays nothing for it.
    """

    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("conversation"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="chat_memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(
        max_length=8, choices=MemberRole.choices, default=MemberRole.MEMBER, verbose_name=_("role")
    )
    joined_at = models.DateTimeField(default=timezone.now, verbose_name=_("joined at"))
    left_at = models.DateTimeField(null=True, blank=True, verbose_name=_("left at"))
    last_read_id = models.BigIntegerField(default=0, verbose_name=_("last read id"))
    muted = models.BooleanField(default=False, verbose_name=_("muted"))
    request_state = models.CharField(
        max_length=8,
        choices=RequestState.choices,
        blank=True,
        default=RequestState.ACCEPTED,
        verbose_name=_("message request"),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "conversation"], name="chat_membership_unique"),
        ]
        indexes = [
            models.Index(fields=["conversation", "user"], name="chat_member_conv_user_idx"),
        ]

    def __str__(self) -> str:
        return f"membership {self.pk}"


class GroupInvitation(models.Model):
    """An invitation to a group for someone who is neither a match nor an accepted
    conversation partner of whoever added them (issue 15). Until they accept they have
    no membership: the group is a 404 for them, they get none of its events. A declined
    invitation stays (``declined_at``) so the same group cannot invite them again."""

    id = models.BigAutoField(primary_key=True)
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("conversation"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="chat_invitations",
        verbose_name=_("user"),
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    declined_at = models.DateTimeField(null=True, blank=True, verbose_name=_("declined at"))

    class Meta:
        verbose_name = _("group invitation")
        verbose_name_plural = _("group invitations")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="chat_invitation_unique"),
        ]
        indexes = [models.Index(fields=["user", "-id"], name="chat_invitation_user_idx")]

    def __str__(self) -> str:
        return f"invitation {self.pk}"


class MessageKind(models.TextChoices):
    TEXT = "text", _("Text")
    IMAGE = "image", _("Image")
    VOICE = "voice", _("Voice")
    VIDEO = "video", _("Video")
    SYSTEM = "system", _("System")


class Message(models.Model):
    """One message. Recall and moderation blank the content and keep the row (tombstone)."""

    id = models.BigAutoField(primary_key=True)
    # No index of its own: the (conversation, id) index below serves every lookup by
    # conversation, and one index fewer is less work on each of the many inserts.
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
        verbose_name=_("conversation"),
    )
    # Null for system messages (and kept null-able for erased senders' tombstones).
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_messages",
        verbose_name=_("sender"),
    )
    client_id = models.UUIDField(null=True, blank=True, verbose_name=_("client id"))
    kind = models.CharField(max_length=8, choices=MessageKind.choices, verbose_name=_("kind"))
    text = models.TextField(blank=True, verbose_name=_("text"))
    # A photo, voice message or video: a file the sender uploaded (media app).
    attachment = models.ForeignKey(
        "media.MediaFile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("attachment"),
    )
    # Structured body of system messages (member added, left...): ids only, no text.
    system = models.JSONField(null=True, blank=True, verbose_name=_("system"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    edited_at = models.DateTimeField(null=True, blank=True, verbose_name=_("edited at"))
    recalled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("recalled at"))
    moderated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("moderated at"))

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            # The idempotency key of sends: a retry can never create a second row.
            models.UniqueConstraint(
                fields=["sender", "client_id"],
                condition=Q(client_id__isnull=False),
                name="chat_message_unique_client_id",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "id"], name="chat_msg_conv_id_idx"),
        ]

    def __str__(self) -> str:
        return f"message {self.pk}"

    @property
    def is_removed(self) -> bool:
        return self.recalled_at is not None or self.moderated_at is not None


class MessageVersion(models.Model):
    """A previous text of an edited message, kept for moderators (never shown to users)."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="versions", verbose_name=_("message")
    )
    text = models.TextField(blank=True, verbose_name=_("text"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("message version")
        verbose_name_plural = _("message versions")

    def __str__(self) -> str:
        return f"version {self.pk} of message {self.message_id}"


class MessageHidden(models.Model):
    """Delete-for-me: ``user`` no longer sees ``message``; the others still do."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="hidden_for", verbose_name=_("message")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("hidden message")
        verbose_name_plural = _("hidden messages")
        constraints = [
            models.UniqueConstraint(fields=["user", "message"], name="chat_hidden_unique"),
        ]

    def __str__(self) -> str:
        return f"hidden {self.pk}"


class EventStream(models.Model):
    """Per-user event counter: ``seq`` is the number of the user's last event.

    Incremented under its row lock inside the writing transaction, so a user's
    events become visible in the order of their numbers (a reader that saw N never
    misses a smaller number committed later). ``compacted_through`` is the highest
    number already deleted by compaction: a client behind it must refetch.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="chat_event_stream",
        verbose_name=_("user"),
    )
    seq = models.BigIntegerField(default=0, verbose_name=_("seq"))
    compacted_through = models.BigIntegerField(default=0, verbose_name=_("compacted through"))

    class Meta:
        verbose_name = _("event stream")
        verbose_name_plural = _("event streams")

    def __str__(self) -> str:
        return f"event stream of user {self.user_id}"


class Event(models.Model):
    """One change a user's devices must learn about (ids only; hydrated when read)."""

    id = models.BigAutoField(primary_key=True)
    # No index of its own: the unique (user, seq) index serves lookups by user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("user"),
    )
    seq = models.BigIntegerField(verbose_name=_("seq"))
    type = models.CharField(max_length=40, verbose_name=_("type"))
    payload = models.JSONField(default=dict, verbose_name=_("payload"))
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            models.UniqueConstraint(fields=["user", "seq"], name="chat_event_user_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"event {self.user_id}/{self.seq}"


class ChatSettings(models.Model):
    """A user's chat preferences (P10, P11): read receipts and push text previews."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="chat_settings",
        verbose_name=_("user"),
    )
    share_read_receipts = models.BooleanField(default=True, verbose_name=_("share read receipts"))
    push_previews = models.BooleanField(default=False, verbose_name=_("push previews"))

    class Meta:
        verbose_name = _("chat settings")
        verbose_name_plural = _("chat settings")

    def __str__(self) -> str:
        return f"chat settings of user {self.user_id}"


class ReportReason(models.TextChoices):
    SPAM = "spam", _("Spam or scam")
    HARASSMENT = "harassment", _("Harassment or hate")
    SEXUAL = "sexual", _("Unwanted sexual content")
    FAKE = "fake", _("Fake profile")
    UNDERAGE = "underage", _("Appears to be under age")
    VIOLENCE = "violence", _("Violence or threats")
    OTHER = "other", _("Other")


class ReportStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class ReportOutcome(models.TextChoices):
    NO_ACTION = "no_action", _("No action needed")
    MESSAGE_HIDDEN = "message_hidden", _("Message removed")
    USER_WARNED = "user_warned", _("User warned")
    USER_BANNED = "user_banned", _("User banned")


class ReportBase(models.Model):
    """What every report to the moderators holds (P8): who reported whom, why, the
    evidence text, and how a moderator closed it. Chat's ``Report`` and dating's
    ``PostReport`` add their reporter and reported user (each with its own reverse
    names), target, evidence and outcomes (abstract: no table)."""

    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("uuid"))
    reason = models.CharField(max_length=16, choices=ReportReason.choices, verbose_name=_("reason"))
    details = models.TextField(blank=True, verbose_name=_("details"))
    evidence_text = models.TextField(blank=True, verbose_name=_("evidence text"))
    status = models.CharField(
        max_length=10,
        choices=ReportStatus.choices,
        default=ReportStatus.OPEN,
        db_index=True,
        verbose_name=_("status"),
    )
    moderator_note = models.TextField(blank=True, verbose_name=_("moderator note"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    # Declared by each report with its own reverse names and outcome choices.
    reported_user_id: int | None
    outcome: str

    class Meta:
        abstract = True


class Report(ReportBase):
    """A report of a user or of a message (P8), reviewed by moderators in the admin.

    ``evidence_*`` snapshot the message when it is reported, so the moderator still
    sees it after the sender recalls or edits it; the snapshot is wiped when the
    report is resolved if the message itself no longer carries the content.
    """

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="chat_reports_made",
        verbose_name=_("reporter"),
    )
    reported_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="chat_reports_received",
        verbose_name=_("reported user"),
    )
    message = models.ForeignKey(
        Message,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        verbose_name=_("message"),
    )
    conversation = models.ForeignKey(
        Conversation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("conversation"),
    )
    evidence_kind = models.CharField(max_length=8, blank=True, verbose_name=_("evidence kind"))
    # The reported attachment, kept (not deleted with a recall) while the report is open.
    evidence_attachment = models.ForeignKey(
        "media.MediaFile",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("evidence attachment"),
    )
    evidence_sent_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("evidence sent at")
    )
    outcome = models.CharField(
        max_length=16, choices=ReportOutcome.choices, blank=True, verbose_name=_("outcome")
    )

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        indexes = [
            models.Index(fields=["reporter", "-id"], name="chat_report_reporter_idx"),
            models.Index(fields=["status", "-created_at"], name="chat_report_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"report {self.uuid}"


# --- Calls (issue 8; chat/calls/services.py, docs/calls.md) ------------------------------------


class CallMedia(models.TextChoices):
    AUDIO = "audio", _("Audio")
    VIDEO = "video", _("Video")


class CallState(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ACCEPTED = "accepted", _("Accepted")
    ENDED = "ended", _("Ended")


class CallOutcome(models.TextChoices):
    COMPLETED = "completed", _("Completed")
    MISSED = "missed", _("Missed")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")
    BUSY = "busy", _("Busy")
    FAILED = "failed", _("Failed")


class Call(models.Model):
    """A one-to-one voice or video call: what the call history shows, nothing more.

    No SDP, ICE candidate or IP is ever stored (P11): they are relayed through the
    channel layer only. State changes are conditional UPDATEs (``WHERE state = ...``),
    so two ASGI processes always agree on the one transition that won; the partial
    unique indexes make "one active call per user" true in the database.
    """

    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("uuid"))
    # Null for a call with no conversation behind it (dating's voice match: two
    # strangers the server paired, who have no conversation until they match).
    conversation = models.ForeignKey(
        Conversation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calls",
        verbose_name=_("conversation"),
    )
    # The two people are hidden from each other (no uuid, nickname or conversation in
    # any payload, relayed frame or history) until the layer that made the call
    # reveals them (dating: a mutual like after a voice match).
    anonymous = models.BooleanField(default=False, verbose_name=_("anonymous"))
    # Null once the account is erased (the other side's history keeps the call).
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls_made",
        verbose_name=_("caller"),
    )
    callee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls_received",
        verbose_name=_("callee"),
    )
    media = models.CharField(max_length=8, choices=CallMedia.choices, verbose_name=_("media"))
    state = models.CharField(
        max_length=8, choices=CallState.choices, default=CallState.RINGING, verbose_name=_("state")
    )
    outcome = models.CharField(
        max_length=10, choices=CallOutcome.choices, blank=True, verbose_name=_("outcome")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    accepted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("accepted at"))
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))
    duration_seconds = models.PositiveIntegerField(default=0, verbose_name=_("duration seconds"))

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        constraints = [
            models.UniqueConstraint(
                fields=["caller"],
                condition=Q(state__in=["ringing", "accepted"]),
                name="chat_call_one_active_per_caller",
            ),
            models.UniqueConstraint(
                fields=["callee"],
                condition=Q(state__in=["ringing", "accepted"]),
                name="chat_call_one_active_per_callee",
            ),
            models.CheckConstraint(
                condition=Q(state="ended", outcome__gt="") | (~Q(state="ended") & Q(outcome="")),
                name="chat_call_outcome_iff_ended",
            ),
        ]
        indexes = [
            models.Index(fields=["caller", "-id"], name="chat_call_caller_idx"),
            models.Index(fields=["callee", "-id"], name="chat_call_callee_idx"),
            models.Index(fields=["state", "created_at"], name="chat_call_state_idx"),
        ]

    def __str__(self) -> str:
        return f"call {self.uuid}"
