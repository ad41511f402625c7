"""Tasks that survive a broker outage: an outbox in the database (issue 13).

A task sent after a commit (a push for a stored message, processing for a stored
upload) used to be lost when the broker was down: the send failed, ``on_commit(...,
robust=True)`` logged it and the answer stayed 201. :func:`task_send` tries the broker
once, quickly, and on failure keeps the task as a :class:`~meetnow.models.TaskOutbox`
row; the beat task ``default.outbox_flush`` (every ``MEETNOW_OUTBOX_FLUSH_SECONDS``)
hands the rows to the broker once it is back. The tasks sent this way are idempotent
(a push is sent once per device and message, processing is claimed), so a task that
reaches the broker twice does nothing twice.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

# The broker either takes the message now or the outbox does: no long retries inside a
# request (kombu's default policy retries three times).
QUICK_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}


def task_send(task: Any, *args: Any, **kwargs: Any) -> None:
    """``task.delay(*args, **kwargs)``, kept in the outbox if the broker refuses it.

    Arguments must be JSON (ids). Eager mode (tests) runs the task as ``delay`` does.
    """
    from meetnow.models import TaskOutbox

    if task.app.conf.task_always_eager:
        task.apply_async(args, kwargs)
        return
    try:
        task.apply_async(args, kwargs, retry_policy=QUICK_RETRY)
    except Exception as exc:  # kombu's OperationalError, a socket error: the broker is away
        TaskOutbox.objects.create(task=task.name, args=list(args), kwargs=kwargs)
        logger.warning(
            "broker unavailable (%s): task %s kept in the outbox", type(exc).__name__, task.name
        )


def outbox_flush(*, batch: int = 500) -> int:
    """Hand the kept tasks to the broker, oldest first; returns how many went.

    Stops at the first refusal (the broker is still away; the next run goes on). Rows
    are locked while sent, so two flushes never send the same row.
    """
    from meetnow.models import TaskOutbox

    sent: list[int] = []
    with transaction.atomic():
        rows = list(TaskOutbox.objects.select_for_update(skip_locked=True).order_by("id")[:batch])
        for row in rows:
            try:
                current_app.send_task(row.task, args=row.args, kwargs=row.kwargs)
            except Exception as exc:
                logger.warning("outbox: broker still unavailable (%s)", type(exc).__name__)
                break
            sent.append(row.pk)
        TaskOutbox.objects.filter(pk__in=sent).delete()
    if sent:
        logger.info("outbox: %d task(s) handed to the broker", len(sent))
    return len(sent)
