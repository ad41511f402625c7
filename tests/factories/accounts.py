"""Factories for accounts models."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from factory.django import DjangoModelFactory

from accounts.models import Block, Device, User


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True  # the consent hook changes no field of the user

    phone = factory.declarations.Sequence(lambda n: f"+86139{n:08d}")
    phone_verified = True
    nickname = factory.declarations.Sequence(lambda n: f"user{n}")
    gender = "female"
    date_of_birth = dt.date(1995, 5, 17)
    password = factory.django.Password(None)

    @factory.post_generation  # type: ignore[untyped-decorator,attr-defined]
    def consented(self, create: bool, extracted: bool | None, **kwargs: object) -> None:
        """Consent to the current documents, as sign-up records it (P1); an account made
        outside sign-up (``consented=False``) has none and is gated after login."""
        if not create or extracted is False:
            return
        from privacy.models import REQUIRED_DOCUMENT_KINDS
        from privacy.selectors import documents_current
        from privacy.services import consent_record

        user: Any = self  # factory_boy passes the created User
        current = documents_current()
        required = [current[k] for k in REQUIRED_DOCUMENT_KINDS if k in current]
        consent_record(user=user, documents=required, ip_address=None)


class BlockFactory(DjangoModelFactory[Block]):
    class Meta:
        model = Block

    blocker = factory.declarations.SubFactory(UserFactory)
    blocked = factory.declarations.SubFactory(UserFactory)


class DeviceFactory(DjangoModelFactory[Device]):
    class Meta:
        model = Device

    user = factory.declarations.SubFactory(UserFactory)
    device_id = factory.declarations.Sequence(lambda n: f"device-{n}")
    platform = "ios"
    model = "iPhone15,2"
    os_version = "17.5"
    app_version = "1.0.0"
