from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"

    def ready(self) -> None:
        # The consent gate's cache invalidation, in every process (web, worker, shell):
        # a version published anywhere must gate everyone at once.
        # The job tasks, by name in Celery's registry (privacy.jobs.job_enqueue).
        from privacy import signals, tasks  # noqa: F401
