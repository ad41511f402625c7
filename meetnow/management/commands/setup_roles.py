"""Create or update the staff groups (Moderators, Support) and their permissions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from staff.roles import ROLES, roles_sync


class Command(BaseCommand):
    help = (
        "Create the staff groups and give each exactly its least permissions "
        "(idempotent; run after every migrate). See docs/admin.md."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = roles_sync()
        for name in ROLES:
            state = "created" if name in report.created_groups else "updated"
            self.stdout.write(f"Group {name!r} {state}.")
        if report.missing:
            self.stdout.write(
                self.style.WARNING(
                    "Skipped permissions whose model does not exist yet: "
                    + ", ".join(report.missing)
                )
            )
