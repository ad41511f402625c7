"""Part 2 (issue 15), first piece: likes between people, passes, matches, unmatch.

A like is private: its recipient sees it only in their own who-liked-me list (and
never who passed on them). A mutual like makes a :class:`Match`: the direct
conversation opens for both through chat's services, both get an event on their
stream and an ID-only push. Unmatching closes the conversation (readable, nobody can
send; chat's ``conversation_close_set``), tells the other side only that the match
ended, and forgets both likes, so a later mutual like can match again. Policy ids:
P10 (push switches), P11 (blocks, banned, deactivated; likes private).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid as uuid_lib
from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity.permissions import verified_required
from accounts.models import Block, User
from accounts.selectors import discover_users, user_public_get
from chat.events import PendingEvent, events_append
from chat.services import conversation_close_set, conversation_get_or_create_direct
from dating.models import Match, ProfileLike, ProfilePass
from meetnow.lib.errors import ApplicationError, NotFoundError
from meetnow.lib.outbox import task_send

logger = logging.getLogger(__name__)


class MatchEvent:
    MATCHED = "dating.matched"
    MATCH_ENDED = "dating.match_ended"


# --- Reads ----------------------------------------------------------------------------


def _live_pass(viewer_id: int, user_field: str) -> Exists:
    return Exists(
        ProfilePass.objects.filter(
            from_user_id=viewer_id, to_user_id=OuterRef(user_field), until__gt=timezone.now()
        )
    )


def _blocked_either_way(viewer_id: int, user_field: str) -> Exists:
    return Exists(
        Block.objects.filter(
            Q(blocker_id=viewer_id, blocked_id=OuterRef(user_field))
            | Q(blocker_id=OuterRef(user_field), blocked_id=viewer_id)
        )
    )


def match_exists_q(viewer_id: int, other_field: str) -> Exists:
    """A live match between the viewer and the user in ``other_field`` (for querysets)."""
    return Exists(
        Match.objects.filter(
            Q(user_low_id=viewer_id, user_high_id=OuterRef(other_field))
            | Q(user_low_id=OuterRef(other_field), user_high_id=viewer_id),
            ended_at__isnull=True,
        )
    )


def matched_user_ids(*, user_id: int, other_ids: Collection[int]) -> set[int]:
    """Which of ``other_ids`` have a live match with ``user_id`` (one query): chat's
    ``MEETNOW_CHAT_MATCHED_CHECK`` hook (message requests, group invitations)."""
    ids = list(other_ids)
    rows = Match.objects.filter(
        Q(user_low_id=user_id, user_high_id__in=ids) | Q(user_high_id=user_id, user_low_id__in=ids),
        ended_at__isnull=True,
    ).values_list("user_low_id", "user_high_id")
    return {high if low == user_id else low for low, high in rows}


def likes_received(*, user: User) -> QuerySet[ProfileLike]:
    """Who liked me and is still unanswered: not liked back (that is a match), not
    passed, and only people I may see (active, not banned, no block either way)."""
    liked_back = ProfileLike.objects.filter(from_user_id=user.pk, to_user_id=OuterRef("from_user"))
    return (
        ProfileLike.objects.filter(
            to_user_id=user.pk,
            from_user__is_active=True,
            from_user__banned_at__isnull=True,
        )
        .filter(~Exists(liked_back))
        .filter(~_live_pass(user.pk, "from_user"))
        .filter(~_blocked_either_way(user.pk, "from_user"))
        .select_related("from_user", "from_user__avatar", "from_user__voice_intro")
    )


def _visible_other(viewer_id: int, side: str) -> Q:
    """The person in ``side`` of a match is someone the viewer may see (P11): active,
    not banned, no block either way."""
    return Q(**{f"{side}__is_active": True, f"{side}__banned_at__isnull": True}) & ~Q(
        _blocked_either_way(viewer_id, side)
    )


def matches_of(*, user: User) -> QuerySet[Match]:
    """My live matches, newest first, with both people and the conversation; never
    with someone blocked either way, banned or deactivated since (the match stays
    until one of them ends it, it just is not shown)."""
    return Match.objects.filter(
        (Q(user_low_id=user.pk) & _visible_other(user.pk, "user_high"))
        | (Q(user_high_id=user.pk) & _visible_other(user.pk, "user_low")),
        ended_at=None,
    ).select_related(
        "user_low",
        "user_low__avatar",
        "user_low__voice_intro",
        "user_high",
        "user_high__avatar",
        "user_high__voice_intro",
        "conversation",
    )


def discover_exclusion(*, viewer_id: int, user_field: str) -> Q:
    """Accounts' ``MEETNOW_DISCOVER_EXCLUSIONS`` hook: the people the viewer passed on
    within ``DATING_PASS_DAYS``, liked already, or has a live match with (P11)."""
    liked = ProfileLike.objects.filter(from_user_id=viewer_id, to_user_id=OuterRef(user_field))
    return (
        Q(_live_pass(viewer_id, user_field))
        | Q(Exists(liked))
        | Q(match_exists_q(viewer_id, user_field))
    )


def discover(
    *,
    viewer: User,
    gender: str | None = None,
    age_min: int | None = None,
    age_max: int | None = None,
) -> QuerySet[User]:
    """Accounts' discover (active, no block, not hidden, filters), which leaves out
    people I passed on, liked or matched with through :func:`discover_exclusion`."""
    return discover_users(viewer=viewer, gender=gender, age_min=age_min, age_max=age_max)


def other_of(match: Match, user: User) -> User:
    return match.user_high if match.user_low_id == user.pk else match.user_low


# --- Writes ---------------------------------------------------------------------------


def _target(*, user: User, user_uuid: Any) -> User:
    target = user_public_get(viewer=user, user_uuid=user_uuid)
    if target.pk == user.pk:
        raise ApplicationError("cannot_like_self", _("You cannot do this to yourself."))
    return target


def _daily_limit_check(user: User) -> None:
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    sent = ProfileLike.objects.filter(from_user_id=user.pk, created_at__gte=today).count()
    if sent >= settings.DATING_DAILY_LIKES:
        raise ApplicationError(
            "daily_like_limit",
            _("You have used today's likes; more tomorrow."),
            status_code=429,
        )


def profile_like(*, user: User, user_uuid: Any) -> Match | None:
    """Like a person (idempotent); returns the match if the like was mutual.

    Refused toward oneself, and (404) toward someone blocked either way, banned,
    deactivated or erased; at most ``DATING_DAILY_LIKES`` new likes a day (429).
    """
    verified_required(user=user, function="likes")
    target = _target(user=user, user_uuid=user_uuid)
    if ProfileLike.objects.filter(from_user_id=user.pk, to_user_id=target.pk).exists():
        return _live_match(user.pk, target.pk)
    _daily_limit_check(user)
    with transaction.atomic():
        ProfilePass.objects.filter(from_user_id=user.pk, to_user_id=target.pk).delete()
        ProfileLike.objects.bulk_create(
            [ProfileLike(from_user_id=user.pk, to_user_id=target.pk)], ignore_conflicts=True
        )
        mutual = ProfileLike.objects.filter(from_user_id=target.pk, to_user_id=user.pk).exists()
        if not mutual:
            return None
        return _match_create(user, target)


def _live_match(a_id: int, b_id: int) -> Match | None:
    low, high = sorted((a_id, b_id))
    return Match.objects.filter(user_low_id=low, user_high_id=high, ended_at=None).first()


def _match_create(user: User, other: User) -> Match:
    low, high = sorted((user.pk, other.pk))
    existing = _live_match(low, high)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            match = Match.objects.create(user_low_id=low, user_high_id=high)
    except IntegrityError:  # the other side's like made it at the same moment
        found = _live_match(low, high)
        if found is None:
            raise
        return found
    conversation, _created = conversation_get_or_create_direct(user=user, other_uuid=other.uuid)
    conversation_close_set(conversation_id=conversation.pk, closed=False)  # matched again
    match.conversation = conversation
    match.save(update_fields=["conversation"])
    body = {"match": str(match.uuid), "conversation": str(conversation.uuid)}
    events_append(
        [
            PendingEvent(
                user_ids=[user.pk],
                type=MatchEvent.MATCHED,
                stored={**body, "user": str(other.uuid)},
            ),
            PendingEvent(
                user_ids=[other.pk],
                type=MatchEvent.MATCHED,
                stored={**body, "user": str(user.uuid)},
            ),
        ]
    )

    def push() -> None:
        from dating.tasks import match_push_task

        task_send(match_push_task, match.pk)

    transaction.on_commit(push, robust=True)
    logger.info("dating: match %s made", match.uuid)
    return match


def profile_pass(*, user: User, user_uuid: Any) -> ProfilePass:
    """Pass on a person: hidden from my discover and my who-liked-me for
    ``DATING_PASS_DAYS``; a like I had sent them is withdrawn."""
    target = _target(user=user, user_uuid=user_uuid)
    until = timezone.now() + dt.timedelta(days=settings.DATING_PASS_DAYS)
    with transaction.atomic():
        ProfileLike.objects.filter(from_user_id=user.pk, to_user_id=target.pk).delete()
        row, _created = ProfilePass.objects.update_or_create(
            from_user_id=user.pk, to_user_id=target.pk, defaults={"until": until}
        )
    return row


def match_end(*, user: User, match_uuid: Any) -> None:
    """Unmatch: the conversation closes for both (history stays readable, nobody can
    send), the other side learns only that the match ended (no reason), both likes are
    forgotten so a later mutual like can match again. This is not a block."""
    try:
        mid = uuid_lib.UUID(str(match_uuid))
    except (TypeError, ValueError, AttributeError):
        raise NotFoundError(_("Match not found.")) from None
    match = (
        Match.objects.filter(uuid=mid, ended_at=None)
        .filter(Q(user_low_id=user.pk) | Q(user_high_id=user.pk))
        .first()
    )
    if match is None:
        raise NotFoundError(_("Match not found."))
    with transaction.atomic():
        ended = Match.objects.filter(pk=match.pk, ended_at=None).update(ended_at=timezone.now())
        if not ended:
            return
        ProfileLike.objects.filter(
            Q(from_user_id=match.user_low_id, to_user_id=match.user_high_id)
            | Q(from_user_id=match.user_high_id, to_user_id=match.user_low_id)
        ).delete()
        if match.conversation_id is not None:
            conversation_close_set(conversation_id=match.conversation_id, closed=True)
        events_append(
            [
                PendingEvent(
                    user_ids=[match.user_low_id, match.user_high_id],
                    type=MatchEvent.MATCH_ENDED,
                    stored={"match": str(match.uuid)},
                )
            ]
        )
    logger.info("dating: match %s ended", match.uuid)


# --- Erasure and retention --------------------------------------------------------------


def profile_likes_erase(*, user_id: int, limit: int) -> int:
    ids = list(
        ProfileLike.objects.filter(Q(from_user_id=user_id) | Q(to_user_id=user_id))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    ProfileLike.objects.filter(pk__in=ids).delete()
    return len(ids)


def passes_erase(*, user_id: int, limit: int) -> int:
    ids = list(
        ProfilePass.objects.filter(Q(from_user_id=user_id) | Q(to_user_id=user_id))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    ProfilePass.objects.filter(pk__in=ids).delete()
    return len(ids)


def matches_erase(*, user_id: int, limit: int) -> int:
    """Delete the user's matches; a live one's conversation is closed first (the other
    side keeps its history, as chat's erasure keeps conversations)."""
    matches = list(
        Match.objects.filter(Q(user_low_id=user_id) | Q(user_high_id=user_id)).order_by("pk")[
            :limit
        ]
    )
    for match in matches:
        if match.ended_at is None and match.conversation_id is not None:
            conversation_close_set(conversation_id=match.conversation_id, closed=True)
    Match.objects.filter(pk__in=[m.pk for m in matches]).delete()
    return len(matches)


def passes_purge(*, now: dt.datetime, batch: int = 1000) -> int:
    """Delete passes whose hiding period is over (P15)."""
    ids = list(
        ProfilePass.objects.filter(until__lt=now)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch]
    )
    ProfilePass.objects.filter(pk__in=ids).delete()
    return len(ids)
