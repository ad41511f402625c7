"""Custom django-allauth providers (each sub-package is an installed app)."""
