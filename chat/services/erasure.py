"""Erasure of a user's chat data (called by ``chat/personal_data.py`` in chunks of
``limit``; P13, P18)."""

from __future__ import annotations

import logging

from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat

from chat.models import (
    Conversation,
    Message,
)
from chat.services.conversations import direct_key_of_user
from media.models import MediaFile
from meetnow.lib.personal_data import chunk_update

logger = logging.getLogger(__name__)


def conversations_direct_key_erase(*, user_id: int, limit: int) -> int:
    """Replace the direct key of up to ``limit`` conversations holding the user's id by
    ``erased-<conversation id>`` (still unique); the other member keeps the history."""
    return chunk_update(
        Conversation.objects.filter(direct_key_of_user(user_id)),
        limit,
        direct_key=Concat(Value("erased-"), Cast(F("id"), output_field=CharField())),
    )


def messages_tombstone_for_sender(*, user_id: int, limit: int) -> int:
    """Tombstone up to ``limit`` messages the user sent: the row stays so the others'
    history keeps its shape (sender shown as "Deleted user"); text, system payload,
    client id, edit time and every link to a stored file are removed."""
    file_links = {
        f.name: None
        for f in Message._meta.concrete_fields
        if f.is_relation and f.related_model is MediaFile and f.null
    }
    return chunk_update(
        Message.objects.filter(sender_id=user_id),
        limit,
        sender=None,
        text="",
        system=None,
        client_id=None,
        edited_at=None,
        **file_links,
    )
