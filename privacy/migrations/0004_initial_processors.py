"""The processors and SDKs MeetNow's code talks to, with the data each receives (P9).

Staff edit the list in the admin; this seeds it so a fresh installation is honest.
"""

from django.db import migrations

PROCESSORS = [
    (
        "SMS / voice-call provider (Twilio or the configured HTTP gateway)",
        "Sending one-time codes",
        "Your mobile number and the code.",
        "",
    ),
    (
        "Firebase Cloud Messaging (Google)",
        "Push notifications on Android",
        "A push token of your device; message previews only if you turned them on.",
        "US",
    ),
    (
        "Apple Push Notification service",
        "Push notifications on iOS",
        "A push token of your device; message previews only if you turned them on.",
        "US",
    ),
    (
        "Google Sign-In",
        "Log in with Google (optional)",
        "Confirms your Google account; we read only public profile data (name, picture).",
        "US",
    ),
    ("Sign in with Apple", "Log in with Apple (optional)", "Confirms your Apple ID.", "US"),
    (
        "Facebook Login",
        "Log in with Facebook (optional)",
        "Confirms your Facebook account; we read only public profile data.",
        "US",
    ),
    (
        "WeChat Login",
        "Log in with WeChat (optional)",
        "Confirms your WeChat account; we read only nickname, avatar and gender.",
        "CN",
    ),
    (
        "Object storage (S3-compatible)",
        "Storing photos, voice and video you upload",
        "The files you upload, encrypted in transit.",
        "",
    ),
]


def create(apps, schema_editor):
    Processor = apps.get_model("privacy", "Processor")
    for position, (name, purpose, data, country) in enumerate(PROCESSORS):
        Processor.objects.get_or_create(
            name=name,
            defaults={
                "purpose": purpose,
                "data_categories": data,
                "country": country,
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("privacy", "0003_requests_erasure_processors")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
