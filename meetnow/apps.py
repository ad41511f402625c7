from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetNowConfig(AppConfig):
    """The project package as an app, for its management commands and tasks."""

    name = "meetnow"
    verbose_name = _("MeetNow")
