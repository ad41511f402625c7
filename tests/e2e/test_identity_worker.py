"""Identity verification through a real worker: the console provider's verdict arrives by
the same path as a real provider's (start → broker → worker polls → verified)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import LazySettings

from accounts.identity.models import IdentityVerification
from accounts.identity.services import identity_verification_start
from accounts.models import User
from tests.accounts.identity_helpers import identity_consent, make_id
from tests.factories.accounts import UserFactory


@pytest.fixture
def identity_env(e2e_env: dict[str, str], settings: LazySettings) -> dict[str, str]:
    for env, value in {
        "IDENTITY_PROVIDER": "console",
        "IDENTITY_CONSOLE_DELAY": "1",
        "IDENTITY_POLL_INTERVAL": "1",
    }.items():
        e2e_env[env] = value
        setattr(settings, env, type(getattr(settings, env))(value))
    return e2e_env


def test_console_provider_verifies_through_the_worker(
    identity_env: dict[str, str], celery_worker: Any
) -> None:
    user = UserFactory.create()
    identity_consent(user)
    started = identity_verification_start(user=user, name="王五", id_number=make_id())
    assert started.verification.status == "pending"
    # The first check runs after IDENTITY_CONSOLE_DELAY; nothing else runs it here.
    deadline = time.monotonic() + 30
    verification = started.verification
    while time.monotonic() < deadline:
        verification.refresh_from_db()
        if verification.status != "pending":
            break
        time.sleep(0.2)
    assert verification.status == "verified", verification.status
    assert verification.checked_at is not None
    assert User.objects.get(pk=user.pk).identity_verified
    assert IdentityVerification.objects.filter(user=user).count() == 1
