"""Factories and builders for chat tests (users through the accounts service)."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Collection
from typing import Any

from django.test import override_settings

from accounts.models import Block, Device, User
from accounts.services import user_create
from chat import services
from chat.models import Conversation, Message

_phones = itertools.count(1)


def make_user(nickname: str = "") -> User:
    n = next(_phones)
    return user_create(
        phone=f"+86137{uuid.uuid4().int % 10**4:04d}{n:04d}",
        phone_verified=True,
        nickname=nickname or f"user{n}",
        date_of_birth=dt.date(1995, 5, 17),  # sign-up requires it (P14)
    )


def make_block(blocker: User, blocked: User) -> Block:
    return Block.objects.create(blocker=blocker, blocked=blocked)


def make_device(user: User, *, platform: str = "android", token: str = "", **extra: Any) -> Device:
    n = next(_phones)
    return Device.objects.create(
        user=user,
        device_id=f"dev-{n}",
        platform=platform,
        push_token=token or f"token-{n}",
        **extra,
    )


def make_direct(a: User, b: User) -> Conversation:
    """An accepted direct conversation of ``a`` and ``b`` (as if ``b`` accepted ``a``'s
    message request, or they were matched); ``make_request`` for a pending one."""
    conversation = make_request(a, b)
    services.conversation_get_or_create_direct(user=b, other_uuid=a.uuid)
    return conversation


def make_request(sender: User, recipient: User) -> Conversation:
    """The direct conversation ``sender`` starts with a stranger: a message request."""
    conversation, _ = services.conversation_get_or_create_direct(
        user=sender, other_uuid=recipient.uuid
    )
    return conversation


def everyone_matched(*, user_id: int, other_ids: Collection[int]) -> set[int]:
    """A stand-in for the upper layer's match check: everyone is matched."""
    return set(other_ids)


def make_group(owner: User, *members: User, title: str = "Group") -> Conversation:
    """A group whose members all joined at once, as the owner's matches do (strangers
    would get an invitation: tests/chat/test_invitations.py)."""
    with override_settings(MEETNOW_CHAT_MATCHED_CHECK="tests.factories.chat.everyone_matched"):
        return services.group_create(
            owner=owner, title=title, member_uuids=[m.uuid for m in members]
        )


def send(sender: User, conversation: Conversation, text: str = "hello") -> Message:
    message, _ = services.message_send(
        sender=sender, conversation_uuid=conversation.uuid, client_id=uuid.uuid4(), text=text
    )
    return message
