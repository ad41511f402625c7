from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy")

    def ready(self) -> None:
        # The consent gate's cache invalidation, in every process (web, worker, shell):
        # a version published anywhere must gate everyone at once.
        # The job tasks, by name in Celery's registry (privacy.jobs.job_enqueue).
        from privacy import signals, tasks  # noqa: F401
        from privacy.notices import notice_kinds_register

        # How the request outcomes in the user's inbox read (accounts' notices).
        notice_kinds_register()
