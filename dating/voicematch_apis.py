"""Voice match REST API under /api/v1/dating/voice-match (thin; dating/voicematch.py).

Entering, leaving and the queue state; one session (what this side may see) and its
like. The call itself is chat's (``call.accepted`` with ``voice_match`` on the socket,
then ``call.sdp`` / ``call.ice``; ``/api/v1/calls`` shows it as anonymous).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.apis import PublicProfileSerializer
from accounts.current import current_user
from accounts.models import Gender
from dating import matching, voicematch
from dating.apis import LikeOut, _Input, _match_body, _valid
from meetnow.lib.timestamps import iso


class VoiceMatchEnterIn(_Input):
    gender = serializers.ChoiceField(
        choices=Gender.values, required=False, help_text="Only people of this gender"
    )
    age_min = serializers.IntegerField(min_value=18, max_value=150, required=False)
    age_max = serializers.IntegerField(min_value=18, max_value=150, required=False)

    class Meta:
        ref_name = "VoiceMatchEnter"

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.get("age_min"), attrs.get("age_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError(
                {"age_min": [gettext_lazy("age_min is above age_max.")]}, code="invalid"
            )
        return attrs


class _RevealOut(serializers.Serializer[Any]):
    id = serializers.UUIDField(help_text="The match")
    user = PublicProfileSerializer(help_text="The other person, revealed by the mutual like")
    conversation = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "VoiceMatchReveal"


class VoiceMatchSessionOut(serializers.Serializer[Any]):
    id = serializers.UUIDField()
    call = serializers.UUIDField(allow_null=True, help_text="The anonymous call (chat's)")
    role = serializers.ChoiceField(
        choices=["offerer", "answerer"], help_text="The offerer sends the WebRTC offer"
    )
    created_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(help_text="The call ends then unless both liked")
    like_until = serializers.DateTimeField()
    liked = serializers.BooleanField(help_text="My own like (never the other's)")
    match = _RevealOut(allow_null=True, help_text="null until both liked")

    class Meta:
        ref_name = "VoiceMatchSession"


class VoiceMatchStateOut(serializers.Serializer[Any]):
    state = serializers.ChoiceField(choices=["idle", "waiting", "paired"])
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="While waiting: the queue drops me then"
    )
    session = VoiceMatchSessionOut(
        allow_null=True,
        help_text="paired: the new session (null if another server paired me at that "
        "moment: the call.accepted frame carries it)",
    )

    class Meta:
        ref_name = "VoiceMatchState"


def _state_body(state: voicematch.QueueState, viewer: Any) -> dict[str, Any]:
    # A session just opened is answered as it was written (its call set, no like, no
    # match yet: nothing to join, no query).
    session = state.session
    return {
        "state": state.state,
        "expires_at": iso(state.expires_at),
        "session": voicematch.session_payload(session, viewer=viewer) if session else None,
    }


class VoiceMatchQueueApi(APIView):
    @extend_schema(responses=VoiceMatchStateOut, operation_id="dating_voice_match_state")
    def get(self, request: Request) -> Response:
        """Am I waiting in the voice-match queue?"""
        user = current_user(request)
        return Response(_state_body(voicematch.voice_match_status(user=user), user))

    @extend_schema(
        request=VoiceMatchEnterIn,
        responses=VoiceMatchStateOut,
        operation_id="dating_voice_match_enter",
    )
    def post(self, request: Request) -> Response:
        """Enter the queue (with an open socket): paired at once with a compatible person
        who waits, or waiting up to 60 s. A pair gets `call.accepted` with `voice_match`
        on the socket. 409 `socket_required`, `already_in_call`."""
        user = current_user(request)
        data = _valid(VoiceMatchEnterIn, request.data)
        state = voicematch.voice_match_enter(user=user, **data)
        return Response(_state_body(state, user))

    @extend_schema(responses={204: None}, operation_id="dating_voice_match_leave")
    def delete(self, request: Request) -> Response:
        """Leave the queue (idempotent)."""
        voicematch.voice_match_leave(user=current_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class VoiceMatchSessionApi(APIView):
    @extend_schema(responses=VoiceMatchSessionOut, operation_id="dating_voice_match_session")
    def get(self, request: Request, session_uuid: str) -> Response:
        """One of my voice matches: the other person only once both liked."""
        user = current_user(request)
        session = voicematch.session_get(user=user, session_uuid=session_uuid)
        if voicematch.voice_match_time_limit(session_id=session.pk):
            session = voicematch.session_get(user=user, session_uuid=session_uuid)
        return Response(voicematch.session_payload(session, viewer=user))


class VoiceMatchLikeApi(APIView):
    @extend_schema(request=None, responses=LikeOut, operation_id="dating_voice_match_like")
    def post(self, request: Request, session_uuid: str) -> Response:
        """Like the other person (private until mutual; a mutual like is a match that
        reveals both). 409 `like_window_closed`."""
        user = current_user(request)
        match = voicematch.voice_match_like(user=user, session_uuid=session_uuid)
        if match is not None:
            match = matching.matches_of(user=user).filter(pk=match.pk).first()
        return Response(
            {"liked": True, "match": _match_body(match, user) if match is not None else None}
        )
