"""The frames of the app's WebSocket ``/ws/v1/``, as OpenAPI 3.0 schema components.

``meetnow/schema.py`` adds them to the one OpenAPI document (``/api/schema/``), where
they show in the API docs as ``WsServerFrame`` (every frame the server sends) and
``WsClientFrame`` (every frame the app may send). Each frame is a JSON object whose
``type`` names it. tests/chat validates every frame the consumer sends in the
WebSocket tests against ``WsServerFrame``, so the documentation cannot drift from
what is sent. Events of the numbered stream (``seq``) are the ones ``GET
/api/v1/sync`` returns too.
"""

from __future__ import annotations

from typing import Any

from chat.calls import CallEvent
from chat.events import EventType

REF = "#/components/schemas/"
UUID = {"type": "string", "format": "uuid"}
NULLABLE_UUID = {"type": "string", "format": "uuid", "nullable": True}
SEQ = {"type": "integer", "description": "Number of this event in the user's stream (sync)."}


def _frame(
    types: list[str],
    description: str,
    properties: dict[str, Any] | None = None,
    required: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": {"type": {"type": "string", "enum": types}, **(properties or {})},
        "required": ["type", *(required or [])],
    }


CALL = {"$ref": REF + "WsCallObject"}
NULLABLE_TIME = {"type": "string", "format": "date-time", "nullable": True}
CALL_OBJECT = {
    "type": "object",
    "description": "A call as its participants see it on the socket (chat.calls.call_payload; "
    "the REST `Call` adds the viewer's `direction` and `peer`).",
    "properties": {
        "uuid": UUID,
        "conversation": NULLABLE_UUID,
        "caller": NULLABLE_UUID,
        "callee": NULLABLE_UUID,
        "anonymous": {
            "type": "boolean",
            "description": "The two people are hidden from each other (a voice match before "
            "a mutual like): `caller`, `callee` and relayed `from` are null.",
        },
        "media": {"type": "string", "enum": ["audio", "video"]},
        "state": {"type": "string"},
        "outcome": {"type": "string", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
        "accepted_at": NULLABLE_TIME,
        "ended_at": NULLABLE_TIME,
        "duration_seconds": {"type": "integer"},
    },
    "required": ["uuid", "conversation", "caller", "callee", "media", "state", "outcome"],
}
SDP = {
    "type": "object",
    "description": "A WebRTC session description, relayed, never stored.",
    "properties": {"type": {"type": "string", "enum": ["offer", "answer"]}, "sdp": {}},
    "required": ["type", "sdp"],
}

SERVER_FRAMES: dict[str, dict[str, Any]] = {
    "WsReady": _frame(["ready"], "Authenticated; live events follow.", {"user": UUID}, ["user"]),
    "WsHeartbeat": _frame(["heartbeat"], "Every CHAT_WS_HEARTBEAT seconds."),
    "WsPong": _frame(["pong"], "The answer to a `ping` frame."),
    "WsError": _frame(
        ["error"],
        "A frame was refused; the socket stays open. Codes: `invalid_json`, "
        "`unknown_type`, `not_found`, `rate_limited`, and those of the REST API for calls.",
        {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "param": {"type": "string", "nullable": True},
            "ref": {"type": "string", "description": "Echo of the client frame's `ref`."},
            "call": NULLABLE_UUID,
        },
        ["code", "message"],
    ),
    "WsMessageCreated": _frame(
        [EventType.MESSAGE_CREATED],
        "A message in one of the user's conversations (the full message, so no fetch).",
        {
            "seq": SEQ,
            "conversation": UUID,
            "message_id": {"type": "integer"},
            "message": {"$ref": REF + "ChatMessage"},
        },
        ["seq", "conversation", "message_id", "message"],
    ),
    "WsMessageAck": _frame(
        ["message.ack"],
        "The answer to one `message.send` frame (docs/chat.md). `status` 201: stored; 200: "
        "this `client_id` was already stored (a resend, over either transport), `message` "
        "is that message; 4xx/5xx: refused, `errors` in the one error shape with the codes "
        "of `POST /api/v1/conversations/{uuid}/messages`, plus `too_many_in_flight` (429, "
        "more than 64 sends await their ack). Acks of different conversations may come "
        "out of order: match them by `client_id`.",
        {
            "client_id": {
                "type": "string",
                "nullable": True,
                "description": "Echo of the frame's client_id (null if it was not a string).",
            },
            "status": {"type": "integer"},
            "message": {"$ref": REF + "ChatMessage"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "param": {"type": "string", "nullable": True},
                    },
                    "required": ["code", "message"],
                },
            },
            "retry_after": {"type": "integer", "description": "Seconds (status 429)."},
        },
        ["client_id", "status"],
    ),
    "WsMessageChanged": _frame(
        [EventType.MESSAGE_UPDATED, EventType.MESSAGE_DELETED],
        "A message was edited, recalled, moderated, or hidden for this user "
        "(`mode`: `hidden`, `recalled`…; `message` is the message as it is now).",
        {
            "seq": SEQ,
            "conversation": UUID,
            "message_id": {"type": "integer"},
            "mode": {"type": "string"},
            "message": {"$ref": REF + "ChatMessage"},
        },
        ["seq", "conversation", "message_id"],
    ),
    "WsConversationRead": _frame(
        [EventType.CONVERSATION_READ],
        "A member (the user, on another device, or someone sharing read receipts) read "
        "up to `last_read_id`.",
        {
            "seq": SEQ,
            "conversation": UUID,
            "user": UUID,
            "last_read_id": {"type": "integer"},
        },
        ["seq", "conversation", "user", "last_read_id"],
    ),
    "WsConversationChanged": _frame(
        [
            EventType.CONVERSATION_CREATED,
            EventType.CONVERSATION_UPDATED,
            EventType.CONVERSATION_REMOVED,
            EventType.MEMBER_ADDED,
            EventType.MEMBER_REMOVED,
        ],
        "A conversation appeared, changed (title, members, mute) or is gone for this "
        "user: fetch it (`GET /api/v1/conversations/{uuid}`) or drop it.",
        {"seq": SEQ, "conversation": UUID, "muted": {"type": "boolean"}},
        ["seq", "conversation"],
    ),
    "WsRequest": _frame(
        [EventType.CONVERSATION_REQUEST, EventType.GROUP_INVITATION],
        "A stranger's message request to this user (its one quiet notice: `GET "
        "/api/v1/chat/requests`), or an invitation to a group (`GET /api/v1/chat/"
        "invitations`); `user` is who sent or invited.",
        {"seq": SEQ, "conversation": UUID, "user": UUID},
        ["seq", "conversation", "user"],
    ),
    "WsSecurityNewDevice": _frame(
        [EventType.SECURITY_NEW_DEVICE],
        "A device never seen on this account signed in (P6): `device_id` is its id in "
        "`GET /api/v1/devices`; the app shows the sessions list (the new device ignores "
        "its own id).",
        {"seq": SEQ, "device_id": {"type": "integer"}},
        ["seq", "device_id"],
    ),
    "WsPolicyUpdated": _frame(
        ["privacy.policy_updated"],
        "A new version of the privacy policy or user agreement that needs no re-consent "
        "(P16): show the notice (`updates` of `GET /api/v1/privacy/consents`).",
        {
            "seq": SEQ,
            "kind": {"type": "string"},
            "version": {"type": "string"},
            "material": {"type": "boolean"},
        },
        ["seq", "kind", "version"],
    ),
    "WsNoticeCreated": _frame(
        [EventType.NOTICE_CREATED],
        "A new notice in this user's inbox (P13, P17): how a privacy request or support "
        "ticket ended, an export ready. Fetch it with `GET /api/v1/notices`; `kind` is "
        "its code (e.g. `privacy.export_ready`).",
        {"seq": SEQ, "notice_id": {"type": "integer"}, "kind": {"type": "string"}},
        ["seq", "notice_id", "kind"],
    ),
    "WsTyping": _frame(
        [EventType.TYPING],
        "Another member is typing (ephemeral: no `seq`, never stored).",
        {"conversation": UUID, "user": UUID},
        ["conversation", "user"],
    ),
    "WsCall": _frame(
        [
            CallEvent.CREATED,
            CallEvent.INCOMING,
            CallEvent.RINGING,
            CallEvent.ACCEPTED,
            CallEvent.ENDED,
            CallEvent.ICE,
            CallEvent.SDP,
            CallEvent.RENEGOTIATE,
        ],
        "Call signalling (docs/calls.md). `call` is the call object, or its uuid in "
        "relayed frames (`call.ringing`, `call.ice`, `call.sdp`, `call.renegotiate`, "
        "which also carry `from`, the sender's uuid, null in an anonymous call). A "
        "voice match (docs/dating.md) starts with `call.accepted` carrying `voice_match`.",
        {
            "call": {"oneOf": [CALL, UUID]},
            "from": NULLABLE_UUID,
            "voice_match": {
                "type": "object",
                "description": "Only in the `call.accepted` that starts a voice match.",
                "properties": {
                    "session": UUID,
                    "role": {
                        "type": "string",
                        "enum": ["offerer", "answerer"],
                        "description": "The offerer sends its offer over `call.sdp` at once.",
                    },
                    "ends_at": {"type": "string", "format": "date-time"},
                },
                "required": ["session", "role", "ends_at"],
            },
            "sdp": {**SDP, "nullable": True},
            "candidate": {"description": "An ICE candidate, relayed as the peer sent it."},
            "seq": SEQ,
            "ref": {"type": "string"},
        },
        ["call"],
    ),
    "WsDatingMatch": _frame(
        ["dating.matched", "dating.match_ended"],
        "Dating (docs/dating.md): a mutual like made a match (`match`, the opened "
        "`conversation` and the other person's `user` id), or a match ended (`match` only).",
        {"seq": SEQ, "match": UUID, "conversation": UUID, "user": UUID},
        ["match"],
    ),
}

CLIENT_FRAMES: dict[str, dict[str, Any]] = {
    "WsAuth": _frame(
        ["auth"],
        "First frame, for clients that cannot set the X-Session-Token header on the upgrade.",
        {"token": {"type": "string"}},
        ["token"],
    ),
    "WsPing": _frame(["ping"], "Answered by `pong`."),
    "WsPresence": _frame(
        ["presence"],
        "The app went to the foreground or background (push only when background).",
        {"state": {"type": "string", "enum": ["foreground", "background"]}},
        ["state"],
    ),
    "WsMessageSend": _frame(
        ["message.send"],
        "Send a message: the body of `POST /api/v1/conversations/{uuid}/messages` plus "
        "the conversation. Answered by one `message.ack` with the same `client_id`; "
        "several may be in flight, those of one conversation are stored in frame order.",
        {
            "conversation": UUID,
            "client_id": UUID,
            "kind": {"type": "string", "enum": ["text", "image", "voice", "video"]},
            "text": {"type": "string"},
            "media": UUID,
        },
        ["conversation", "client_id"],
    ),
    "WsTypingSend": _frame(
        ["typing"], "The user is typing.", {"conversation": UUID}, ["conversation"]
    ),
    "WsCallSend": _frame(
        [
            "call.invite",
            "call.ringing",
            "call.accept",
            "call.decline",
            "call.cancel",
            "call.hangup",
            "call.ice",
            "call.sdp",
            "call.renegotiate",
        ],
        "Call signalling from the app (docs/calls.md); `ref` is echoed in the answer.",
        {
            "call": UUID,
            "conversation": UUID,
            "media": {"type": "string", "enum": ["audio", "video"]},
            "sdp": SDP,
            "candidate": {},
            "ref": {"type": "string", "maxLength": 64},
        },
    ),
}


def components() -> dict[str, dict[str, Any]]:
    """Every frame schema plus the two unions, by component name."""
    return {
        "WsCallObject": CALL_OBJECT,
        **SERVER_FRAMES,
        **CLIENT_FRAMES,
        "WsServerFrame": {
            "description": "Any frame the server sends on /ws/v1/ (by `type`).",
            "oneOf": [{"$ref": REF + name} for name in SERVER_FRAMES],
        },
        "WsClientFrame": {
            "description": "Any frame the app may send on /ws/v1/ (by `type`).",
            "oneOf": [{"$ref": REF + name} for name in CLIENT_FRAMES],
        },
    }
