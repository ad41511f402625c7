from django.apps import AppConfig


class SupportConfig(AppConfig):
    """Support tickets (P17), between privacy and chat in the layers (docs/architecture.md)."""

    name = "support"

    def ready(self) -> None:
        from support.notices import notice_kinds_register

        # How a ticket's outcomes in the user's inbox read (accounts' notices).
        notice_kinds_register()
