"""Redo erasures after a database restore, from the erasure ledger (P13, P18).

Run it after any restore: ledger entries lost by the restore are first put back
from their copies in file storage, then every account the ledger says was erased
is erased again (no grace period). Prints ids of requests, never personal values.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from privacy.erasure import erasures_reapply


class Command(BaseCommand):
    help = "Erase again the accounts the erasure ledger lists (after a database restore)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count the accounts that would be erased."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        done = erasures_reapply(dry_run=options["dry_run"])
        verb = "would erase" if options["dry_run"] else "erased"
        self.stdout.write(f"{verb} {len(done)} account(s)")
        for item in done:
            self.stdout.write(f"  {item}")
