"""Reads on policy documents and consents."""

from __future__ import annotations

import uuid as uuid_lib
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from meetnow.lib.errors import NotFoundError
from privacy.models import (
    REQUIRED_DOCUMENT_KINDS,
    Consent,
    PolicyDocument,
    PrivacyRequest,
    Processor,
    ProcessorBackend,
)


def documents_current() -> dict[str, PolicyDocument]:
    """The current (newest published) version of each document kind, keyed by kind."""
    current: dict[str, PolicyDocument] = {}
    published = PolicyDocument.objects.filter(published_at__isnull=False).order_by(
        "kind", "-published_at", "-id"
    )
    for document in published:
        current.setdefault(document.kind, document)
    return current


def documents_missing_consent(*, user_id: int) -> list[PolicyDocument]:
    """Current documents the user has not accepted yet (P1, P16 re-consent)."""
    current = documents_current()
    accepted = set(
        Consent.objects.filter(
            user_id=user_id, document_id__in=[d.pk for d in current.values()]
        ).values_list("document_id", flat=True)
    )
    return [
        d for kind in REQUIRED_DOCUMENT_KINDS if (d := current.get(kind)) and d.pk not in accepted
    ]


# --- Privacy requests and processors (issue 6) -------------------------------------------


def privacy_requests_of(*, user: User) -> QuerySet[PrivacyRequest]:
    """The user's own privacy requests (object-level permission: nobody else's)."""
    return PrivacyRequest.objects.filter(user=user)


def privacy_request_access(*, user: User, request_uuid: Any) -> PrivacyRequest:
    """One of the user's requests by its public id; not found for anyone else's."""
    try:
        parsed = uuid_lib.UUID(str(request_uuid))
    except ValueError:
        raise NotFoundError(_("No such privacy request.")) from None
    found = PrivacyRequest.objects.filter(user=user, uuid=parsed).first()
    if found is None:
        raise NotFoundError(_("No such privacy request."))
    return found


def processor_backends_configured() -> set[str]:
    """The processor backends the settings use now (``ProcessorBackend`` values)."""
    social = settings.SOCIALACCOUNT_PROVIDERS
    on = {
        ProcessorBackend.SMS_TWILIO: settings.SMS_BACKEND == "twilio",
        ProcessorBackend.SMS_HTTP: settings.SMS_BACKEND == "http",
        ProcessorBackend.STORAGE_S3: settings.STORAGE_BACKEND == "s3",
        ProcessorBackend.TURN: bool(settings.MEETNOW_TURN_URLS),
        ProcessorBackend.PUSH_FCM: settings.PUSH_BACKEND in {"fcm", "native"},
        ProcessorBackend.PUSH_APNS: settings.PUSH_BACKEND in {"apns", "native"},
        ProcessorBackend.IDENTITY_TENCENT: settings.IDENTITY_PROVIDER == "tencent",
        ProcessorBackend.LOGIN_GOOGLE: bool(social.get("google", {}).get("APPS")),
        ProcessorBackend.LOGIN_APPLE: bool(social.get("apple", {}).get("APPS")),
        ProcessorBackend.LOGIN_FACEBOOK: bool(social.get("facebook", {}).get("APPS")),
        ProcessorBackend.LOGIN_WECHAT: bool(social.get("wechat", {}).get("APPS")),
    }
    return {str(backend) for backend, used in on.items() if used}


def processors_public() -> QuerySet[Processor]:
    """Processors and SDKs shown to everyone (P9): those the configured backends send
    data to, and the rows staff list without a backend."""
    configured = processor_backends_configured()
    return (
        Processor.objects.filter(is_active=True)
        .filter(Q(backend="") | Q(backend__in=configured))
        .order_by("position", "name")
    )
