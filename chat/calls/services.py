"""Voice and video calls between the two people of a direct conversation (issue 8).

Services (writes) and selectors (reads) of calls; the WebSocket side is
chat.calls.signalling, the REST side chat.calls.apis.

- State machine ``ringing -> accepted -> ended`` (or ``ringing -> ended``), every
  transition one conditional UPDATE (``WHERE state = <the state we read>``): of two
  concurrent transitions, even in two ASGI processes, exactly one wins, so a call is
  never both accepted and cancelled. The winner writes the call's one system message.
- One active call per user: the users' rows are locked while an invite checks, and two
  partial unique indexes (caller, callee on active states) back it in the database. A
  callee already in a call gets a ``busy`` call record; a caller already in one, 409.
- SDP and ICE candidates go through the channel layer only and are never stored or
  logged; a call row keeps only what the history shows (P11).
- Only members of a direct conversation may call each other, never with a block
  between them (P11); push respects the user's and the device's push settings (P10).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
import uuid as uuid_lib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Exists, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.identity.permissions import verified_required
from accounts.models import Block, User
from accounts.selectors import block_exists_between
from chat import payloads
from chat.events import EventType, PendingEvent, events_append, realtime_send
from chat.models import (
    Call,
    CallMedia,
    CallOutcome,
    CallState,
    Conversation,
    ConversationKind,
    Membership,
    Message,
    MessageKind,
)
from chat.presence import online_user_ids
from chat.selectors import membership_access
from meetnow.lib.errors import ApplicationError, NotFoundError
from meetnow.lib.timestamps import iso

logger = logging.getLogger(__name__)

ACTIVE = (CallState.RINGING, CallState.ACCEPTED)
SDP_MAX = 64_000  # characters of one session description (video offers are ~5-15 KB)
CANDIDATE_MAX = 2_000


class CallEvent:
    """Frames the server sends about calls (``type`` of the WebSocket frame)."""

    CREATED = "call.created"  # to the caller's socket that sent call.invite
    INCOMING = "call.incoming"
    RINGING = "call.ringing"
    ACCEPTED = "call.accepted"
    ENDED = "call.ended"
    ICE = "call.ice"
    SDP = "call.sdp"
    RENEGOTIATE = "call.renegotiate"


# --- Payloads ------------------------------------------------------------------------


def _uuid_of(user: User | None) -> str | None:
    return str(user.uuid) if user is not None else None


def call_payload(call: Call, *, viewer_id: int | None = None) -> dict[str, Any]:
    """A call as its participants see it (``caller``/``callee`` loaded by the caller of
    this function: it never queries). With ``viewer_id``: also ``direction`` and ``peer``.
    An ``anonymous`` call names nobody: ``caller``, ``callee`` and ``peer`` are null."""
    hidden = call.anonymous
    data: dict[str, Any] = {
        "uuid": str(call.uuid),
        "conversation": str(call.conversation.uuid) if call.conversation is not None else None,
        "caller": None if hidden else _uuid_of(call.caller),
        "callee": None if hidden else _uuid_of(call.callee),
        "anonymous": hidden,
        "media": call.media,
        "state": call.state,
        "outcome": call.outcome or None,
        "created_at": iso(call.created_at),
        "accepted_at": iso(call.accepted_at),
        "ended_at": iso(call.ended_at),
        "duration_seconds": call.duration_seconds,
    }
    if viewer_id is not None:
        outgoing = call.caller_id == viewer_id
        data["direction"] = "outgoing" if outgoing else "incoming"
        peer = call.callee if outgoing else call.caller
        data["peer"] = None if hidden else payloads.user_brief(peer)
    return data


# --- Input checks ----------------------------------------------------------------------


def _call_uuid(value: Any) -> uuid_lib.UUID:
    try:
        return uuid_lib.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise NotFoundError(_("Call not found.")) from None


def sdp_clean(value: Any, *, kinds: Sequence[str], required: bool) -> dict[str, str] | None:
    """A WebRTC session description ``{"type": ..., "sdp": "..."}`` (never stored)."""
    if value is None and not required:
        return None
    if (
        not isinstance(value, dict)
        or value.get("type") not in kinds
        or not isinstance(value.get("sdp"), str)
        or not value["sdp"].strip()
    ):
        raise ApplicationError(
            "invalid_sdp",
            _("sdp is an object with type (%(types)s) and an sdp string.")
            % {"types": " or ".join(kinds)},
            param="sdp",
        )
    if len(value["sdp"]) > SDP_MAX:
        raise ApplicationError(
            "sdp_too_long", _("The session description is too long."), param="sdp"
        )
    return {"type": str(value["type"]), "sdp": value["sdp"]}


def candidate_clean(value: Any) -> dict[str, Any] | None:
    """An ICE candidate (RTCIceCandidateInit) or null for end-of-candidates (never stored)."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("candidate"), str):
        raise ApplicationError(
            "invalid_candidate", _("candidate is an RTCIceCandidateInit object."), param="candidate"
        )
    out: dict[str, Any] = {"candidate": value["candidate"]}
    # Only the fields of RTCIceCandidateInit, with their types; anything else is dropped.
    for name, types in (("sdpMid", str), ("sdpMLineIndex", int), ("usernameFragment", str)):
        if name in value and (value[name] is None or isinstance(value[name], types)):
            out[name] = value[name]
    if sum(len(str(v)) for v in out.values()) > CANDIDATE_MAX:
        raise ApplicationError(
            "candidate_too_long", _("The candidate is too long."), param="candidate"
        )
    return out


# --- Reads -----------------------------------------------------------------------------


def _calls() -> QuerySet[Call]:
    return Call.objects.select_related("caller", "callee", "conversation")


def call_access(*, user: User, call_uuid: Any) -> Call:
    """A call the user took part in; 404 for anything else (P11: nobody else learns it
    exists)."""
    cid = _call_uuid(call_uuid)
    call = _calls().filter(Q(caller=user) | Q(callee=user), uuid=cid).first()
    if call is None:
        raise NotFoundError(_("Call not found."))
    return call


def call_history(*, user: User) -> QuerySet[Call]:
    """The user's calls, newest first (one query per page: callers, callees and the
    conversation are joined)."""
    return _calls().filter(Q(caller=user) | Q(callee=user)).order_by("-id")


def call_peer_id(call: Call, user_id: int) -> int | None:
    return call.callee_id if call.caller_id == user_id else call.caller_id


# --- System message, events --------------------------------------------------------------


def _system_text(call: Call) -> dict[str, Any]:
    return {
        "action": "call",
        "call": str(call.uuid),
        "media": call.media,
        "caller": _uuid_of(call.caller),
        "outcome": call.outcome,
        "duration_seconds": call.duration_seconds,
    }


def _system_message_write(call: Call, now: datetime) -> None:
    """The call's one system message, synced like any other message (``message.created``
    for every active member). A call without a conversation (voice match) has none."""
    conversation = call.conversation
    if conversation is None:
        return
    message = Message.objects.create(
        conversation=conversation,
        kind=MessageKind.SYSTEM,
        system=_system_text(call),
        created_at=now,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_activity_at=now)
    member_ids = list(
        Membership.objects.filter(conversation=conversation, left_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )
    conv_uuid = str(conversation.uuid)
    events_append(
        [
            PendingEvent(
                user_ids=member_ids,
                type=EventType.MESSAGE_CREATED,
                stored={"conversation": conv_uuid, "message_id": message.id},
                live={
                    "conversation": conv_uuid,
                    "message_id": message.id,
                    "message": payloads.message_payload(message, conversation_uuid=conv_uuid),
                },
            )
        ]
    )


def call_frames_send(items: Sequence[tuple[int | None, dict[str, Any]]]) -> None:
    """Send call frames to users' sockets (all of a user's devices). Not stored: a frame
    may carry SDP or candidates, which live only in the channel layer (P11)."""
    realtime_send([(uid, frame) for uid, frame in items if uid is not None])


def _participants(call: Call) -> list[int]:
    return [uid for uid in (call.caller_id, call.callee_id) if uid is not None]


# --- Transitions -------------------------------------------------------------------------


def _ring_timeout() -> timedelta:
    return timedelta(seconds=float(settings.MEETNOW_CALL_RING_TIMEOUT))


def _end(
    call: Call, *, outcome: str, now: datetime, from_state: str, ended_by: int | None = None
) -> bool:
    """Move ``call`` from ``from_state`` to ended (conditional UPDATE in the caller's
    transaction); on success write the system message and, after commit, tell both."""
    duration = 0
    if from_state == CallState.ACCEPTED and call.accepted_at is not None:
        duration = max(0, int((now - call.accepted_at).total_seconds()))
    updated = Call.objects.filter(pk=call.pk, state=from_state).update(
        state=CallState.ENDED, outcome=outcome, ended_at=now, duration_seconds=duration
    )
    if not updated:
        return False
    call.state, call.outcome, call.ended_at = CallState.ENDED, outcome, now
    call.duration_seconds = duration
    _system_message_write(call, now)
    frame = {"type": CallEvent.ENDED, "call": call_payload(call)}
    if ended_by is not None and not call.anonymous:
        frame["by"] = str(call.caller.uuid if ended_by == call.caller_id else call.callee.uuid)  # type: ignore[union-attr]
    items: list[tuple[int | None, dict[str, Any]]] = [(uid, frame) for uid in _participants(call)]
    transaction.on_commit(lambda: call_frames_send(items))
    if from_state == CallState.RINGING and call.callee_id is not None:
        _push_later(call, kind="call_end")
    logger.info("calls: call %s ended (%s, %d s)", call.uuid, outcome, duration)
    return True


def _push_later(call: Call, *, kind: str) -> None:
    """Enqueue the call push for the callee's phones without a live foreground socket."""
    callee_id = call.callee_id
    if callee_id is None:
        return
    if kind == "call" and online_user_ids(user_ids=[callee_id]):
        return
    # "call_end" always goes to the task: only the devices that got the "call" push
    # (the task's own record, in the worker's cache) are told to stop ringing.
    from chat.calls.tasks import call_push_task

    call_id = call.pk
    # Not through the outbox: a ring pushed after the broker's outage is useless.
    transaction.on_commit(lambda: call_push_task.delay(call_id, kind), robust=True)


def calls_expire_overdue(*, user_ids: Sequence[int] = (), now: datetime | None = None) -> int:
    """End as ``missed`` the ringing calls older than the ring timeout (of these users, or
    all). The countdown task does it on time; this catches a lost task on read."""
    now = now or timezone.now()
    qs = _calls().filter(state=CallState.RINGING, created_at__lte=now - _ring_timeout())
    if user_ids:
        qs = qs.filter(Q(caller_id__in=list(user_ids)) | Q(callee_id__in=list(user_ids)))
    ended = 0
    for call in qs.order_by("id")[:100]:
        with transaction.atomic():
            ended += _end(call, outcome=CallOutcome.MISSED, now=now, from_state=CallState.RINGING)
    return ended


def call_invite(
    *, caller: User, conversation_uuid: Any, media: Any, offer: dict[str, str] | None = None
) -> Call:
    """Call the other member of a direct conversation.

    Members of a direct conversation only (404 otherwise), never with a block between
    them (403 ``blocked``, P11). A caller already in a call gets 409 ``already_in_call``;
    a callee already in one makes a call record ended ``busy`` (with its system message).
    Otherwise the call rings: after commit the callee's sockets get ``call.incoming``
    with the offer (relayed, never stored), phones without a live socket get a push
    (P10), and the ring timeout is counted down by a task (``missed``). With ``calls``
    in ``MEETNOW_VERIFIED_ONLY`` an unverified caller gets 403
    ``identity_verification_required`` (P7: off by default).
    """
    verified_required(user=caller, function="calls")
    if media not in CallMedia.values:
        raise ApplicationError("invalid_media", _("media is audio or video."), param="media")
    membership = membership_access(user=caller, conversation_uuid=conversation_uuid)
    conversation = membership.conversation
    if conversation.kind != ConversationKind.DIRECT:
        raise ApplicationError(
            "not_direct", _("Calls are between the two people of a direct conversation.")
        )
    other = (
        Membership.objects.filter(conversation=conversation, left_at__isnull=True)
        .exclude(user_id=caller.pk)
        .select_related("user")
        .first()
    )
    if other is None or not other.user.is_active or other.user.banned_at is not None:
        raise ApplicationError("unavailable", _("This person cannot be called."), status_code=409)
    callee = other.user
    if block_exists_between(user_a_id=caller.pk, user_b_id=callee.pk):
        raise ApplicationError("blocked", _("You cannot contact this user."), status_code=403)
    calls_expire_overdue(user_ids=[caller.pk, callee.pk])
    # An answered call whose both sockets vanished while its grace check was lost (the
    # ASGI process died) must not keep the callee busy forever.
    for stale in Call.objects.filter(
        Q(caller_id=callee.pk) | Q(callee_id=callee.pk), state=CallState.ACCEPTED
    ).values_list("uuid", flat=True):
        call_grace_check(call_uuid=stale)
    now = timezone.now()
    with transaction.atomic():
        # Serialise invites touching either user (taken in id order: no deadlock).
        list(User.objects.select_for_update().filter(pk__in=[caller.pk, callee.pk]).order_by("pk"))
        busy = Call.objects.filter(
            Q(caller_id__in=[caller.pk, callee.pk]) | Q(callee_id__in=[caller.pk, callee.pk]),
            state__in=ACTIVE,
        ).values_list("caller_id", "callee_id")
        in_call = {uid for pair in busy for uid in pair}
        if caller.pk in in_call:
            raise ApplicationError(
                "already_in_call", _("You are already in a call."), status_code=409
            )
        call = Call(
            conversation=conversation, caller=caller, callee=callee, media=media, created_at=now
        )
        if callee.pk in in_call:
            call.state, call.outcome, call.ended_at = CallState.ENDED, CallOutcome.BUSY, now
            call.save()
            _system_message_write(call, now)
            logger.info("calls: call %s ended (busy)", call.uuid)
            return call
        try:
            with transaction.atomic():
                call.save()
        except IntegrityError:
            raise ApplicationError(
                "already_in_call", _("You are already in a call."), status_code=409
            ) from None
        frame: dict[str, Any] = {"type": CallEvent.INCOMING, "call": call_payload(call)}
        if offer is not None:
            frame["sdp"] = offer
        items: list[tuple[int | None, dict[str, Any]]] = [(callee.pk, frame)]
        transaction.on_commit(lambda: call_frames_send(items))
        _push_later(call, kind="call")
        from chat.calls.tasks import call_ring_timeout_task

        call_id = call.pk
        transaction.on_commit(
            lambda: call_ring_timeout_task.apply_async(
                (call_id,), countdown=float(settings.MEETNOW_CALL_RING_TIMEOUT)
            ),
            # Without the broker the ring still ends: calls_expire_overdue on every read.
            robust=True,
        )
    logger.info("calls: call %s ringing (%s)", call.uuid, media)
    return call


def call_start_anonymous(
    *,
    caller_id: int,
    callee_id: int,
    media: str = CallMedia.AUDIO,
    extra: Mapping[int, Mapping[str, Any]] | None = None,
) -> Call:
    """Open an answered, anonymous call between two people a layer above paired (dating's
    voice match): no conversation, no ringing (both asked for it), neither named to the
    other. Run inside the caller's transaction; after commit both get ``call.accepted``
    (``sdp: null``: the caller sends its offer over ``call.sdp``), each with its
    ``extra`` fields. Refused like an invite: 403 ``blocked``, 409 ``already_in_call``
    (either of them is in a call), 409 ``unavailable`` (an account is gone), and the
    database's one-active-call indexes decide between concurrent starts.

    Three statements (a pairing waits on each): both users' rows locked (ids only, in
    id order, as invites lock them), one check for a block either way and an active
    call of either, the insert. No savepoint of its own: a refusal is an error that
    rolls back the caller's transaction."""
    pair = [caller_id, callee_id]
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        locked = list(
            User.objects.select_for_update().filter(pk__in=pair).order_by("pk").values_list("pk")
        )
        if len(locked) < 2:
            raise ApplicationError(
                "unavailable", _("This person cannot be called."), status_code=409
            )
        blocked = Block.objects.filter(
            Q(blocker_id=caller_id, blocked_id=callee_id)
            | Q(blocker_id=callee_id, blocked_id=caller_id)
        )
        busy = Call.objects.filter(Q(caller_id__in=pair) | Q(callee_id__in=pair), state__in=ACTIVE)
        is_blocked, is_busy = (
            User.objects.filter(pk=caller_id)
            .annotate(blocked=Exists(blocked), busy=Exists(busy))
            .values_list("blocked", "busy")
            .get()
        )
        if is_blocked:
            raise ApplicationError("blocked", _("You cannot contact this user."), status_code=403)
        if is_busy:
            raise ApplicationError(
                "already_in_call", _("You are already in a call."), status_code=409
            )
        call = Call(
            conversation=None,
            caller_id=caller_id,
            callee_id=callee_id,
            media=media,
            anonymous=True,
            state=CallState.ACCEPTED,
            created_at=now,
            accepted_at=now,
        )
        try:
            call.save()
        except IntegrityError:
            raise ApplicationError(
                "already_in_call", _("You are already in a call."), status_code=409
            ) from None
        body = call_payload(call)
        more = extra or {}
        items: list[tuple[int | None, dict[str, Any]]] = [
            (uid, {"type": CallEvent.ACCEPTED, "call": body, "sdp": None, **more.get(uid, {})})
            for uid in pair
        ]
        transaction.on_commit(lambda: call_frames_send(items))
    logger.info("calls: anonymous call %s started", call.uuid)
    return call


def call_reveal(*, call_id: int) -> None:
    """The layer that made an anonymous call reveals its two people to each other (its
    history then shows the peer as for any call)."""
    Call.objects.filter(pk=call_id, anonymous=True).update(anonymous=False)


def call_accept(*, user: User, call_uuid: Any, answer: dict[str, str] | None = None) -> Call:
    """The callee answers (WebSocket with the SDP answer, or REST from a push without
    one: the caller then gets ``call.accepted`` without ``sdp`` and sends a fresh offer
    over ``call.sdp``). 409 ``invalid_state`` if the call no longer rings."""
    call = call_access(user=user, call_uuid=call_uuid)
    if call.callee_id != user.pk:
        raise ApplicationError(
            "not_callee", _("Only the person called can answer."), status_code=403
        )
    now = timezone.now()
    if call.state == CallState.RINGING and now - call.created_at >= _ring_timeout():
        calls_expire_overdue(user_ids=[user.pk], now=now)
        call = call_access(user=user, call_uuid=call_uuid)
    with transaction.atomic():
        updated = Call.objects.filter(pk=call.pk, state=CallState.RINGING).update(
            state=CallState.ACCEPTED, accepted_at=now
        )
        if not updated:
            call.refresh_from_db(fields=["state", "outcome"])
            raise _invalid_state(call)
        call.state, call.accepted_at = CallState.ACCEPTED, now
        body = call_payload(call)
        to_caller: dict[str, Any] = {"type": CallEvent.ACCEPTED, "call": body, "sdp": answer}
        # The callee's other devices stop ringing ("answered elsewhere").
        to_callee: dict[str, Any] = {"type": CallEvent.ACCEPTED, "call": body}
        items: list[tuple[int | None, dict[str, Any]]] = [
            (call.caller_id, to_caller),
            (call.callee_id, to_callee),
        ]
        transaction.on_commit(lambda: call_frames_send(items))
    logger.info("calls: call %s accepted", call.uuid)
    return call


def _invalid_state(call: Call) -> ApplicationError:
    if call.state == CallState.ENDED:
        return ApplicationError(
            "call_ended",
            _("The call has ended (%(outcome)s).") % {"outcome": call.outcome},
            status_code=409,
        )
    return ApplicationError(
        "invalid_state", _("The call is %(state)s.") % {"state": call.state}, status_code=409
    )


END_ACTIONS = ("decline", "cancel", "hangup")


def call_end(*, user: User, call_uuid: Any, action: str) -> Call:
    """End a call: ``decline`` (callee, while ringing), ``cancel`` (caller, while
    ringing) or ``hangup`` (either; a ringing call is then cancelled or declined, an
    accepted one completed with its duration). Exactly one system message, whatever
    races with it (conditional UPDATE; the loser gets 409)."""
    if action not in END_ACTIONS:
        raise ApplicationError("invalid_action", _("Unknown action."), param="action")
    call = call_access(user=user, call_uuid=call_uuid)
    is_caller = call.caller_id == user.pk
    for _attempt in range(3):
        now = timezone.now()
        if call.state == CallState.RINGING:
            if action == "decline" and is_caller:
                raise ApplicationError("not_callee", _("The caller cancels."), status_code=403)
            if action == "cancel" and not is_caller:
                raise ApplicationError("not_caller", _("The callee declines."), status_code=403)
            outcome = CallOutcome.CANCELLED if is_caller else CallOutcome.DECLINED
            if now - call.created_at >= _ring_timeout():
                outcome = CallOutcome.MISSED
        elif call.state == CallState.ACCEPTED and action == "hangup":
            outcome = CallOutcome.COMPLETED
        else:
            raise _invalid_state(call)
        with transaction.atomic():
            if _end(call, outcome=outcome, now=now, from_state=call.state, ended_by=user.pk):
                return call
        call = call_access(user=user, call_uuid=call_uuid)  # it changed meanwhile: re-decide
    raise _invalid_state(call)


def call_expire(*, call_id: int, now: datetime | None = None) -> bool:
    """Ring timeout (countdown task): a call still ringing is ended ``missed``.
    Idempotent; a task delivered early or twice changes nothing."""
    now = now or timezone.now()
    call = _calls().filter(pk=call_id, state=CallState.RINGING).first()
    if call is None or now - call.created_at < _ring_timeout() - timedelta(seconds=1):
        return False
    with transaction.atomic():
        return _end(call, outcome=CallOutcome.MISSED, now=now, from_state=CallState.RINGING)


def _has_socket(user_ids: Sequence[int]) -> bool:
    from chat.presence import _key

    keys = [_key(uid) for uid in user_ids]
    return bool(keys) and any(v is not None for v in cache.get_many(keys).values())


def call_grace_check(*, call_uuid: Any) -> bool:
    """After a socket that took part in a call closed and the grace period passed: if
    neither participant has a live socket any more, end the call (``completed`` with its
    duration when it was answered, ``failed`` while it rang)."""
    call = _calls().filter(uuid=_call_uuid(call_uuid), state__in=ACTIVE).first()
    if call is None or _has_socket(_participants(call)):
        return False
    outcome = CallOutcome.COMPLETED if call.state == CallState.ACCEPTED else CallOutcome.FAILED
    with transaction.atomic():
        return _end(call, outcome=outcome, now=timezone.now(), from_state=call.state)


# --- Relay (WebSocket only; nothing stored) -------------------------------------------------


@dataclass
class RelayTarget:
    call: Call
    peer_id: int


def call_relay_target(*, user: User, call_uuid: Any, kind: str) -> RelayTarget:
    """Where a signalling frame of ``user`` about a call goes: the other participant of
    an active call. Anyone else, or an ended call, is refused, so a third user can never
    inject candidates or descriptions into someone else's call."""
    call = call_access(user=user, call_uuid=call_uuid)
    if call.state not in ACTIVE:
        raise _invalid_state(call)
    if kind == CallEvent.RINGING and call.callee_id != user.pk:
        raise ApplicationError("not_callee", _("Only the person called rings."), status_code=403)
    if kind in (CallEvent.SDP, CallEvent.RENEGOTIATE) and call.state != CallState.ACCEPTED:
        raise _invalid_state(call)
    peer = call_peer_id(call, user.pk)
    if peer is None:
        raise ApplicationError("call_ended", _("The other person is gone."), status_code=409)
    return RelayTarget(call=call, peer_id=peer)


# --- TURN / STUN -------------------------------------------------------------------------------


def turn_credentials(*, user: User, now: float | None = None) -> dict[str, Any]:
    """ICE servers for the app: STUN URLs, and TURN URLs with time-limited credentials in
    the TURN REST form (coturn ``use-auth-secret``): username ``<expiry>:<user uuid>``,
    password base64(HMAC-SHA1(secret, username)), valid ``MEETNOW_TURN_TTL`` seconds.
    Never a static password: without a secret no TURN server is offered."""
    ttl = int(settings.MEETNOW_TURN_TTL)
    expiry = int(now if now is not None else time.time()) + ttl
    servers: list[dict[str, Any]] = []
    if settings.MEETNOW_STUN_URLS:
        servers.append({"urls": list(settings.MEETNOW_STUN_URLS)})
    secret = settings.MEETNOW_TURN_SECRET
    if settings.MEETNOW_TURN_URLS and secret:
        username = f"{expiry}:{user.uuid}"
        digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
        servers.append(
            {
                "urls": list(settings.MEETNOW_TURN_URLS),
                "username": username,
                "credential": base64.b64encode(digest).decode(),
            }
        )
    expires_at = datetime.fromtimestamp(expiry, tz=UTC)
    return {"ice_servers": servers, "ttl": ttl, "expires_at": iso(expires_at)}
