"""Reads on users, blocks and devices."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from accounts.models import Block, Device


def block_exists_between(*, user_a_id: int, user_b_id: int) -> bool:
    """True when either user blocked the other."""
    return Block.objects.filter(
        Q(blocker_id=user_a_id, blocked_id=user_b_id)
        | Q(blocker_id=user_b_id, blocked_id=user_a_id)
    ).exists()


def blocked_user_ids(*, user_id: int) -> set[int]:
    """Ids of everyone ``user_id`` blocked or was blocked by (one query)."""
    pairs = Block.objects.filter(Q(blocker_id=user_id) | Q(blocked_id=user_id)).values_list(
        "blocker_id", "blocked_id"
    )
    return {b if a == user_id else a for a, b in pairs}


def push_devices_for_users(*, user_ids: Iterable[int]) -> list[Device]:
    """Devices that can receive a push: push enabled, with a token, user active (P10)."""
    return list(
        Device.objects.filter(
            user_id__in=list(user_ids),
            user__is_active=True,
            push_enabled=True,
        ).exclude(push_token="")
    )
