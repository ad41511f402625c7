"""Development: see an erasure happen now (``manage.py erase_account <uuid> --now``).

Without ``--now`` the account's erasure is requested as the app does it (locked,
cooling-off of MEETNOW_ERASURE_GRACE_DAYS); with ``--now`` the cooling-off ends at
once and the erasure runs in this process, then what is left is listed (nothing).
Refuses in production, where erasures only follow a user's or staff's request.
Prints ids and counts, never personal values.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from meetnow.lib.errors import ApplicationError
from privacy.erasure import erasure_leftovers, erasure_run
from privacy.lifecycle import erasure_start_now, request_create
from privacy.models import PrivacyRequest, RequestKind, RequestStatus

MAX_RUNS = 1000  # erasure_run works in chunks; each call returns "more" until done


class Command(BaseCommand):
    help = "Development: erase an account (by its public uuid); --now skips the cooling-off."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user_uuid", help="the account's public uuid (GET /api/v1/me)")
        parser.add_argument(
            "--now", action="store_true", help="end the cooling-off and erase at once"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("erase_account is for development only.")
        try:
            user_uuid = uuid.UUID(options["user_uuid"])
        except ValueError as exc:
            raise CommandError("Not a uuid.") from exc
        user = get_user_model().objects.filter(uuid=user_uuid).first()
        if user is None:
            raise CommandError("No account with this uuid.")
        user_id = user.pk
        try:
            if not options["now"]:
                privacy_request = PrivacyRequest.objects.filter(
                    user=user, kind=RequestKind.ERASURE, status=RequestStatus.SCHEDULED
                ).first() or request_create(
                    user=user, kind=RequestKind.ERASURE, identity_confirmed=True
                )
                self.stdout.write(
                    f"erasure {privacy_request.uuid}: {privacy_request.status}, "
                    f"scheduled for {privacy_request.scheduled_for}"
                    " (run again with --now to erase at once)"
                )
                return
            privacy_request = erasure_start_now(user=user)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        for _ in range(MAX_RUNS):
            result = erasure_run(request_id=privacy_request.pk)
            if result != "more":
                break
        privacy_request.refresh_from_db()
        leftovers = erasure_leftovers(user_id=user_id)
        self.stdout.write(f"erasure {privacy_request.uuid}: {result}, {privacy_request.status}")
        self.stdout.write(
            "left of the account: "
            + (", ".join(f"{label} {count}" for label, count in leftovers.items()) or "nothing")
        )
        if result != "done":
            raise CommandError(f"erasure ended with {result!r}")
