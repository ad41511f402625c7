"""Celery tasks of chat: thin wrappers around services (ids in, idempotent)."""

from __future__ import annotations

from celery import shared_task

from chat.events import events_compact
from chat.notify import (
    conversation_clear_push_send,
    message_push_send,
    new_device_event_append,
    new_device_push_send,
    notice_push_send,
    request_push_send,
)
from chat.push import PushTransientError
from meetnow.lib.outbox import task_send


@shared_task(
    name="push.chat_message",
    autoretry_for=(PushTransientError,),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=6,
)
def message_push_task(message_id: int) -> int:
    return message_push_send(message_id=message_id)


@shared_task(
    name="push.chat_clear",
    autoretry_for=(PushTransientError,),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=6,
)
def conversation_clear_push_task(user_id: int, conversation_id: int) -> int:
    return conversation_clear_push_send(user_id=user_id, conversation_id=conversation_id)


@shared_task(
    name="push.chat_request",
    autoretry_for=(PushTransientError,),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=6,
)
def request_push_task(user_id: int, conversation_id: int) -> int:
    return request_push_send(user_id=user_id, conversation_id=conversation_id)


@shared_task(
    name="push.new_device",
    autoretry_for=(PushTransientError,),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=6,
)
def new_device_push_task(user_id: int, device_id: int) -> int:
    return new_device_push_send(user_id=user_id, device_id=device_id)


def new_device_notify(*, user_id: int, device_id: int) -> None:
    """accounts' ``MEETNOW_NEW_DEVICE_NOTIFIER`` hook (called after commit): an event on
    the account's stream, and the push to the other phones."""
    new_device_event_append(user_id=user_id, device_id=device_id)
    task_send(new_device_push_task, user_id, device_id)


@shared_task(
    name="push.notice",
    autoretry_for=(PushTransientError,),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=6,
)
def notice_push_task(notice_id: int) -> int:
    return notice_push_send(notice_id=notice_id)


@shared_task(name="default.chat_events_compact")
def events_compact_task() -> int:
    return events_compact()


import chat.calls.tasks  # noqa: E402, F401  (calls, issue 8: registers its tasks)
