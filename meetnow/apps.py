from django.apps import AppConfig


class MeetNowConfig(AppConfig):
    """The project package as an app, for its management commands and tasks."""

    name = "meetnow"
    verbose_name = "MeetNow"
