"""Voice and video calls (issue 8, docs/calls.md): ``services`` (writes and reads),
``signalling`` (the WebSocket frames), ``apis`` (REST), ``push`` and ``tasks`` (the
ring push and the ring timeout). The model ``Call`` is in ``chat/models.py``. The
public names of ``services`` are importable from ``chat.calls`` itself.
"""

from __future__ import annotations

from chat.calls.services import (
    ACTIVE,
    CANDIDATE_MAX,
    END_ACTIONS,
    SDP_MAX,
    CallEvent,
    RelayTarget,
    call_accept,
    call_access,
    call_end,
    call_expire,
    call_frames_send,
    call_grace_check,
    call_history,
    call_invite,
    call_payload,
    call_peer_id,
    call_relay_target,
    call_reveal,
    call_start_anonymous,
    calls_expire_overdue,
    candidate_clean,
    sdp_clean,
    turn_credentials,
)

__all__ = [
    "ACTIVE",
    "CANDIDATE_MAX",
    "END_ACTIONS",
    "SDP_MAX",
    "CallEvent",
    "RelayTarget",
    "call_accept",
    "call_access",
    "call_end",
    "call_expire",
    "call_frames_send",
    "call_grace_check",
    "call_history",
    "call_invite",
    "call_payload",
    "call_peer_id",
    "call_relay_target",
    "call_reveal",
    "call_start_anonymous",
    "calls_expire_overdue",
    "candidate_clean",
    "sdp_clean",
    "turn_credentials",
]
