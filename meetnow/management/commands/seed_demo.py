"""Idempotent demo data for ``make run``: a few app users and the staff accounts.

Staff: ``admin`` (superuser), ``moderator`` (Moderators) and ``support`` (Support),
sharing one generated password kept in ``var/`` and printed in development only.
Each must enrol an authenticator app at first admin login (docs/admin.md).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import staff_create, user_create
from staff.roles import MODERATORS, SUPPORT, roles_sync

DEMO_USERS = [
    # phone, nickname, gender, date of birth (fictional numbers in a reserved range)
    ("+8613800000001", "Lin", "female", dt.date(1995, 4, 12)),
    ("+8613800000002", "Chen", "male", dt.date(1992, 9, 30)),
    ("+8613800000003", "Mei", "female", dt.date(1999, 1, 5)),
    ("+8613800000004", "Alex", "other", dt.date(1990, 6, 21)),
]
STAFF_USERNAME = "admin"
# username -> group (None: superuser)
DEMO_STAFF: dict[str, str | None] = {
    STAFF_USERNAME: None,
    "moderator": MODERATORS,
    "support": SUPPORT,
}


class Command(BaseCommand):
    help = "Load demo users and a staff account (development only; safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo is for development only.")
        created = 0
        for phone, nickname, gender, born in DEMO_USERS:
            if not User.objects.filter(phone=phone, phone_verified=True).exists():
                user_create(
                    phone=phone,
                    phone_verified=True,
                    nickname=nickname,
                    gender=gender,
                    date_of_birth=born,
                )
                created += 1
        self.stdout.write(f"Demo users: {created} created, {len(DEMO_USERS) - created} existing.")

        roles_sync()
        password_file = settings.VAR_DIR / "demo-admin-password.txt"
        if not password_file.exists():
            password_file.write_text(secrets.token_urlsafe(12))
            password_file.chmod(0o600)
        password = password_file.read_text()
        for username, group in DEMO_STAFF.items():
            if User.objects.filter(username=username).exists():
                continue
            staff = staff_create(username=username, password=password, superuser=group is None)
            if group is not None:
                staff.groups.add(Group.objects.get(name=group))
        self.stdout.write(
            f"Staff accounts: {', '.join(repr(u) for u in DEMO_STAFF)}, password '{password}'."
        )
