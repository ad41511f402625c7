"""meetnow.lib.broker: kombu's Redis transport keeping one client per channel."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from kombu import Connection

from dating.tasks import post_activity_push_task
from meetnow.celery import app as celery_app
from meetnow.lib.broker import Transport
from meetnow.lib.outbox import task_send
from meetnow.models import TaskOutbox

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")


def test_publishes_reuse_one_client_until_kombu_replaces_the_pool() -> None:
    queue = f"test-broker-{uuid.uuid4().hex}"
    with Connection(REDIS_URL, transport=Transport) as connection:
        channel: Any = connection.default_channel  # kombu's stubs show the base channel
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
        given = object()
        with channel.conn_or_acquire(given) as client:
            assert client is given
        try:
            channel._put(queue, {"body": "one"})
            channel._put(queue, {"body": "two"})
            assert channel._size(queue) == 2
            with channel.conn_or_acquire() as kept:
                channel._pool = None  # what kombu does after a connection error
                with channel.conn_or_acquire() as fresh:
                    assert fresh is not kept
                    assert fresh.connection_pool is channel.pool
            assert channel._size(queue) == 2
        finally:
            channel._purge(queue)


@pytest.mark.django_db(transaction=True)
def test_a_push_to_a_broker_that_is_down_still_waits_in_the_outbox(
    broker_down: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(celery_app.conf, "broker_transport", "meetnow.lib.broker:Transport")
    with celery_app.connection_for_write() as connection:
        assert isinstance(connection.transport, Transport)
    task_send(post_activity_push_task, 7, "like", 3)
    kept = TaskOutbox.objects.get()
    assert kept.task == post_activity_push_task.name
    assert kept.args == [7, "like", 3]
