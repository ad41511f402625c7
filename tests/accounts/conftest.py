"""Fixtures for the accounts tests: the app's view of allauth's headless API."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client

from accounts.sms import backends
from privacy.selectors import documents_current

API = "/_allauth/app/v1"


@pytest.fixture
def outbox(
    settings: LazySettings, log_secrets: set[str]
) -> Iterator[list[backends.OutgoingMessage]]:
    """Codes "sent" by the test SMS backend, in order (checked against all log output)."""
    settings.SMS_BACKEND = "locmem"
    backends.outbox.clear()
    yield backends.outbox
    log_secrets.update(m.code for m in backends.outbox if m.code)
    backends.outbox.clear()


class App:
    """A native app: no cookies, the session token in ``X-Session-Token``.

    Every call runs what was enqueued on commit (the SMS task), as the worker would
    (the ``app`` fixtures ask for ``celery_eager``).
    """

    def __init__(self, capture: Callable[..., AbstractContextManager[Any]]) -> None:
        self.client = Client()
        self.capture = capture
        self.token: str | None = None
        self.headers: dict[str, str] = {}

    def call(
        self,
        method: str,
        path: str,
        data: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: str | None = None,
    ) -> tuple[int, Any]:
        self.client.cookies.clear()
        sent = dict(self.headers)
        if self.token:
            sent["X-Session-Token"] = self.token
        sent.update(headers or {})
        body = raw if raw is not None else (json.dumps(data) if data is not None else "")
        url = path if path.startswith("/api/") else API + path
        with self.capture(execute=True):
            response = self.client.generic(
                method, url, body, content_type="application/json", headers=sent
            )
        payload = response.json() if response.content else {}
        token = payload.get("meta", {}).get("session_token") if isinstance(payload, dict) else None
        if token:
            self.token = token
        return response.status_code, payload


@pytest.fixture
def app(django_capture_on_commit_callbacks: Callable[..., Any], celery_eager: None) -> App:
    return App(django_capture_on_commit_callbacks)


@pytest.fixture
def app_factory(
    django_capture_on_commit_callbacks: Callable[..., Any], celery_eager: None
) -> Callable[[], App]:
    return lambda: App(django_capture_on_commit_callbacks)


@pytest.fixture
def consent(db: None) -> dict[str, str]:
    """The consent part of a sign-up: accepted versions of the current documents."""
    current = documents_current()
    return {
        "privacy_policy_version": current["privacy_policy"].version,
        "user_agreement_version": current["user_agreement"].version,
    }


@pytest.fixture
def signup_data(consent: dict[str, str]) -> dict[str, str]:
    return {"date_of_birth": "1996-03-14", **consent}
