"""Version 1.0 of the privacy policy and the user agreement, published.

Sign-up needs a current version of each (P1); without these a fresh installation
(``make run``) could not sign anyone up. Staff replace them in the admin.
"""

from django.db import migrations
from django.utils import timezone

DOCUMENTS = [
    ("privacy_policy", "MeetNow privacy policy"),
    ("user_agreement", "MeetNow user service agreement"),
]


def create(apps, schema_editor):
    PolicyDocument = apps.get_model("privacy", "PolicyDocument")
    now = timezone.now()
    for kind, title in DOCUMENTS:
        PolicyDocument.objects.get_or_create(
            kind=kind,
            version="1.0",
            defaults={
                "title": title,
                "body": f"{title}, version 1.0. Staff publish the full text in the admin.",
                "published_at": now,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_documents_consents")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
