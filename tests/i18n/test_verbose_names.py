"""Every model and field the admin shows has a translatable name (issue 17).

A model's or field's name Django makes up from the code (``message hidden``) is
English in every language; the staff console in zh-Hans needs ``gettext_lazy``
names: ``verbose_name`` and ``verbose_name_plural`` in ``Meta``, ``verbose_name=``
on each field.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import override

APPS = ("accounts", "media", "chat", "dating", "support", "privacy", "staff")


def _ours() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m.__module__.split(".")[0] in APPS]


def test_every_model_has_translated_names() -> None:
    missing = [
        f"{m._meta.label}.{attr}"
        for m in _ours()
        for attr in ("verbose_name", "verbose_name_plural")
        if not isinstance(m._meta.original_attrs.get(attr), Promise)
    ]
    assert missing == []


def test_every_field_has_a_translated_name() -> None:
    missing = [
        f"{m._meta.label}.{f.name}"
        for m in _ours()
        for f in m._meta.get_fields(include_parents=False)
        if f.concrete
        and not f.auto_created
        and not f.primary_key
        and not isinstance(f.verbose_name, Promise)
        and getattr(f, "model", None) is m
    ]
    assert missing == []


def test_the_admin_names_read_in_chinese() -> None:
    from chat.models import Conversation
    from privacy.models import PrivacyRequest

    with override("zh-hans"):
        assert str(Conversation._meta.verbose_name_plural) == "会话"
        assert str(PrivacyRequest._meta.verbose_name_plural) == "隐私请求"
