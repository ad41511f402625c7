"""Call signalling on the app's socket ``/ws/v1/`` (chat.consumers delegates ``call.*``).

Frames from the client (each may carry ``ref``, a string echoed in the answer or error):

- ``call.invite`` ``{conversation, media: audio|video, sdp: {type: offer, sdp}}`` ->
  ``call.created`` ``{call}`` to this socket (or ``call.ended`` with outcome ``busy``);
  the callee's sockets get ``call.incoming`` ``{call, sdp}``.
- ``call.ringing`` ``{call}`` (a callee's device got it) -> caller: ``call.ringing``.
- ``call.accept`` ``{call, sdp?: {type: answer, sdp}}`` -> both: ``call.accepted``
  (the caller's with ``sdp``).
- ``call.decline`` / ``call.cancel`` / ``call.hangup`` ``{call}`` -> both: ``call.ended``.
- ``call.ice`` ``{call, candidate}`` -> the other participant's sockets only.
- ``call.sdp`` ``{call, sdp: {type: offer|answer, sdp}}`` and ``call.renegotiate``
  ``{call}`` (accepted calls: renegotiation, and the fresh offer a callee who answered
  from a push asks for) -> the other participant.

Errors: ``{"type": "error", "code", "message", "param"?, "ref"?, "call"?}``; never a
closed socket. Floods get ``rate_limited`` (``INVITES_PER_MINUTE``,
``RELAYS_PER_WINDOW``). SDP and candidates are relayed through the channel layer, never
stored or logged (P11). When a socket that took part in a call closes, the call is checked
again after ``MEETNOW_CALL_GRACE`` seconds and ended if neither side has a socket.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from accounts.models import User
from chat.calls import services as calls
from chat.calls.services import CallEvent
from chat.events import user_group
from chat.models import CallOutcome, CallState
from meetnow.lib.errors import ApplicationError

logger = logging.getLogger(__name__)

REF_MAX = 64
# Flood limits (P6): invites per user per minute (shared cache, every process), and
# relayed frames (ICE, SDP, ringing) per socket per 10 s (a call trickles ~10-50 candidates).
INVITES_PER_MINUTE = 20
RELAYS_PER_WINDOW = 200
RELAY_WINDOW = 10.0
# Background grace checks of this process (kept referenced until they finish).
_grace_tasks: set[asyncio.Task[None]] = set()


class Socket(Protocol):
    user_id: int | None
    channel_layer: Any

    async def send_json(self, content: Any, close: bool = False) -> None: ...


def _engaged(socket: Socket) -> set[str]:
    found: set[str] | None = getattr(socket, "call_uuids", None)
    if found is None:
        found = set()
        socket.call_uuids = found  # type: ignore[attr-defined]
    return found


def _user(user_id: int) -> User:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:  # deleted or deactivated while the socket was open
        raise ApplicationError("invalid_session", _("Log in again."), status_code=401)
    return user


async def handle(socket: Socket, kind: str, content: dict[str, Any]) -> None:
    """Handle one ``call.*`` frame of an authenticated socket."""
    ref = content.get("ref")
    ref = ref if isinstance(ref, str) and len(ref) <= REF_MAX else None
    handler = _HANDLERS.get(kind)
    if handler is None or socket.user_id is None:
        await _error(socket, "unknown_type", _("Unknown frame type."), ref=ref)
        return
    try:
        if kind == "call.invite":
            await database_sync_to_async(_invite_rate_check)(socket.user_id)
        elif kind in _RELAYS:
            _relay_rate_check(socket)
        await handler(socket, content, ref)
    except ApplicationError as exc:
        call = content.get("call")
        await _error(
            socket,
            exc.code,
            exc.message,
            param=exc.param,
            ref=ref,
            call=call if isinstance(call, str) and len(call) <= 64 else None,
        )


async def _error(
    socket: Socket,
    code: str,
    message: str,
    *,
    param: str | None = None,
    ref: str | None = None,
    call: str | None = None,
) -> None:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    frame.update(
        {k: v for k, v in (("param", param), ("ref", ref), ("call", call)) if v is not None}
    )
    await socket.send_json(frame)


def _rate_limited() -> ApplicationError:
    return ApplicationError("rate_limited", _("Too many call frames; slow down."), status_code=429)


def _invite_rate_check(user_id: int) -> None:
    key = f"chat:call:invites:{user_id}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    if count > INVITES_PER_MINUTE:
        raise _rate_limited()


def _relay_rate_check(socket: Socket) -> None:
    now = time.monotonic()
    start, count = getattr(socket, "call_relay_window", (now, 0))
    if now - start > RELAY_WINDOW:
        start, count = now, 0
    socket.call_relay_window = (start, count + 1)  # type: ignore[attr-defined]
    if count + 1 > RELAYS_PER_WINDOW:
        raise _rate_limited()


def _with_ref(frame: dict[str, Any], ref: str | None) -> dict[str, Any]:
    return {**frame, "ref": ref} if ref is not None else frame


async def _invite(socket: Socket, content: dict[str, Any], ref: str | None) -> None:
    offer = calls.sdp_clean(content.get("sdp"), kinds=("offer",), required=True)

    def run() -> dict[str, Any]:
        call = calls.call_invite(
            caller=_user(socket.user_id or 0),
            conversation_uuid=content.get("conversation"),
            media=content.get("media", "audio"),
            offer=offer,
        )
        return calls.call_payload(call)

    body = await database_sync_to_async(run)()
    if body["state"] == CallState.ENDED and body["outcome"] == CallOutcome.BUSY:
        await socket.send_json(_with_ref({"type": CallEvent.ENDED, "call": body}, ref))
        return
    _engaged(socket).add(body["uuid"])
    await socket.send_json(_with_ref({"type": CallEvent.CREATED, "call": body}, ref))


async def _accept(socket: Socket, content: dict[str, Any], ref: str | None) -> None:
    answer = calls.sdp_clean(content.get("sdp"), kinds=("answer",), required=False)

    def run() -> str:
        call = calls.call_accept(
            user=_user(socket.user_id or 0), call_uuid=content.get("call"), answer=answer
        )
        return str(call.uuid)

    _engaged(socket).add(await database_sync_to_async(run)())


def _ender(action: str) -> Callable[[Socket, dict[str, Any], str | None], Awaitable[None]]:
    async def end(socket: Socket, content: dict[str, Any], ref: str | None) -> None:
        def run() -> None:
            calls.call_end(
                user=_user(socket.user_id or 0), call_uuid=content.get("call"), action=action
            )

        await database_sync_to_async(run)()

    return end


def _relay(kind: str) -> Callable[[Socket, dict[str, Any], str | None], Awaitable[None]]:
    """``call.ringing``, ``call.ice``, ``call.sdp``, ``call.renegotiate``: checked, then
    sent to the other participant's sockets only (nothing stored)."""

    async def relay(socket: Socket, content: dict[str, Any], ref: str | None) -> None:
        extra: dict[str, Any] = {}
        if kind == CallEvent.ICE:
            extra["candidate"] = calls.candidate_clean(content.get("candidate"))
        elif kind == CallEvent.SDP:
            extra["sdp"] = calls.sdp_clean(
                content.get("sdp"), kinds=("offer", "answer"), required=True
            )

        def run() -> tuple[int, str, str | None]:
            user = _user(socket.user_id or 0)
            target = calls.call_relay_target(user=user, call_uuid=content.get("call"), kind=kind)
            # An anonymous call (voice match) never names the sender.
            sender = None if target.call.anonymous else str(user.uuid)
            return target.peer_id, str(target.call.uuid), sender

        peer_id, call_uuid, user_uuid = await database_sync_to_async(run)()
        _engaged(socket).add(call_uuid)
        frame = {"type": kind, "call": call_uuid, "from": user_uuid, **extra}
        await socket.channel_layer.group_send(
            user_group(peer_id), {"type": "chat.event", "event": frame}
        )

    return relay


_RELAYS = (CallEvent.RINGING, CallEvent.ICE, CallEvent.SDP, CallEvent.RENEGOTIATE)

_HANDLERS: dict[str, Callable[[Socket, dict[str, Any], str | None], Awaitable[None]]] = {
    "call.invite": _invite,
    "call.accept": _accept,
    "call.decline": _ender("decline"),
    "call.cancel": _ender("cancel"),
    "call.hangup": _ender("hangup"),
    CallEvent.RINGING: _relay(CallEvent.RINGING),
    CallEvent.ICE: _relay(CallEvent.ICE),
    CallEvent.SDP: _relay(CallEvent.SDP),
    CallEvent.RENEGOTIATE: _relay(CallEvent.RENEGOTIATE),
}


def event_seen(socket: Socket, event: Any) -> None:
    """A call frame the server pushed to this socket: a call that started answered (a
    voice match, which this socket never invited or accepted) is this socket's to
    watch, so that its closing starts the grace check as for any call."""
    if isinstance(event, dict) and event.get("type") == CallEvent.ACCEPTED:
        call = event.get("call")
        if isinstance(call, dict) and isinstance(call.get("uuid"), str):
            _engaged(socket).add(call["uuid"])


async def socket_closed(socket: Socket) -> None:
    """The socket is gone: re-check its calls after the grace period (in this process;
    presence, which says whether a user still has a socket, is in the shared cache)."""
    engaged = getattr(socket, "call_uuids", None)
    if not engaged:
        return
    for call_uuid in list(engaged):
        task = asyncio.get_running_loop().create_task(_grace_check(call_uuid))
        _grace_tasks.add(task)
        task.add_done_callback(_grace_tasks.discard)


async def _grace_check(call_uuid: str) -> None:
    await asyncio.sleep(float(settings.MEETNOW_CALL_GRACE))
    try:
        await database_sync_to_async(calls.call_grace_check)(call_uuid=call_uuid)
    except Exception:
        logger.exception("calls: grace check of call %s failed", call_uuid)
