"""Identity providers: one interface, a real e-KYC adapter and a development console.

``IDENTITY_PROVIDER`` picks one: ``tencent`` (Tencent Cloud FaceID, TC3-HMAC-SHA256
signed requests; :mod:`accounts.identity.providers.tencent`), ``console``
(development only, refused in production) or a dotted path to a class.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class ProviderError(Exception):
    """The provider refused the request (bad credentials, bad parameters): not retried."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class ProviderTransientError(ProviderError):
    """Timeout, connection error, 5xx or the provider's "try again": worth retrying."""


@dataclass(frozen=True)
class StartResult:
    """What the app needs to run the provider's liveness step, and our reference to it."""

    reference: str
    client: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    """The provider's verdict: ``pending``, ``verified`` or ``failed`` (with a reason code).

    ``id_number`` is the number the provider verified when it says so (compared with
    the hash of the one we sent, then dropped; never stored).
    """

    state: str
    reason_code: str = ""
    provider_code: str = ""
    id_number: str = ""


class IdentityProvider(Protocol):
    name: str

    def start(self, *, name: str, id_number: str, attempt_id: str) -> StartResult:
        """Create the provider's verification session for this person."""
        ...

    def check(self, *, reference: str, started_at: dt.datetime) -> CheckResult:
        """Ask the provider how the session ended (or that it is still running)."""
        ...

    def callback_reference(self, *, payload: dict[str, Any]) -> str:
        """The session reference a (signature-checked) callback body is about."""
        ...


def get_provider(name: str | None = None) -> IdentityProvider:
    name = name or settings.IDENTITY_PROVIDER
    if name == "console":
        from accounts.identity.providers.console import ConsoleProvider

        return ConsoleProvider()
    if name == "tencent":
        from accounts.identity.providers.tencent import TencentFaceIdProvider

        return TencentFaceIdProvider()
    provider: IdentityProvider = import_string(name)()
    return provider
