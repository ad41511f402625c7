"""A task the broker refuses waits in the database and is sent once it is back (issue 13).

The end-to-end version (a real broker stopped while messages are sent, a real worker
and its beat) is tests/e2e/test_services_down.py.
"""

from __future__ import annotations

import socket

import pytest

from chat.tasks import message_push_task
from meetnow.celery import app as celery_app
from meetnow.lib.outbox import outbox_flush, task_send
from meetnow.models import TaskOutbox
from tests.conftest import SentTasks, _reset_broker_pool

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_refused_task_waits_in_the_outbox_and_goes_once_the_broker_is_back(
    celery_sent: SentTasks, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Celery prefers the environment's CELERY_BROKER_URL to its configuration.
    away = f"redis://127.0.0.1:{_closed_port()}/0"
    monkeypatch.setenv("CELERY_BROKER_URL", away)
    monkeypatch.setitem(celery_app.conf, "broker_url", away)
    _reset_broker_pool()
    task_send(message_push_task, 42)  # no exception: the caller's answer is unaffected
    assert list(TaskOutbox.objects.values_list("task", "args", "kwargs")) == [
        ("push.chat_message", [42], {})
    ]
    assert outbox_flush() == 0  # still away: the row stays
    assert TaskOutbox.objects.count() == 1

    monkeypatch.setenv("CELERY_BROKER_URL", "memory://localhost//")
    monkeypatch.setitem(celery_app.conf, "broker_url", "memory://localhost//")
    _reset_broker_pool()
    celery_sent.clear()
    assert outbox_flush() == 1
    assert [(t.name, t.args) for t in celery_sent] == [("push.chat_message", (42,))]
    assert not TaskOutbox.objects.exists()
    assert outbox_flush() == 0


def test_with_the_broker_up_nothing_waits(celery_sent: SentTasks) -> None:
    task_send(message_push_task, 7)
    assert [(t.name, t.args) for t in celery_sent] == [("push.chat_message", (7,))]
    assert not TaskOutbox.objects.exists()
