"""Helpers for the identity verification tests: ID numbers built independently of the code."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import User
from privacy.models import DocumentKind, PolicyDocument
from privacy.selectors import documents_current
from privacy.services import consent_record

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_char(body: str) -> str:
    """ISO 7064 MOD 11-2 as GB 11643 states it (weights 2^(i) mod 11, table 10X98765432)."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def make_id(region: str = "110105", birth: str = "19900307", seq: str = "123") -> str:
    body = region + birth + seq
    return body + check_char(body)


def years_ago(years: int, days: int = 0) -> str:
    today = timezone.localdate()
    return (today.replace(year=today.year - years) - dt.timedelta(days=days)).strftime("%Y%m%d")


def identity_consent(user: User) -> None:
    """The separate consent: the current identity notice accepted.

    The notice is published by a data migration; tests on a flushed database
    (transactional tests, e2e) publish it again.
    """
    notice = documents_current().get(DocumentKind.IDENTITY_NOTICE)
    if notice is None:
        notice, _ = PolicyDocument.objects.get_or_create(
            kind=DocumentKind.IDENTITY_NOTICE,
            version="1.0",
            defaults={"title": "Identity notice", "body": "…", "published_at": timezone.now()},
        )
    consent_record(user=user, documents=[notice], ip_address="203.0.113.9")
