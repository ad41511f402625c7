"""The app's view of allauth's headless API, shared with tests/accounts."""

from __future__ import annotations

from tests.accounts.conftest import app, consent, outbox, signup_data

__all__ = ["app", "consent", "outbox", "signup_data"]
