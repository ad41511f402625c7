"""The wiring app's personal data (DESIGN.md, docs/privacy.md): the task outbox.

A :class:`~meetnow.models.TaskOutbox` row is a task the broker refused
(``meetnow.lib.outbox``): a task name and its id arguments. Some of those ids are a
user's (the new-device push, the provider avatar), none is content. A row lives only
while the broker is away and is deleted when ``default.outbox_flush`` hands it over;
a task handed over for an erased account finds no user and does nothing. So nothing
is exported or erased here; the declaration says why.
"""

from __future__ import annotations

from meetnow.lib.personal_data import Declaration, Strategy

declarations: list[Declaration] = [
    Declaration(
        "meetnow.TaskOutbox",
        Strategy.KEEP,
        "",
        "task_outbox",
        "A refused task's name and id arguments (a user id for some): no content; deleted "
        "when the broker takes it; a task for an erased account does nothing.",
    ),
]
