"""The sign-up form allauth builds on (``ACCOUNT_SIGNUP_FORM_CLASS``): age and consent.

allauth derives both its phone and its social sign-up forms from this class, so every
sign-up carries the date of birth and the versions of the privacy policy and user
agreement the person accepted. Everything is checked before allauth saves anything:
under ``MEETNOW_MIN_AGE`` (P14) or without acceptance of the current versions (P1),
the form is invalid and no user row, phone number or log line is created.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.forms import SocialSignupPhoneOptional, StrictDateField
from accounts.models import User
from accounts.selectors import age_in_years
from meetnow.lib.outbox import task_send
from privacy.models import DocumentKind, PolicyDocument
from privacy.selectors import documents_current
from privacy.services import consent_record

VERSION_FIELDS = {
    DocumentKind.PRIVACY_POLICY: "privacy_policy_version",
    DocumentKind.USER_AGREEMENT: "user_agreement_version",
}


class SignupForm(SocialSignupPhoneOptional):
    date_of_birth = StrictDateField(
        required=True,
        error_messages={"required": "Your date of birth is required to sign up."},
    )
    privacy_policy_version = forms.CharField(required=False, max_length=20)
    user_agreement_version = forms.CharField(required=False, max_length=20)
    # Social sign-up only: make the provider's picture the profile photo (P3).
    use_provider_avatar = forms.BooleanField(required=False)

    def clean_date_of_birth(self) -> dt.date:
        born: dt.date = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born > today or born.year < 1900:
            raise ValidationError(_("Enter your real date of birth."), code="invalid")
        if age_in_years(date_of_birth=born, today=today) < settings.MEETNOW_MIN_AGE:
            raise ValidationError(
                _("You must be at least %(meetnow_min_age)s to use MeetNow.")
                % {"meetnow_min_age": settings.MEETNOW_MIN_AGE},
                code="underage",
            )
        return born

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        current = documents_current()
        accepted: list[PolicyDocument] = []
        for kind, field in VERSION_FIELDS.items():
            document = current.get(kind)
            if document is None:
                self.add_error(
                    field,
                    ValidationError(
                        _("Sign-up is closed until the policy documents are published."),
                        code="policy_unavailable",
                    ),
                )
            elif cleaned.get(field) != document.version:
                self.add_error(
                    field,
                    ValidationError(
                        _("Accept the current %(document)s (version %(version)s) to sign up.")
                        % {
                            "document": document.get_kind_display().lower(),
                            "version": document.version,
                        },
                        code="consent_required",
                    ),
                )
            else:
                accepted.append(document)
        cleaned["accepted_documents"] = accepted
        return cleaned

    def signup(self, request: HttpRequest, user: User) -> None:
        """Called by allauth right after the user row is saved: record the consents (P1)."""
        from allauth.account.adapter import get_adapter

        consent_record(
            user=user,
            documents=self.cleaned_data["accepted_documents"],
            ip_address=get_adapter(request).get_client_ip(request),
        )
        if self.cleaned_data.get("use_provider_avatar") and getattr(self, "sociallogin", None):
            # P3: the provider's picture only if the user chose it, through the media
            # pipeline (accounts/social_avatar.py), after the sign-up commits.
            from accounts.tasks import provider_avatar_fetch_task

            user_id = user.pk
            # Through the outbox (the task does nothing once there is an avatar).
            transaction.on_commit(lambda: task_send(provider_avatar_fetch_task, user_id=user_id))
