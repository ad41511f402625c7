"""The Celery application, wired the cookiecutter-django way.

Every setting lives in ``meetnow/settings.py`` under the ``CELERY_`` namespace.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetnow.settings")

app = Celery("meetnow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
