"""Development provider: no liveness step, a verdict after a short delay (never production).

Every well-formed ID number is verified ``IDENTITY_CONSOLE_DELAY`` seconds after the
start, when the worker next checks, so ``make run`` shows the real worker path. A
name ending in ``失败`` or ``fail`` fails with ``face_mismatch``, to try the failure
path. ``DJANGO_ENV=production`` refuses to start with it (meetnow/settings.py).
"""

from __future__ import annotations

import datetime as dt
import secrets
import sys
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.identity.providers import CheckResult, StartResult


class ConsoleProvider:
    name = "console"

    def start(self, *, name: str, id_number: str, attempt_id: str) -> StartResult:
        verdict = "fail" if name.lower().endswith(("失败", "fail")) else "ok"
        reference = f"console-{secrets.token_hex(8)}-{verdict}"
        # The terminal, not the logs (like the console SMS backend): no name, no number.
        print(f"[identity console] session {reference} opened", file=sys.stderr)  # noqa: T201
        return StartResult(reference=reference, client={"biz_token": reference, "url": ""})

    def check(self, *, reference: str, started_at: dt.datetime) -> CheckResult:
        ready_at = started_at + dt.timedelta(seconds=settings.IDENTITY_CONSOLE_DELAY)
        if timezone.now() < ready_at:
            return CheckResult(state="pending")
        if reference.endswith("-fail"):
            return CheckResult(state="failed", reason_code="face_mismatch", provider_code="console")
        return CheckResult(state="verified", provider_code="console")

    def callback_reference(self, *, payload: dict[str, Any]) -> str:
        return str(payload.get("BizToken") or "")
