from django.apps import AppConfig


class SupportConfig(AppConfig):
    """Support tickets (P17), between privacy and chat in the layers (docs/architecture.md)."""

    name = "support"
