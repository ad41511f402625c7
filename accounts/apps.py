from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def _close_sockets_on_logout(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """A logout (allauth's ``DELETE /auth/session`` included) closes that session's
    sockets at once; Django sends this before it flushes the session."""
    from meetnow.lib.realtime import sessions_close

    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if key:
        sessions_close([key])


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from accounts.sms import codes

        user_logged_out.connect(_close_sockets_on_logout, dispatch_uid="accounts.sockets_close")
        codes.install()  # one-time codes stored hashed in allauth's session state
