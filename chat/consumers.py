"""The app's WebSocket at ``/ws/v1/``: live events, heartbeats, typing, presence.

Authentication: the session token in the ``X-Session-Token`` header of the upgrade
request, or, for clients that cannot set headers, a first frame
``{"type": "auth", "token": "..."}`` within ``CHAT_WS_AUTH_TIMEOUT`` seconds.

Close codes (the app acts on them):
- 4001 ``invalid_session``: the token is unknown, expired or was revoked (also
  checked again at every heartbeat, and at once when accounts ends the session);
- 4002 ``auth_timeout``: no auth frame in time;
- 4003 ``auth_required``: a frame other than ``auth`` before authentication.
- 4004 with the reason ``reconsent_required`` or ``consent_withdrawn``: the user must
  accept the current privacy policy / user agreement first (the REST API answers
  403 with the same code); checked at connect and at every heartbeat.
- 1012 ``resync``: the server lost its channel layer (Redis) for a while and events may
  have been missed: reconnect and sync (``GET /api/v1/sync``), as after any drop.

Frames from the client: ``auth``, ``ping`` (answered by ``pong``), ``presence``
(``{"state": "foreground"|"background"}``), ``typing`` (``{"conversation": uuid}``),
``message.send`` (answered by ``message.ack``, chat.ws_send; several may be in
flight, each conversation's in frame order) and the ``call.*`` frames of
chat.calls.signalling (calls, issue 8).
Frames from the server: ``heartbeat`` every ``CHAT_WS_HEARTBEAT`` seconds, and the
events of chat.events (``message.created``... each with its ``seq``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid as uuid_lib
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from accounts.models import User
from chat import ws_send
from chat.calls import signalling as call_signalling
from chat.events import GATE_GROUP, EventType, user_group
from chat.models import Membership
from chat.presence import BACKGROUND, FOREGROUND, presence_clear, presence_set
from meetnow.lib.authentication import session_user, token_session_lookup
from meetnow.lib.realtime import session_group

logger = logging.getLogger(__name__)

CLOSE_INVALID_SESSION = 4001
CLOSE_AUTH_TIMEOUT = 4002
CLOSE_AUTH_REQUIRED = 4003
CLOSE_ACCESS_REFUSED = 4004
CLOSE_RESYNC = 1012  # "service restart": reconnect, then sync (meetnow.lib.channel_layer)
TYPING_MIN_INTERVAL = 2.0
# message.send frames of one socket awaiting their ack; beyond this a frame is refused
# at once (the app waits for acks), so one socket cannot queue unbounded work.
SEND_MAX_IN_FLIGHT = 64


def _session_user(token: str) -> tuple[int, str, str] | str | None:
    """(user id, user uuid, session key) of a valid session token of an active user.

    None for an unknown, expired or revoked token; an error code (a string) when the
    upper layer's access check refuses the session (``MEETNOW_WS_ACCESS_CHECK``:
    privacy's consent gate, P1/P16, the same answer the REST API gives). The session
    and its user are read as the REST API reads them (one Redis round trip for a cached
    session, the user row by SQL compiled once): it runs at every heartbeat.
    """
    session = token_session_lookup(token)
    if session is None:
        return None
    user = session_user(session)
    if user is None or not user.is_active:
        return None
    if getattr(user, "banned_at", None) is not None:
        return None
    if settings.MEETNOW_WS_ACCESS_CHECK:
        refusal = import_string(settings.MEETNOW_WS_ACCESS_CHECK)(session=session, user_id=user.pk)
        if refusal:
            return str(refusal)
    return user.pk, str(user.uuid), str(session.session_key)


def _heartbeat_check(
    token: str, *, user_id: int, state: str, connection: str
) -> tuple[int, str, str] | str | None:
    """A heartbeat's work in one hop to a sync thread: the session checked again
    (:func:`_session_user`) and, if it is still this user's, their presence refreshed."""
    still = _session_user(token)
    if still is not None and not isinstance(still, str) and still[0] == user_id:
        presence_set(user_id=user_id, state=state, connection=connection)
    return still


def _typing_recipients(user_id: int, conversation_uuid: uuid_lib.UUID) -> list[int] | None:
    """Who hears that ``user_id`` types; ``None`` if they are not a member. Typing never
    crosses an unanswered message request, in either direction."""
    rows = dict(
        Membership.objects.filter(
            conversation__uuid=conversation_uuid, left_at__isnull=True
        ).values_list("user_id", "request_state")
    )
    if user_id not in rows:
        return None
    if any(rows.values()):
        return []
    return [uid for uid in rows if uid != user_id]


def _closed_hooks_run(user_id: int) -> None:
    """Tell the layers above that a socket of the user closed (``MEETNOW_WS_CLOSED_HOOKS``:
    dotted paths of ``hook(*, user_id)``; dating's voice match leaves its queue when the
    user has no live socket left). One failing hook never stops the others."""
    for path in settings.MEETNOW_WS_CLOSED_HOOKS:
        try:
            import_string(path)(user_id=user_id)
        except Exception:
            logger.exception("chat: socket-closed hook %s failed", path)


class ChatConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels ships no types
    user_id: int | None = None
    user_uuid: str = ""
    token: str = ""
    state: str = FOREGROUND

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its per-message ``aclose_old_connections()``.

        Channels closes stale database connections before every handler, a hop to the
        sync thread and back for each frame and each event delivered (a fifth of the
        socket's CPU per message sent, measured by ``bench/chat.py``). Every database
        call of this consumer goes through ``database_sync_to_async``, which closes
        stale connections itself around the call, so the hop guards nothing here.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.user_id = None
        self.sender: User | None = None
        self.refusal = ""
        self.tasks: list[asyncio.Task[None]] = []
        self.send_tasks: set[asyncio.Task[None]] = set()
        self.send_tails: dict[str, asyncio.Future[None]] = {}
        self.typing_sent: dict[str, float] = {}
        self.typing_members: dict[str, tuple[float, list[int] | None]] = {}
        await self.accept()
        headers = dict(self.scope.get("headers") or [])
        token = headers.get(b"x-session-token", b"").decode("latin-1").strip()
        if token:
            await self._authenticate(token)
        else:
            self.tasks.append(asyncio.create_task(self._auth_deadline()))

    async def _auth_deadline(self) -> None:
        await asyncio.sleep(settings.CHAT_WS_AUTH_TIMEOUT)
        if self.user_id is None:
            await self.close(code=CLOSE_AUTH_TIMEOUT, reason="auth_timeout")

    async def _authenticate(self, token: str) -> None:
        found = await database_sync_to_async(_session_user)(token)
        if found is None:
            await self.close(code=CLOSE_INVALID_SESSION, reason="invalid_session")
            return
        if isinstance(found, str):
            await self.close(code=CLOSE_ACCESS_REFUSED, reason=found)
            return
        self.user_id, self.user_uuid, self.session_key = found
        self.token = token
        # The sender as the send path needs it (id and uuid): no user row per send.
        self.sender = User(pk=self.user_id, uuid=uuid_lib.UUID(self.user_uuid))
        await self.channel_layer.group_add(user_group(self.user_id), self.channel_name)
        # Ending this session (logout, "end this session", ban, erasure) closes it at once.
        await self.channel_layer.group_add(session_group(self.session_key), self.channel_name)
        await self.channel_layer.group_add(GATE_GROUP, self.channel_name)
        await database_sync_to_async(presence_set)(
            user_id=self.user_id, state=FOREGROUND, connection=self.channel_name
        )
        await self.send_json({"type": "ready", "user": self.user_uuid})
        self.tasks.append(asyncio.create_task(self._heartbeat()))

    async def _heartbeat(self) -> None:
        """Every ``CHAT_WS_HEARTBEAT`` seconds: check the session again, refresh presence,
        send ``heartbeat``. The first comes after a random half to whole interval, so
        that sockets opened together (reconnects after a restart) do not beat in step.
        Ends quietly when the socket closed meanwhile; a failed check or presence write
        (database or Redis briefly down) is logged and the next beat tries again."""
        interval = settings.CHAT_WS_HEARTBEAT
        delay = interval * random.uniform(0.5, 1.0)
        while True:
            await asyncio.sleep(delay)
            delay = interval
            if self.user_id is None:
                return
            try:
                still = await database_sync_to_async(_heartbeat_check)(
                    self.token, user_id=self.user_id, state=self.state, connection=self.channel_name
                )
                if not await self._session_still(still):
                    return
            except OSError:  # closing a socket the client already left
                return
            except Exception:
                logger.exception("chat: a socket heartbeat's check failed")
                continue
            try:
                await self.send_json({"type": "heartbeat"})
            except Exception:
                # The client went away mid-heartbeat (uvicorn's ClientDisconnected):
                # disconnect() cleans up; nothing is left for the task to report.
                return

    async def _session_recheck(self) -> bool:
        """Is the session still valid and let through by the consent gate? Closes the
        socket (4001 or 4004) if not; sends already queued are then refused."""
        return await self._session_still(await database_sync_to_async(_session_user)(self.token))

    async def _session_still(self, still: tuple[int, str, str] | str | None) -> bool:
        """:meth:`_session_recheck` for a check already made (``_session_user``'s answer)."""
        if isinstance(still, str):
            self.refusal = still
            await self.close(code=CLOSE_ACCESS_REFUSED, reason=still)
            return False
        if still is None or still[0] != self.user_id:
            self.refusal = "invalid_token"
            await self.close(code=CLOSE_INVALID_SESSION, reason="invalid_session")
            return False
        return True

    async def disconnect(self, code: int) -> None:
        # Sends in flight are not cancelled: their work runs to the end in the send
        # threads, so a message is stored or not, never half; the app resends with the
        # same client_id after reconnecting and gets the stored one back.
        for task in self.tasks:
            task.cancel()
        if self.user_id is not None:
            await self.channel_layer.group_discard(user_group(self.user_id), self.channel_name)
            await self.channel_layer.group_discard(
                session_group(self.session_key), self.channel_name
            )
            await self.channel_layer.group_discard(GATE_GROUP, self.channel_name)
            await database_sync_to_async(presence_clear)(
                user_id=self.user_id, connection=self.channel_name
            )
            await call_signalling.socket_closed(self)
            if settings.MEETNOW_WS_CLOSED_HOOKS:
                await database_sync_to_async(_closed_hooks_run)(self.user_id)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._error("invalid_frame", _("Frames are JSON objects with a type."))
            return
        kind = content.get("type")
        if self.user_id is None:
            if kind == "auth" and isinstance(content.get("token"), str):
                await self._authenticate(content["token"])
            else:
                await self.close(code=CLOSE_AUTH_REQUIRED, reason="auth_required")
            return
        if kind == "ping":
            await database_sync_to_async(presence_set)(
                user_id=self.user_id, state=self.state, connection=self.channel_name
            )
            await self.send_json({"type": "pong"})
        elif kind == "presence":
            state = content.get("state")
            if state not in ("foreground", "background"):
                await self._error("invalid_state", _("state is foreground or background."))
                return
            self.state = FOREGROUND if state == "foreground" else BACKGROUND
            await database_sync_to_async(presence_set)(
                user_id=self.user_id, state=self.state, connection=self.channel_name
            )
        elif kind == ws_send.FRAME:
            self._message_send(content)
        elif kind == "typing":
            await self._typing(content.get("conversation"))
        elif kind == "auth":
            return
        elif isinstance(kind, str) and kind.startswith("call."):
            await call_signalling.handle(self, kind, content)  # issue 8: calls
        else:
            await self._error("unknown_type", _("Unknown frame type."))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data)
        except ValueError:
            await self._error("invalid_json", _("Frames are JSON objects."))

    def _message_send(self, content: dict[str, Any]) -> None:
        """Start one send; sends into the same conversation run one after the other, in
        frame order (so their ids follow the order the app sent them in), others in
        parallel. Acks may therefore come back out of order; each names its client_id."""
        if len(self.send_tasks) >= SEND_MAX_IN_FLIGHT:
            text = ws_send.ack_error(
                content.get("client_id"),
                429,
                "too_many_in_flight",
                gettext("Too many sends waiting for their ack; wait for some first."),
            )
            refused = asyncio.create_task(self._send_text(text))
            self.send_tasks.add(refused)
            refused.add_done_callback(self.send_tasks.discard)
            return
        key = str(content.get("conversation"))
        before = self.send_tails.get(key)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.send_tails[key] = done
        task = asyncio.create_task(self._message_send_one(content, before, done, key))
        self.send_tasks.add(task)
        task.add_done_callback(self.send_tasks.discard)

    async def _message_send_one(
        self,
        content: dict[str, Any],
        before: asyncio.Future[None] | None,
        done: asyncio.Future[None],
        key: str,
    ) -> None:
        try:
            if before is not None:
                await before
            if self.refusal or self.sender is None:
                code = self.refusal or "invalid_token"
                status = 401 if code == "invalid_token" else 403
                text = ws_send.ack_error(
                    content.get("client_id"), status, code, ws_send.refusal_message(code)
                )
            else:
                try:
                    status, text = await ws_send.message_send_frame_async(
                        sender=self.sender, content=content
                    )
                    if status == 401 and not self.refusal:
                        # Banned or deactivated meanwhile: this ack, then the socket
                        # closes as it would at the next heartbeat.
                        self.refusal = "invalid_token"
                        await self._send_text(text)
                        await self.close(code=CLOSE_INVALID_SESSION, reason="invalid_session")
                        return
                except Exception:
                    logger.exception("chat: message.send failed")
                    text = ws_send.ack_error(
                        content.get("client_id"),
                        500,
                        "server_error",
                        gettext("Something went wrong on our side."),
                    )
            await self._send_text(text)
        finally:
            done.set_result(None)
            if self.send_tails.get(key) is done:
                del self.send_tails[key]

    async def _send_text(self, text: str) -> None:
        # The socket may have closed meanwhile: the app learns the outcome by resending.
        with contextlib.suppress(Exception):
            await self.send(text_data=text)

    async def _error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})

    async def _typing(self, conversation: Any) -> None:
        """Tell the other members that this user is typing (ephemeral, never stored)."""
        try:
            conv_uuid = uuid_lib.UUID(str(conversation))
        except ValueError:
            await self._error("not_found", _("Conversation not found."))
            return
        key = str(conv_uuid)
        now = time.monotonic()
        if now - self.typing_sent.get(key, -1e9) < TYPING_MIN_INTERVAL:
            return
        cached = self.typing_members.get(key)
        if self.user_id is None:
            return
        if cached is None or now - cached[0] > 60:
            members = await database_sync_to_async(_typing_recipients)(self.user_id, conv_uuid)
            cached = (now, members)
            self.typing_members[key] = cached
        recipients = cached[1]
        if recipients is None:
            await self._error("not_found", _("Conversation not found."))
            return
        self.typing_sent[key] = now
        event = {"type": EventType.TYPING, "conversation": key, "user": self.user_uuid}
        for uid in recipients:
            await self.channel_layer.group_send(
                user_group(uid), {"type": "chat.event", "event": event}
            )

    # --- Messages from the channel layer ---------------------------------------------

    async def chat_event(self, message: dict[str, Any]) -> None:
        text = message.get("text")
        if text is not None:  # encoded once by the writer (chat.events.events_deliver)
            await self.send(text_data=text)
        else:
            event = message["event"]
            call_signalling.event_seen(self, event)
            await self.send_json(event)

    async def session_gate(self, message: dict[str, Any]) -> None:
        """privacy changed the consent state (of this user, or a new material version
        for everyone): check the session again now, not at the next heartbeat."""
        if self.user_id is not None:
            await self._session_recheck()

    async def layer_resync(self, message: dict[str, Any]) -> None:
        """The channel layer lost Redis for a while (meetnow.lib.channel_layer): events
        may have been missed. Close with 1012; the app reconnects and syncs."""
        with contextlib.suppress(Exception):
            await self.close(code=CLOSE_RESYNC, reason="resync")

    async def session_ended(self, message: dict[str, Any]) -> None:
        """A session ended (logout, session end, ban, erasure): close the socket that used it.

        Sent to the session's group (meetnow.lib.realtime.sessions_close) or, with the
        key or None for all, to the user's group (privacy's erasure)."""
        key = message.get("session_key")
        if key is None or key == getattr(self, "session_key", None):
            with contextlib.suppress(Exception):
                await self.close(code=CLOSE_INVALID_SESSION, reason="invalid_session")
