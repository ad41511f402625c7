"""``seed_demo`` loads demo data once, however often ``make run`` calls it."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.management import CommandError, call_command

from accounts.models import User


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_the_staff_password(
    settings: LazySettings, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path
    first = StringIO()
    call_command("seed_demo", stdout=first)
    users = User.objects.count()
    assert users >= 7
    staff = User.objects.get(username="admin")
    assert User.objects.get(username="moderator").groups.get().name == "Moderators"
    assert User.objects.get(username="support").groups.get().name == "Support"
    assert not User.objects.get(username="support").is_superuser
    assert staff.is_staff
    assert staff.is_superuser
    password = (tmp_path / "demo-admin-password.txt").read_text()
    assert f"password '{password}'" in first.getvalue()
    assert staff.check_password(password)

    second = StringIO()
    call_command("seed_demo", stdout=second)
    assert User.objects.count() == users
    assert "0 created" in second.getvalue()
    assert f"password '{password}'" in second.getvalue()
    staff.refresh_from_db()
    assert staff.check_password(password)


@pytest.mark.django_db
def test_seed_demo_refuses_in_production(settings: LazySettings) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not User.objects.exists()
