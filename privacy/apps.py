from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self) -> None:
        # The consent gate's cache invalidation, in every process (web, worker, shell):
        # a version published anywhere must gate everyone at once.
        from privacy import signals  # noqa: F401
