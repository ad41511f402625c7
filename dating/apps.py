from django.apps import AppConfig


class DatingConfig(AppConfig):
    name = "dating"
    verbose_name = "Voice dating"
