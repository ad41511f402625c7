"""Production refuses to start without its secrets, and is clean under check --deploy."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_or_skip

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECRET_KEY"))}
    for name in ("ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SMS_BACKEND"):
        base.pop(name, None)
    for name in [k for k in base if k.startswith("IDENTITY_")]:
        base.pop(name)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_development_needs_no_variable() -> None:
    result = run_manage("check")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secrets() -> None:
    result = run_manage("check", DJANGO_ENV="production", ALLOWED_HOSTS="api.meetnow.example")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    assert "DATABASE_URL" in result.stderr
    assert "REDIS_URL" in result.stderr
    assert "ALLOWED_HOSTS" not in result.stderr.split("needs these environment variables:")[1]


def test_production_with_its_variables_passes_check_deploy() -> None:
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="api.meetnow.example",
        DATABASE_URL="postgres://meetnow@127.0.0.1:5432/meetnow",
        REDIS_URL="redis://127.0.0.1:6379/0",
        SMS_BACKEND="http",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_the_console_sms_backend() -> None:
    """The development backend prints one-time codes; production must send them (P18)."""
    result = run_manage(
        "check",
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="api.meetnow.example",
        DATABASE_URL="postgres://meetnow@127.0.0.1:5432/meetnow",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode != 0
    assert "SMS_BACKEND" in result.stderr


@pytest.mark.django_db
def test_postgresql_connections_prepare_statements_and_skip_jit() -> None:
    """Short OLTP queries: JIT compiling cost the unread total 83 ms for 3 ms of work,
    and prepared statements save PostgreSQL parsing and planning them every time."""
    from django.db import connection

    require_or_skip(connection.vendor == "postgresql", "PostgreSQL settings")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
    assert connection.connection.prepare_threshold == 5


def test_production_refuses_the_console_identity_provider_and_a_missing_hash_secret() -> None:
    """The console provider verifies anyone; the ID hash needs its own key (P7, P18)."""
    base = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "api.meetnow.example",
        "DATABASE_URL": "postgres://meetnow@127.0.0.1:5432/meetnow",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SMS_BACKEND": "http",
    }
    console = run_manage("check", **base, IDENTITY_PROVIDER="console")
    assert console.returncode != 0
    assert "IDENTITY_PROVIDER=console" in console.stderr
    no_secret = run_manage("check", **base, IDENTITY_PROVIDER="tencent")
    assert no_secret.returncode != 0
    assert "IDENTITY_HASH_SECRET" in no_secret.stderr
    configured = run_manage(
        "check", **base, IDENTITY_PROVIDER="tencent", IDENTITY_HASH_SECRET="k" * 40
    )
    assert configured.returncode == 0, configured.stderr
