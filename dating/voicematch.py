"""Voice match (issue 15): talk first, then see who it is.

A person with the app's socket open enters the queue (``voice_match_enter``) with
optional filters (gender, age range). The server pairs them with the longest-waiting
compatible person:

- each passes the other's filters (both ways);
- neither blocked the other, neither passed on the other (a live pass), they never
  matched before, both accounts are visible (active, not banned, not erased), and
  neither is in a call; never oneself.

The pairing is atomic in the queue (``dating.voicematch_queue``: one Lua script on
Redis), so two servers never pair one person twice. A pair gets an ordinary call
through chat's call signalling, started answered and **anonymous** (no conversation,
no uuid, nickname, photo or profile of the other in any frame or history), limited
to ``DATING_VOICE_MATCH_CALL_SECONDS`` (5 min). During the call or up to
``DATING_VOICE_MATCH_LIKE_HOURS`` after the pairing each can like; a like is private
until it is mutual, and a mutual like makes a normal match (dating.matching: the
conversation, ``dating.matched`` events, push) and reveals the two to each other (the
call too). Otherwise neither ever learns who the other was.

Leaving (``voice_match_leave``), the last socket closing (``socket_closed``, a
``MEETNOW_WS_CLOSED_HOOKS`` hook) or ``DATING_VOICE_MATCH_WAIT_SECONDS`` (60 s) of
waiting takes a person out of the queue. Policy ids: P4 (export), P11 (blocks,
banned, likes private), P13 (erasure), P15 (retention).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid as uuid_lib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity.permissions import verified_required
from accounts.models import Block, User
from accounts.selectors import block_exists_between, users_visible
from chat.calls import ACTIVE, call_end, call_reveal, call_start_anonymous
from chat.models import Call
from chat.presence import online_user_ids
from dating import matching
from dating.models import Match, ProfilePass, VoiceMatchSession
from dating.voicematch_queue import Entry, Queue, queue_get
from meetnow.lib.afterresponse import after_response
from meetnow.lib.errors import ApplicationError, NotFoundError
from meetnow.lib.querytemplate import QueryTemplate
from meetnow.lib.timestamps import iso

logger = logging.getLogger(__name__)

ATTEMPTS = 3  # pairings tried by one entry when a claimed partner turns out unavailable
CHUNK = 50  # candidates checked against the database at a time
PAGE = 200  # queue entries read at a time, longest-waiting first


@dataclass(frozen=True)
class QueueState:
    """What ``enter`` and ``status`` answer: ``waiting`` (until ``expires_at``),
    ``paired`` (``session`` is the new session; ``None`` when another server paired
    the person at that very moment: the ``call.accepted`` frame carries it) or
    ``idle`` (not in the queue)."""

    state: str
    expires_at: dt.datetime | None = None
    session: VoiceMatchSession | None = None


# --- Reads ----------------------------------------------------------------------------


def _age(user: User, today: dt.date) -> int | None:
    born = user.date_of_birth
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _entry(
    user: User, *, gender: str | None, age_min: int | None, age_max: int | None, now: float
) -> Entry:
    return Entry(
        user_id=user.pk,
        gender=user.gender or "",
        age=_age(user, timezone.localdate()),
        want_gender=gender or "",
        age_min=age_min,
        age_max=age_max,
        entered_at=now,
    )


def _expires_at(entry: Entry) -> dt.datetime:
    return dt.datetime.fromtimestamp(
        entry.entered_at + settings.DATING_VOICE_MATCH_WAIT_SECONDS, tz=dt.UTC
    )


def _eligible(user_id: Any, candidates: Any, now: Any) -> QuerySet[User]:
    blocked = Block.objects.filter(
        Q(blocker_id=user_id, blocked_id=OuterRef("pk"))
        | Q(blocker_id=OuterRef("pk"), blocked_id=user_id)
    )
    passed = ProfilePass.objects.filter(
        Q(from_user_id=user_id, to_user_id=OuterRef("pk"))
        | Q(from_user_id=OuterRef("pk"), to_user_id=user_id),
        until__gt=now,
    )
    matched = Match.objects.filter(
        Q(user_low_id=user_id, user_high_id=OuterRef("pk"))
        | Q(user_low_id=OuterRef("pk"), user_high_id=user_id)
    )
    in_call = Call.objects.filter(
        Q(caller_id=OuterRef("pk")) | Q(callee_id=OuterRef("pk")), state__in=ACTIVE
    )
    return (
        (users_visible() if candidates is None else users_visible().filter(pk__in=candidates))
        .exclude(pk=user_id)
        .filter(~Exists(blocked), ~Exists(passed), ~Exists(matched), ~Exists(in_call))
    )


# Placeholders of the compiled candidate check (never real ids or times).
_ME = -7_150_001
_CANDIDATES = [-7_150_002]
_AT = dt.datetime(1971, 2, 3, 4, 5, 6, 789, tzinfo=dt.UTC)


@lru_cache(maxsize=4)
def _eligible_template(alias: str) -> QueryTemplate:
    # The candidates as one array parameter (PostgreSQL): one statement whatever their
    # number, and ``id = ANY(array)`` is a primary key index scan (``IN (SELECT
    # unnest(...))`` was planned as a scan of every user, 9 ms with 1,600 of them).
    candidates = RawSQL(
        '"accounts_user"."id" = ANY(%s::bigint[])', (_CANDIDATES,), output_field=BooleanField()
    )
    return QueryTemplate.build(
        _eligible(_ME, None, _AT).filter(candidates).using(alias).values("id"),
        {"me": _ME, "candidates": _CANDIDATES, "now": _AT},
    )


def eligible_partners(*, user_id: int, candidate_ids: list[int]) -> set[int]:
    """Those of ``candidate_ids`` the user may be paired with (one query): visible
    accounts, no block either way, no live pass either way, never matched, not in a
    call. On PostgreSQL the query is compiled once per process (``QueryTemplate``:
    building it took 5-7 ms of Python per pairing, running it 0.1 ms)."""
    if not candidate_ids:
        return set()
    now = timezone.now()
    alias = router.db_for_read(User)
    if connections[alias].vendor != "postgresql":
        return set(_eligible(user_id, candidate_ids, now).values_list("pk", flat=True))
    rows = _eligible_template(alias).rows(me=user_id, candidates=list(candidate_ids), now=now)
    return {row["id"] for row in rows}


def voice_match_status(*, user: User) -> QueueState:
    entry = queue_get().get(user.pk, now=time.time())
    if entry is None:
        return QueueState("idle")
    return QueueState("waiting", expires_at=_expires_at(entry))


def sessions_of(*, user: User) -> QuerySet[VoiceMatchSession]:
    """The user's voice-match sessions, newest first (the match and its other person
    joined: the payload never queries)."""
    return (
        VoiceMatchSession.objects.filter(Q(caller_id=user.pk) | Q(callee_id=user.pk))
        .select_related(
            "call",
            "match",
            "match__conversation",
            "caller",
            "caller__avatar",
            "caller__voice_intro",
            "callee",
            "callee__avatar",
            "callee__voice_intro",
        )
        .order_by("-id")
    )


def session_get(*, user: User, session_uuid: Any) -> VoiceMatchSession:
    """One of the user's sessions; 404 for anything else (nobody learns it exists)."""
    try:
        sid = uuid_lib.UUID(str(session_uuid))
    except (TypeError, ValueError, AttributeError):
        raise NotFoundError(_("Voice match not found.")) from None
    session = sessions_of(user=user).filter(uuid=sid).first()
    if session is None:
        raise NotFoundError(_("Voice match not found."))
    return session


def _revealable(viewer: User, other: User | None) -> bool:
    return (
        other is not None
        and other.is_active
        and other.banned_at is None
        and not block_exists_between(user_a_id=viewer.pk, user_b_id=other.pk)
    )


def session_payload(session: VoiceMatchSession, *, viewer: User) -> dict[str, Any]:
    """A session as one side sees it: only its own like, never the other's; who the
    other is only once both liked (``match``)."""
    from dating.payloads import author_card

    mine_caller = session.caller_id == viewer.pk
    liked_at = session.caller_liked_at if mine_caller else session.callee_liked_at
    revealed: dict[str, Any] | None = None
    if session.match_id is not None:  # the other person is read only once both liked
        match = session.match
        other = session.callee if mine_caller else session.caller
        # Blocked either way, banned or deactivated since: invisible again (P11).
        if match is not None and _revealable(viewer, other):
            revealed = {
                "id": str(match.uuid),
                "user": author_card(other),
                "conversation": str(match.conversation.uuid) if match.conversation else None,
                "created_at": iso(match.created_at),
            }
    like_until = session.created_at + dt.timedelta(hours=settings.DATING_VOICE_MATCH_LIKE_HOURS)
    return {
        "id": str(session.uuid),
        "call": str(session.call.uuid) if session.call is not None else None,
        "role": "offerer" if mine_caller else "answerer",
        "created_at": iso(session.created_at),
        "ends_at": iso(session.ends_at),
        "like_until": iso(like_until),
        "liked": liked_at is not None,
        "match": revealed,
    }


# --- Queue ----------------------------------------------------------------------------


def voice_match_enter(
    *,
    user: User,
    gender: str | None = None,
    age_min: int | None = None,
    age_max: int | None = None,
    now: float | None = None,
) -> QueueState:
    """Enter the queue (again: new filters, a new 60 s wait) and try to pair at once.

    409 ``socket_required`` without a live foreground socket (the call comes over
    it); 409 ``already_in_call`` during a call; 403 ``identity_verification_required``
    with ``voice_match`` in ``MEETNOW_VERIFIED_ONLY`` (off by default, P7). ``now``
    (unix seconds): the time of entering, for tests of the wait.
    """
    verified_required(user=user, function="voice_match")
    if not online_user_ids(user_ids=[user.pk]):
        raise ApplicationError(
            "socket_required",
            _("Open the app's live connection first: the call comes over it."),
            status_code=409,
        )
    if _in_call(user.pk):
        raise ApplicationError("already_in_call", _("You are already in a call."), status_code=409)
    queue = queue_get()
    at = time.time() if now is None else now
    entry = _entry(user, gender=gender, age_min=age_min, age_max=age_max, now=at)
    first = queue.enter(entry, count=PAGE)  # entered, and the first page read
    return _pair(user, entry, queue, now=at, first=first)


def _waiting_compatible(
    user_id: int, entry: Entry, queue: Queue, *, now: float, first: list[Entry]
) -> Iterator[int]:
    """Ids of the waiting people who fit ``entry`` both ways, longest-waiting first, read
    ``PAGE`` at a time from ``first`` (the first page, read on entering) on; a pairing
    usually ends in the first page (the whole queue was read for each, 2.5 ms with
    1,000 waiting). Pages follow the time of entering, not a position, so people
    leaving meanwhile never make a page skip anyone."""
    seen: set[int] = set()
    since: float | None = None
    count: int | None = PAGE
    page = first
    while True:
        fresh = [e for e in page if e.user_id not in seen]
        if not fresh:
            if count is None or len(page) < count:
                return
            count = None  # a whole page entered at the same instant: read the rest at once
        else:
            for e in fresh:
                seen.add(e.user_id)
                if e.user_id != user_id and entry.accepts(e) and e.accepts(entry):
                    yield e.user_id
            if count is None or len(page) < count:
                return
            since = page[-1].entered_at
        page = queue.entries(now=now, since=since, count=count)


def _pair(user: User, entry: Entry, queue: Queue, *, now: float, first: list[Entry]) -> QueueState:
    """Claim the longest-waiting compatible, eligible person. The entry was added
    before the queue is read, so of two compatible people entering at once the later
    reader always sees the other: nobody is left waiting beside a match. Candidates
    are checked against the database ``CHUNK`` at a time, longest-waiting first."""
    waiting = _waiting_compatible(user.pk, entry, queue, now=now, first=first)
    failures = 0
    while failures < ATTEMPTS:
        chunk = list(islice(waiting, CHUNK))
        if not chunk:
            break
        allowed = eligible_partners(user_id=user.pk, candidate_ids=chunk)
        order = [uid for uid in chunk if uid in allowed]
        while order and failures < ATTEMPTS:
            waits, partner = queue.claim(user.pk, order, now=now)
            if not waits:
                return QueueState("paired")  # another server paired us just now
            if partner is None:
                break  # nobody of this chunk waits any more: the next chunk
            try:
                session = _session_open(caller_id=partner.user_id, callee=user)
            except ApplicationError as exc:
                # The claimed person became unavailable meanwhile (a call, a block): they
                # go back to their place unless in a call; this person waits again.
                failures += 1
                if exc.code != "already_in_call" or not _in_call(partner.user_id):
                    queue.add(partner)
                if _in_call(user.pk):
                    raise
                queue.add(entry)
                order = [uid for uid in order if uid != partner.user_id]
                continue
            return QueueState("paired", session=session)
    return QueueState("waiting", expires_at=_expires_at(entry))


def _calls_of(user_id: Any) -> QuerySet[Call]:
    return Call.objects.filter(Q(caller_id=user_id) | Q(callee_id=user_id), state__in=ACTIVE)


@lru_cache(maxsize=4)
def _in_call_template(alias: str) -> QueryTemplate:
    return QueryTemplate.build(_calls_of(_ME).using(alias).values("id")[:1], {"me": _ME})


def _in_call(user_id: int) -> bool:
    """Is the user in a ringing or answered call? (On PostgreSQL compiled once.)"""
    alias = router.db_for_read(Call)
    if connections[alias].vendor != "postgresql":
        return _calls_of(user_id).exists()
    return bool(_in_call_template(alias).rows(me=user_id))


@lru_cache(maxsize=4)
def _visible_template(alias: str) -> QueryTemplate:
    """``users_visible()`` of one user, compiled once (embedded in the session insert)."""
    return QueryTemplate.build(
        users_visible().filter(pk=_ME).using(alias).values("id"), {"me": _ME}
    )


@lru_cache(maxsize=4)
def _session_insert_sql(alias: str) -> str:
    meta = VoiceMatchSession._meta
    quote = connections[alias].ops.quote_name
    fields = {f.name: str(f.column) for f in meta.concrete_fields}
    columns = ", ".join(
        quote(fields[name])
        for name in ("uuid", "caller", "callee", "call", "created_at", "ends_at")
    )
    # Typed parameters: in INSERT ... SELECT nothing else gives them a type.
    return (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) "
        "SELECT %s::uuid, %s::bigint, %s::bigint, %s::bigint, %s::timestamptz, "
        f"%s::timestamptz WHERE EXISTS ({_visible_template(alias).sql}) "
        f"RETURNING {quote(fields['id'])}"
    )


def _session_insert(session: VoiceMatchSession) -> bool:
    """Save the new session if its caller is still visible (``users_visible``: active,
    not banned...), read after chat locked both rows so that a ban or deactivation
    committed meanwhile is seen; whether it was saved. On PostgreSQL one statement
    (the check inside the insert: one round trip, no ORM save)."""
    alias = router.db_for_write(VoiceMatchSession)
    if connections[alias].vendor != "postgresql":
        if not users_visible().filter(pk=session.caller_id).exists():
            return False
        session.save(using=alias)
        return True
    params = [
        session.uuid,
        session.caller_id,
        session.callee_id,
        session.call_id,
        session.created_at,
        session.ends_at,
        *_visible_template(alias).bind(me=session.caller_id),
    ]
    with connections[alias].cursor() as cursor:
        cursor.execute(_session_insert_sql(alias), params)
        row = cursor.fetchone()
    if row is None:
        return False
    session.pk = row[0]
    session._state.adding = False
    session._state.db = alias
    return True


def _session_open(*, caller_id: int, callee: User) -> VoiceMatchSession:
    """Open the session and its anonymous call in one transaction. The caller's row is
    not loaded: chat locks both rows, and the caller is checked visible after that lock
    (a ban or deactivation committed meanwhile is seen) by the session's insert."""
    now = timezone.now()
    session = VoiceMatchSession(
        caller_id=caller_id,
        callee=callee,
        created_at=now,
        ends_at=now + dt.timedelta(seconds=settings.DATING_VOICE_MATCH_CALL_SECONDS),
    )

    def frame_extra(role: str) -> dict[str, Any]:
        return {
            "voice_match": {
                "session": str(session.uuid),
                "role": role,
                "ends_at": iso(session.ends_at),
            }
        }

    with transaction.atomic():
        session.call = call_start_anonymous(
            caller_id=caller_id,
            callee_id=callee.pk,
            extra={caller_id: frame_extra("offerer"), callee.pk: frame_extra("answerer")},
        )
        if not _session_insert(session):
            raise ApplicationError(
                "unavailable", _("This person cannot be called."), status_code=409
            )
        session_id = session.pk

        def limit_later() -> None:
            from dating.tasks import voice_match_time_limit_task

            voice_match_time_limit_task.apply_async(
                (session_id,), countdown=float(settings.DATING_VOICE_MATCH_CALL_SECONDS)
            )

        # Both sockets get the call on commit (chat); the limit's countdown is enqueued
        # once the answer has gone out (a broker round trip the entrant need not wait
        # for; a lost one is caught on reading the session).
        transaction.on_commit(lambda: after_response(limit_later), robust=True)
    logger.info("dating: voice match %s paired", session.uuid)
    return session


def voice_match_leave(*, user: User) -> bool:
    """Leave the queue (idempotent); whether the user was waiting."""
    return queue_get().remove(user.pk)


def socket_closed(*, user_id: int) -> None:
    """``MEETNOW_WS_CLOSED_HOOKS``: a socket of the user closed; with no live foreground
    socket left they can no longer get a call, so they leave the queue."""
    if not online_user_ids(user_ids=[user_id]):
        queue_get().remove(user_id)


# --- The call's limit, likes ------------------------------------------------------------


def voice_match_time_limit(*, session_id: int, now: dt.datetime | None = None) -> bool:
    """End the anonymous call at ``ends_at`` unless both liked (countdown task, and on
    read). Idempotent: early or repeated runs change nothing."""
    now = now or timezone.now()
    session = (
        VoiceMatchSession.objects.filter(pk=session_id, match__isnull=True)
        .select_related("call", "caller", "callee")
        .first()
    )
    if session is None or session.call is None or session.call.state not in ACTIVE:
        return False
    if now < session.ends_at - dt.timedelta(seconds=1):
        return False
    who = session.caller if session.call.caller_id == session.caller_id else session.callee
    try:
        call_end(user=who, call_uuid=session.call.uuid, action="hangup")
    except ApplicationError:  # ended meanwhile
        return False
    logger.info("dating: voice match %s reached its time limit", session.uuid)
    return True


def voice_match_like(*, user: User, session_uuid: Any) -> Match | None:
    """Like the other person of a session (idempotent). Private until mutual; a mutual
    like makes the match (dating.matching) and reveals both, the call included.

    404 if the other person is gone, banned, deactivated or blocked either way (as
    for any like); 409 ``like_window_closed`` after ``DATING_VOICE_MATCH_LIKE_HOURS``.
    """
    session = session_get(user=user, session_uuid=session_uuid)
    if session.match_id is not None:
        return session.match
    now = timezone.now()
    if now > session.created_at + dt.timedelta(hours=settings.DATING_VOICE_MATCH_LIKE_HOURS):
        raise ApplicationError(
            "like_window_closed",
            _("It is too late to like after this voice match."),
            status_code=409,
        )
    other_id = session.callee_id if session.caller_id == user.pk else session.caller_id
    other = users_visible().filter(pk=other_id).first()
    if (
        other is None
        or Block.objects.filter(
            Q(blocker_id=user.pk, blocked_id=other_id) | Q(blocker_id=other_id, blocked_id=user.pk)
        ).exists()
    ):
        raise NotFoundError(_("No such user."))
    mine = "caller_liked_at" if session.caller_id == user.pk else "callee_liked_at"
    theirs = "callee_liked_at" if mine == "caller_liked_at" else "caller_liked_at"
    with transaction.atomic():
        row = VoiceMatchSession.objects.select_for_update().get(pk=session.pk)
        if getattr(row, mine) is None:
            setattr(row, mine, now)
            row.save(update_fields=[mine])
        if getattr(row, theirs) is None or row.match_id is not None:
            return row.match
        match = matching._match_create(user, other)
        row.match = match
        row.save(update_fields=["match"])
        if row.call_id is not None:
            call_reveal(call_id=row.call_id)
    logger.info("dating: voice match %s became match %s", session.uuid, match.uuid)
    return match


# --- Erasure and retention ---------------------------------------------------------------


def sessions_erase(*, user_id: int, limit: int) -> int:
    """Delete the user's sessions (the other side's record goes too: it named nobody
    to them anyway)."""
    ids = list(
        VoiceMatchSession.objects.filter(Q(caller_id=user_id) | Q(callee_id=user_id))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    VoiceMatchSession.objects.filter(pk__in=ids).delete()
    return len(ids)


def sessions_purge(*, before: dt.datetime, batch: int = 1000) -> int:
    """Delete sessions paired before ``before`` (P15); a match made by one lives on
    as a match."""
    ids = list(
        VoiceMatchSession.objects.filter(created_at__lt=before)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch]
    )
    VoiceMatchSession.objects.filter(pk__in=ids).delete()
    return len(ids)
