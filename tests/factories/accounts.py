"""Factories for accounts models."""

from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from accounts.models import Block, Device, User


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User

    phone = factory.declarations.Sequence(lambda n: f"+86139{n:08d}")
    phone_verified = True
    nickname = factory.declarations.Sequence(lambda n: f"user{n}")
    gender = "female"
    date_of_birth = dt.date(1995, 5, 17)
    password = factory.django.Password(None)


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
